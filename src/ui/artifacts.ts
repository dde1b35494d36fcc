/** A run's artifact keys, a page at a time, in the order of their text. */
import type { Store } from '../core/store.ts';
import type { ArtifactsPage } from './api-types.ts';
import { Heap } from './heap.ts';

/**
 * The first `limit` keys after `after` (in the order of their text) of the run's artifacts
 * under `prefix`. Stores list keys in no particular order, so every key is looked at,
 * keeping only the page's in memory.
 */
export async function artifactsPage(
  store: Store,
  runId: string,
  options: { readonly prefix?: string; readonly limit: number; readonly after?: string },
): Promise<ArtifactsPage & { readonly last?: string }> {
  const { limit, after } = options;
  // The largest kept comes out first: one more than the page, to know whether more follow.
  const kept = new Heap<string>((a, b) => a > b);
  for await (const key of store.artifactKeys(runId, options.prefix)) {
    if (after !== undefined && key <= after) continue;
    if (kept.size <= limit) kept.push(key);
    else if (key < kept.peek()!) {
      kept.pop();
      kept.push(key);
    }
  }
  const keys = kept.toArray().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (keys.length <= limit) return { keys };
  const page = keys.slice(0, limit);
  return { keys: page, last: page.at(-1)! };
}
