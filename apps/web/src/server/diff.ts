/**
 * The rows of `next` that are new or differ from `previous` (by their JSON), and the keys of
 * `previous` that are gone. Pure.
 */
export function diffRows<K, T>(
  previous: ReadonlyMap<K, string>,
  next: readonly T[],
  keyOf: (row: T) => K,
): { upsert: T[]; remove: K[]; state: Map<K, string> } {
  const state = new Map<K, string>();
  const upsert: T[] = [];
  for (const row of next) {
    const key = keyOf(row);
    const json = JSON.stringify(row);
    state.set(key, json);
    if (previous.get(key) !== json) upsert.push(row);
  }
  const remove: K[] = [];
  for (const key of previous.keys()) if (!state.has(key)) remove.push(key);
  return { upsert, remove, state };
}
