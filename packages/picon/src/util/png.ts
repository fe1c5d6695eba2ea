import { PNG } from 'pngjs';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function isPng(data: Uint8Array): boolean {
  return data.length >= 24 && Buffer.from(data.buffer, data.byteOffset, 8).equals(SIGNATURE);
}

/** Width and height from a PNG's IHDR, or undefined when it is not a PNG. */
export function pngSize(data: Uint8Array): { width: number; height: number } | undefined {
  if (!isPng(data)) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Encodes RGBA pixels (row-major, 4 bytes per pixel) as PNG, through pngjs. */
export function encodePng(rgba: Uint8Array, width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png);
}
