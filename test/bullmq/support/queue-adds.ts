/**
 * How many times each job of a BullMQ queue was added, read from the queue's own Redis
 * keys. BullMQ's add script, for every job given to add or addBulk, increments the
 * queue's `id` key and then either stores a new job and writes an `added` event to the
 * queue's events stream, or finds a job with that id already and writes a `duplicated`
 * event instead. So, when the stream was never trimmed (the entries it ever received
 * equal the entries it holds), its `added` events are every job made, and `added` plus
 * `duplicated` must equal the `id` counter: the two accounts check each other.
 */
import { Redis } from 'ioredis';

/** What {@link readQueueAdds} found. */
export interface QueueAdds {
  /** Job id → how many times a job of that id was made. */
  readonly added: ReadonlyMap<string, number>;
  /** Adds that found their job already there (BullMQ ignored them). */
  readonly duplicated: number;
  /** The queue's `id` counter: every add, made or ignored. */
  readonly addCalls: number;
  /** True when the events stream lost no entry to trimming. */
  readonly complete: boolean;
}

/** Reads the adds of queue `queue` (prefix `bull`) on the Redis at `url`. */
export async function readQueueAdds(
  url: string,
  queue: string,
  prefix = 'bull',
): Promise<QueueAdds> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const stream = `${prefix}:${queue}:events`;
    const info = (await redis.call('XINFO', 'STREAM', stream)) as unknown[];
    const field = (name: string) => Number(info[info.indexOf(name) + 1]);
    const added = new Map<string, number>();
    let duplicated = 0;
    let start = '-';
    for (;;) {
      const entries = await redis.xrange(stream, start, '+', 'COUNT', 1000);
      for (const [, fields] of entries) {
        const event = fieldOf(fields, 'event');
        const jobId = fieldOf(fields, 'jobId');
        if (event === 'added' && jobId !== undefined) added.set(jobId, (added.get(jobId) ?? 0) + 1);
        if (event === 'duplicated') duplicated++;
      }
      if (entries.length < 1000) break;
      start = `(${entries.at(-1)![0]}`;
    }
    return {
      added,
      duplicated,
      addCalls: Number((await redis.get(`${prefix}:${queue}:id`)) ?? 0),
      complete: field('entries-added') === field('length'),
    };
  } finally {
    redis.disconnect();
  }
}

function fieldOf(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** How many `added`, `duplicated` and `completed` events a queue's stream holds. */
export interface EventCounts {
  readonly added: number;
  readonly duplicated: number;
  readonly completed: number;
}

/**
 * Resolves once `until` holds for the counts of the queue's events, read by BullMQ's
 * QueueEvents from the stream's start (so that none written before it listens is missed);
 * rejects after `timeoutMs`, or when `stop` settles first.
 */
export async function whenQueueEvents(
  url: string,
  queue: string,
  until: (counts: EventCounts) => boolean,
  { what, stop, timeoutMs = 30_000 }: { what: string; stop?: Promise<unknown>; timeoutMs?: number },
): Promise<EventCounts> {
  const { QueueEvents } = await import('bullmq');
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const events = new QueueEvents(queue, { connection, lastEventId: '0-0' });
  const counts = { added: 0, duplicated: 0, completed: 0 };
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      for (const event of ['added', 'duplicated', 'completed'] as const) {
        events.on(event, () => {
          counts[event]++;
          if (until(counts)) resolve();
        });
      }
      timer = setTimeout(
        () =>
          reject(new Error(`${what}: not seen within ${timeoutMs} ms (${JSON.stringify(counts)})`)),
        timeoutMs,
      );
      void stop?.finally(() =>
        reject(new Error(`${what}: not seen before the process ended (${JSON.stringify(counts)})`)),
      );
    });
    return { ...counts };
  } finally {
    clearTimeout(timer);
    await events.close();
    connection.disconnect();
  }
}
