import { isPng, pngSize } from '../util/png';

/**
 * Apple Icon Image files: "icns", u32 total length (big-endian), then entries of a 4-char type,
 * u32 length (header included) and data. The modern types (ic07-ic14, icp4-icp6) hold PNG (or
 * JPEG 2000, skipped); the old RLE bitmaps are skipped too. Pure.
 */
export class IcnsError extends Error {}

export interface IcnsImage {
  type: string;
  /** Pixel size of the PNG. */
  size: number;
  png: Uint8Array;
}

export function readIcnsPngs(data: Uint8Array): IcnsImage[] {
  if (data.length < 8 || Buffer.from(data.subarray(0, 4)).toString('latin1') !== 'icns') {
    throw new IcnsError('not an icns file');
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const total = Math.min(view.getUint32(4), data.length);
  const out: IcnsImage[] = [];
  for (let at = 8; at + 8 <= total; ) {
    const type = Buffer.from(data.subarray(at, at + 4)).toString('latin1');
    const length = view.getUint32(at + 4);
    if (length < 8 || at + length > total) throw new IcnsError(`entry ${type} runs past the file`);
    const body = data.subarray(at + 8, at + length);
    if (isPng(body)) out.push({ type, size: pngSize(body)!.width, png: body });
    at += length;
  }
  return out;
}

/** The image closest to `size`: the smallest at least that big, else the biggest. */
export function pickIcnsImage(images: readonly IcnsImage[], size: number): IcnsImage | undefined {
  const sorted = [...images].sort((a, b) => a.size - b.size);
  return sorted.find((i) => i.size >= size) ?? sorted.at(-1);
}
