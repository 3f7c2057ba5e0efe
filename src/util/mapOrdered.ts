/**
 * Map over items with at most `concurrency` promises in flight, results in input order.
 * sharp does its work on libuv threads, so a few jobs in flight keep both cores busy
 * while the output order (and so the bytes written) stays fixed.
 */
export async function mapOrdered<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
