/**
 * XPM (X PixMap, version 3): a C source file of strings: "width height ncolors chars_per_pixel",
 * then one string per colour ("<chars> c #rrggbb" or "c None"), then one per row of pixels.
 * Decoded to RGBA. Pure; throws XpmError on malformed input.
 */
export class XpmError extends Error {}

const NAMED: Record<string, number[]> = {
  black: [0, 0, 0],
  white: [255, 255, 255],
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
  cyan: [0, 255, 255],
  magenta: [255, 0, 255],
  gray: [190, 190, 190],
  grey: [190, 190, 190],
  darkgray: [169, 169, 169],
  darkgrey: [169, 169, 169],
  lightgray: [211, 211, 211],
  lightgrey: [211, 211, 211],
  orange: [255, 165, 0],
  brown: [165, 42, 42],
  navy: [0, 0, 128],
  gold: [255, 215, 0],
};

const MAX_PIXELS = 4096 * 4096;

export function decodeXpm(text: string): { width: number; height: number; rgba: Uint8Array } {
  const strings = [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
  const header = strings[0]?.trim().split(/\s+/).map(Number);
  if (!header || header.length < 4 || header.slice(0, 4).some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new XpmError('bad XPM header');
  }
  const [width, height, colours, cpp] = header as [number, number, number, number];
  if (width * height > MAX_PIXELS || cpp > 4) throw new XpmError('XPM too large');
  if (strings.length < 1 + colours + height) throw new XpmError('XPM is truncated');
  const palette = new Map<string, number[]>();
  for (let i = 1; i <= colours; i++) {
    const s = strings[i]!;
    const chars = s.slice(0, cpp);
    const words = s.slice(cpp).trim().split(/\s+/);
    // Keys: c (colour), m (mono), g, g4, s (symbolic); prefer c.
    let value: string | undefined;
    for (const key of ['c', 'g', 'g4', 'm']) {
      const at = words.indexOf(key);
      if (at >= 0 && at + 1 < words.length) {
        value = words
          .slice(at + 1)
          .join(' ')
          .split(/\s+(?:m|g|g4|s|c)\s+/)[0];
        break;
      }
    }
    palette.set(chars, parseColour(value ?? 'None'));
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row = strings[1 + colours + y]!;
    if (row.length < width * cpp) throw new XpmError(`XPM row ${y} is short`);
    for (let x = 0; x < width; x++) {
      const c = palette.get(row.slice(x * cpp, x * cpp + cpp));
      if (!c) throw new XpmError(`XPM pixel (${x}, ${y}) uses an undefined colour`);
      rgba.set(c, (y * width + x) * 4);
    }
  }
  return { width, height, rgba };
}

function parseColour(value: string): number[] {
  const v = value.trim().toLowerCase();
  if (v === 'none' || v === 'transparent') return [0, 0, 0, 0];
  if (v.startsWith('#')) {
    const hex = v.slice(1);
    const n = hex.length / 3;
    if (![1, 2, 4].includes(n) || !/^[0-9a-f]+$/.test(hex)) throw new XpmError(`bad XPM colour ${value}`);
    const channel = (i: number) => {
      const part = hex.slice(i * n, i * n + n);
      return Math.round((Number.parseInt(part, 16) / (16 ** n - 1)) * 255);
    };
    return [channel(0), channel(1), channel(2), 255];
  }
  const named = NAMED[v.replace(/\s+/g, '')];
  return named ? [...named, 255] : [128, 128, 128, 255]; // unknown X11 names: a neutral grey
}
