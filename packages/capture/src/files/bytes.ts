/** Unsigned reads in either byte order straight from the bytes (no DataView per buffer). */
export function readU16(buf: Uint8Array, at: number, little: boolean): number {
  return little ? buf[at]! | (buf[at + 1]! << 8) : (buf[at]! << 8) | buf[at + 1]!;
}

export function readU32(buf: Uint8Array, at: number, little: boolean): number {
  return little
    ? (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0
    : ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}
