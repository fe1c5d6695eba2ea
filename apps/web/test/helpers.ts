export const isRoot = process.getuid?.() === 0;

export { startTraffic, type Traffic } from '../../../test-utils/start-traffic';

export async function waitFor<T>(get: () => Promise<T | undefined> | T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
