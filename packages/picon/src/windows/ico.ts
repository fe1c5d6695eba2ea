import { encodePng, isPng, pngSize } from '../util/png';

/**
 * RT_GROUP_ICON (GRPICONDIR: u16 reserved, u16 type = 1, u16 count, then 14-byte entries: u8 width,
 * u8 height (0 = 256), u8 colours, u8 reserved, u16 planes, u16 bit count, u32 bytes, u16 RT_ICON id)
 * and the RT_ICON images it names: PNG, or a DIB (BITMAPINFOHEADER, palette, XOR bitmap bottom-up,
 * then the 1-bit AND mask). Pure.
 */
export class IcoError extends Error {}

export interface GroupEntry {
  width: number;
  height: number;
  bitCount: number;
  iconId: number;
}

export function parseGroupIcon(data: Uint8Array): GroupEntry[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 6 || view.getUint16(2, true) !== 1) throw new IcoError('not an icon group');
  const count = view.getUint16(4, true);
  if (6 + count * 14 > data.length) throw new IcoError('icon group is truncated');
  const out: GroupEntry[] = [];
  for (let k = 0; k < count; k++) {
    const e = 6 + k * 14;
    out.push({
      width: data[e] || 256,
      height: data[e + 1] || 256,
      bitCount: view.getUint16(e + 6, true),
      iconId: view.getUint16(e + 12, true),
    });
  }
  return out;
}

/** The entry closest to `size`: the smallest at least that big (deepest colours first), else the biggest. */
export function pickEntry(entries: readonly GroupEntry[], size: number): GroupEntry | undefined {
  const sorted = [...entries].sort((a, b) => a.width - b.width || b.bitCount - a.bitCount);
  return (
    sorted.find((e) => e.width >= size) ??
    sorted.reduce<GroupEntry | undefined>((best, e) => (!best || e.width > best.width ? e : best), undefined)
  );
}

/** An RT_ICON image as PNG: PNG data as it is, a DIB converted (with the AND mask as alpha). */
export function iconImageToPng(data: Uint8Array): { png: Buffer; width: number; height: number } {
  if (isPng(data)) {
    const size = pngSize(data)!;
    return { png: Buffer.from(data), ...size };
  }
  const { width, height, rgba } = decodeDib(data);
  return { png: encodePng(rgba, width, height), width, height };
}

export function decodeDib(data: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 40) throw new IcoError('icon image too short');
  const headerSize = view.getUint32(0, true);
  const width = view.getInt32(4, true);
  const height = Math.abs(view.getInt32(8, true)) / 2; // XOR and AND bitmaps stacked
  const bitCount = view.getUint16(14, true);
  const compression = view.getUint32(16, true);
  const used = view.getUint32(32, true);
  if (
    headerSize < 40 ||
    width <= 0 ||
    width > 1024 ||
    height <= 0 ||
    height > 1024 ||
    !Number.isInteger(height)
  ) {
    throw new IcoError('bad icon bitmap size');
  }
  if (compression !== 0 || ![1, 4, 8, 24, 32].includes(bitCount))
    throw new IcoError(`unsupported bitmap (${bitCount} bpp, compression ${compression})`);
  const paletteCount = bitCount <= 8 ? used || 1 << bitCount : 0;
  const palette = headerSize;
  const xor = palette + paletteCount * 4;
  const xorStride = Math.ceil((width * bitCount) / 32) * 4;
  const and = xor + xorStride * height;
  const andStride = Math.ceil(width / 32) * 4;
  if (and + andStride * height > data.length && bitCount !== 32)
    throw new IcoError('icon bitmap is truncated');
  if (xor + xorStride * height > data.length) throw new IcoError('icon bitmap is truncated');
  const hasMask = and + andStride * height <= data.length;

  const rgba = new Uint8Array(width * height * 4);
  let anyAlpha = false;
  for (let y = 0; y < height; y++) {
    const row = xor + (height - 1 - y) * xorStride; // bottom-up
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      let b: number;
      let g: number;
      let r: number;
      let a = 255;
      if (bitCount === 32 || bitCount === 24) {
        const p = row + x * (bitCount / 8);
        b = data[p]!;
        g = data[p + 1]!;
        r = data[p + 2]!;
        if (bitCount === 32) {
          a = data[p + 3]!;
          if (a !== 0) anyAlpha = true;
        }
      } else {
        const bit = x * bitCount;
        const byte = data[row + (bit >> 3)]!;
        const index = (byte >> (8 - bitCount - (bit & 7))) & ((1 << bitCount) - 1);
        const p = palette + Math.min(index, paletteCount - 1) * 4;
        b = data[p]!;
        g = data[p + 1]!;
        r = data[p + 2]!;
      }
      rgba[o] = r;
      rgba[o + 1] = g;
      rgba[o + 2] = b;
      rgba[o + 3] = a;
    }
  }
  // The AND mask (1 = transparent) gives alpha unless a 32-bit image carries its own.
  if (hasMask && !(bitCount === 32 && anyAlpha)) {
    for (let y = 0; y < height; y++) {
      const row = and + (height - 1 - y) * andStride;
      for (let x = 0; x < width; x++) {
        const transparent = (data[row + (x >> 3)]! >> (7 - (x & 7))) & 1;
        rgba[(y * width + x) * 4 + 3] = transparent ? 0 : 255;
      }
    }
  }
  return { width, height, rgba };
}
