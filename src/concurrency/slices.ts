/**
 * Work over many items in slices, giving the event loop back between them: a writer batch of a
 * thousand releases rendered in one go holds every HTTP request for tens of milliseconds, which
 * is the ingest path's tail latency.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `work` over `items`, `size` at a time, the event loop served between slices; results in order. */
export async function inSlices<T, R>(items: readonly T[], size: number, work: (slice: readonly T[]) => R[]): Promise<R[]> {
  if (items.length <= size) return work(items);
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    if (i > 0) await yieldToEventLoop();
    out.push(...work(items.slice(i, i + size)));
  }
  return out;
}
