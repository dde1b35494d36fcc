/**
 * What `weft ui` asks of a run store. A store with fast queries for viewers
 * (`store.queries`, filtered and paged `listRuns`) answers them itself; any other store
 * answers the same questions by streaming all of a run's tasks and events
 * ({@link StreamedQueries}): correct, and slower for large runs.
 */
import type {
  RunCursor,
  RunQueries,
  RunRecord,
  RunStatus,
  Store,
  TaskRecord,
} from '../core/store.ts';
import type { RunStatusView } from './api-types.ts';
import { statusOf } from './run-status.ts';
import { runMatcher, StreamedQueries } from './streamed-queries.ts';

const streamed = new WeakMap<Store, StreamedQueries>();

/** The queries a viewer asks of `store`: its own, else the same answers computed by streaming. */
export function queriesOf(store: Store): RunQueries {
  if (store.queries) return store.queries;
  let queries = streamed.get(store);
  if (!queries) {
    queries = new StreamedQueries(store);
    streamed.set(store, queries);
  }
  return queries;
}

/**
 * The run's task records (those under `keyPrefix`), in the order recorded, a page of the
 * store's largest (1,000) at a time.
 */
export async function* taskPages(
  queries: RunQueries,
  runId: string,
  keyPrefix?: string,
): AsyncGenerator<readonly TaskRecord[]> {
  let after: number | undefined;
  do {
    const page = await queries.taskPage(runId, {
      limit: 1_000,
      ...(keyPrefix === undefined ? {} : { keyPrefix }),
      ...(after === undefined ? {} : { after }),
    });
    yield page.tasks;
    after = page.next;
  } while (after !== undefined);
}

/** Which runs to list: see {@link pageRuns}. */
export interface RunsFilter {
  /** Only runs with this status, as people see it (`stopped`: running, its owner gone). */
  readonly status?: RunStatusView;
  /** Only runs whose id or meta holds this text (ignoring case, taken literally). */
  readonly search?: string;
  readonly limit: number;
  /** Only runs after this one, newest first: the `next` of the page before. */
  readonly after?: RunCursor;
}

/** A page of runs, newest first. */
export interface RunsPageRecords {
  readonly runs: readonly RunRecord[];
  /** Runs matching the filter. */
  readonly total: number;
  /** Where the next page starts; absent on the last. */
  readonly next?: RunCursor;
}

/**
 * A page of the runs of `store` that pass `filter`, newest first, and how many pass it.
 * Running and stopped runs are both recorded as running (whether the owner lives is
 * judged here), so they are listed from all the recorded running runs, which are few.
 */
export async function pageRuns(store: Store, filter: RunsFilter): Promise<RunsPageRecords> {
  const { status, limit } = filter;
  const search = filter.search === '' ? undefined : filter.search;
  const recorded: RunStatus | undefined = status === 'stopped' ? 'running' : status;
  const options = {
    ...(recorded === undefined ? {} : { status: recorded }),
    ...(search === undefined ? {} : { search }),
  };
  const fast = store.queries !== undefined && status !== 'running' && status !== 'stopped';
  if (fast) {
    const [page, total] = await Promise.all([
      store.listRuns({
        ...options,
        limit: limit + 1,
        ...(filter.after === undefined ? {} : { before: filter.after }),
      }),
      store.queries!.countRuns(options),
    ]);
    return pageOf(page.slice(0, limit), total, page.length > limit);
  }
  // Every run matching is read and paged here: the store has no fast count, or the
  // status asked is judged by the lease.
  const all = await store.listRuns({ ...options, limit: Number.MAX_SAFE_INTEGER });
  const now = Date.now();
  // A store with queries has filtered the list already.
  const matches = store.queries === undefined ? runMatcher(options) : () => true;
  const matching = all.filter(
    (run) => matches(run) && (status === undefined || statusOf(run, now) === status),
  );
  const from = filter.after === undefined ? 0 : startAfter(matching, filter.after);
  const runs = matching.slice(from, from + limit);
  return pageOf(runs, matching.length, from + limit < matching.length);
}

function pageOf(runs: readonly RunRecord[], total: number, more: boolean): RunsPageRecords {
  const last = runs.at(-1);
  return more && last
    ? { runs, total, next: { createdAt: last.createdAt, id: last.id } }
    : { runs, total };
}

/** Where the runs after `cursor` start in `runs` (newest first). */
function startAfter(runs: readonly RunRecord[], cursor: RunCursor): number {
  const at = runs.findIndex((run) => run.id === cursor.id && run.createdAt === cursor.createdAt);
  if (at !== -1) return at + 1;
  // The run of the cursor is gone: go on with the older ones.
  const older = runs.findIndex((run) => run.createdAt < cursor.createdAt);
  return older === -1 ? runs.length : older;
}
