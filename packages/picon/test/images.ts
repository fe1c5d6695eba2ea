import { PNG } from 'pngjs';

/** A size x size PNG of one colour, encoded by pngjs. */
export function solidPng(size: number, rgba: [number, number, number, number] = [200, 30, 30, 255]): Buffer {
  const png = new PNG({ width: size, height: size });
  for (let i = 0; i < size * size; i++) png.data.set(rgba, i * 4);
  return PNG.sync.write(png);
}

export function decodePng(data: Buffer): {
  width: number;
  height: number;
  pixel(x: number, y: number): number[];
} {
  const png = PNG.sync.read(data);
  return {
    width: png.width,
    height: png.height,
    pixel: (x, y) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 4)],
  };
}
