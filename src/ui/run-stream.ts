/**
 * `GET /api/runs/:id/events`: a run's stored events as server-sent events, then, while the
 * run goes, the events stored since and its progress, by polling the store; once the run
 * no longer goes, `end`. See ProgressMessage in api-types.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SSEStreamingApi } from 'hono/streaming';
import type { RunQueries, Store } from '../core/store.ts';
import type { EndMessage, ProgressMessage, RunStatusView } from './api-types.ts';
import { fanOutViews } from './fan-outs.ts';
import { queriesOf } from './queries.ts';
import { RunEvents } from './run-events.ts';
import { statusOf } from './run-status.ts';

/** What {@link streamRun} streams, and until when. */
export interface RunStreamOptions {
  readonly store: Store;
  readonly runId: string;
  /** The position of the last event the client has (`Last-Event-ID`): 0 for all. */
  readonly after: number;
  /** Ends the stream: the client went away, or the server closes. */
  readonly signal: AbortSignal;
  /**
   * How often the store is asked what changed while the run goes, in milliseconds.
   * @default 300
   */
  readonly pollMs?: number;
}

/** Events read from the store at a time. */
const eventsPerRead = 1_000;
/** Least time between two progress messages: at most twice a second. */
const progressEveryMs = 500;

/**
 * Streams the run's events and progress to `stream` until the run no longer goes (then
 * sends `end`) or `signal` is aborted. Stored events go as `event: weft` with their
 * position as id; a client that reconnects with `Last-Event-ID` gets those after it.
 */
export async function streamRun(stream: SSEStreamingApi, options: RunStreamOptions): Promise<void> {
  const { store, runId, after, signal } = options;
  const pollMs = options.pollMs ?? 300;
  const queries = queriesOf(store);
  // Every event is read, the client's too: the progress of fan-outs is built from them.
  const events = new RunEvents();
  let position = 0;
  let sent = '';
  let sentAt = Number.NEGATIVE_INFINITY;
  while (!signal.aborted) {
    // The status first: once a run no longer goes, every event it stored is there.
    const record = await store.getRun(runId);
    const status: RunStatusView = record ? statusOf(record) : 'stopped';
    for (;;) {
      const page = await queries.eventsAfter(runId, position, eventsPerRead);
      for (const { position: at, event } of page) {
        events.add(event);
        position = at;
        if (at <= after) continue;
        await stream.writeSSE({ event: 'weft', id: String(at), data: json(event) });
        if (signal.aborted) return;
      }
      if (page.length < eventsPerRead) break;
    }
    const going = status === 'running';
    const progress = json(await progressOf(queries, runId, status, events));
    if (progress !== sent) {
      const wait = sentAt + progressEveryMs - performance.now();
      // While the run goes a change waits for the next poll; the last one is always sent.
      if (!going && wait > 0) await pause(wait, signal);
      if (!going || wait <= 0) {
        await stream.writeSSE({ event: 'progress', data: progress });
        sent = progress;
        sentAt = performance.now();
      }
    }
    if (!going) {
      const end: EndMessage = { status };
      await stream.writeSSE({ event: 'end', data: json(end) });
      return;
    }
    await pause(pollMs, signal);
  }
}

/** The run's status, its task counts and those of each of its fan-outs. */
async function progressOf(
  queries: RunQueries,
  runId: string,
  status: RunStatusView,
  events: RunEvents,
): Promise<ProgressMessage> {
  const [counts, fanOuts] = await Promise.all([
    queries.countTasks([runId]),
    fanOutViews(queries, runId, events),
  ]);
  const tasks = counts.get(runId);
  return {
    status,
    tasks: { completed: tasks?.completed ?? 0, failed: tasks?.failed ?? 0 },
    fanOuts: fanOuts.map(({ scope, total, tasks, endedAt }) => ({
      scope,
      ...(total === undefined ? {} : { total }),
      tasks,
      ...(endedAt === undefined ? {} : { endedAt }),
    })),
  };
}

/** JSON of stored data; a BigInt (which JSON cannot hold) as its digits and `n`. */
function json(value: unknown): string {
  return JSON.stringify(value, (_, inner: unknown) =>
    typeof inner === 'bigint' ? `${inner}n` : inner,
  );
}

/** Resolves after `ms`, or at once when `signal` is aborted. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => {});
}
