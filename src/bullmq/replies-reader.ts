/**
 * Reads the reply streams of one bullmq executor: its own stream (tasks outside a run)
 * and the stream of each run it works for. One blocking connection reads them all with
 * one XREAD, many replies at a time; a stream joining the read wakes the read in flight
 * with an entry on the executor's own stream, which the read always includes.
 *
 * What was consumed is trimmed a while later (a resumed run finds in its stream what
 * finished but was perhaps not recorded yet), and streams expire a week after their last
 * use, also when their orchestrator died; an executor's own stream is deleted on close.
 */
import type { Redis } from 'ioredis';
import { type Reply, readReply, replyStreamTtlSeconds } from './job-wire.ts';

/** One reply stream, and how far it was read. */
export interface ReplyStream {
  readonly key: string;
  /** A run's stream: read from its start, trimmed but not deleted, expiring. */
  readonly run: boolean;
  /** Id of the last entry read ('0' before any). */
  lastId: string;
  /** Entries read and not trimmed yet: `lastId` when the previous trim ran. */
  markedId: string | undefined;
  /** The last id trimmed up to. */
  trimmedId: string | undefined;
  /** Its expiry was set since it was first read (a worker's first reply creates it). */
  expiring: boolean;
  /** Invocations waiting for replies on it: a run's stream is read while some are. */
  waiting: number;
}

/** What the reader hands each reply to. */
export type ReplyHandler = (stream: ReplyStream, reply: Reply) => void;

/** Entries per XREAD: enough that one read serves a burst of thousands of outcomes. */
const readCount = 2000;
/** How long one read blocks before it starts again (a safety net: reads are woken). */
const blockMs = 10_000;
/** How often consumed replies are trimmed: what was read before the previous tick goes. */
const trimEveryMs = 5_000;
/** Dropped run streams remembered, to read on from their last id when opened again. */
const maxDropped = 10_000;
/** The field of the entries that wake the read: not a reply, skipped by readReply. */
const wakeField = 'wake';

/** Reads the reply streams of one executor and hands their replies on, in order. */
export class RepliesReader {
  readonly own: ReplyStream;
  readonly #blocking: Redis;
  readonly #command: Redis;
  readonly #onReply: ReplyHandler;
  readonly #runs = new Map<string, ReplyStream>();
  /**
   * Run streams dropped from {@link #runs} once nothing waited on them and what was read
   * was trimmed (an executor serving run after run would keep them all), by key: opened
   * again, one is read on from its last id. The oldest are forgotten past a bound.
   */
  readonly #dropped = new Map<string, ReplyStream>();
  /** Run streams being opened (their backlog read), by key. */
  readonly #opening = new Map<string, Promise<ReplyStream>>();
  /** Streams the read in flight covers: a stream outside it needs a wake. */
  #reading = new Set<ReplyStream>();
  /** A wake was sent since the read in flight started: one is enough. */
  #woken = false;
  #closed = false;
  readonly #trimTimer: NodeJS.Timeout;
  /** Waiters for the read to pass an id on a stream (see {@link caughtUp}). */
  #onRead: (() => void)[] = [];
  readonly #loop: Promise<void>;
  /** Resolves on close: the read loop stops without waiting for a read that may never answer. */
  readonly #stopped: Promise<null>;
  #stop: () => void = () => {};

  constructor(blocking: Redis, command: Redis, ownKey: string, onReply: ReplyHandler) {
    this.#blocking = blocking;
    this.#command = command;
    this.#onReply = onReply;
    this.own = newStream(ownKey, false);
    this.#trimTimer = setInterval(() => this.#trim(), trimEveryMs);
    this.#trimTimer.unref();
    this.#stopped = new Promise((resolve) => {
      this.#stop = () => resolve(null);
    });
    this.#loop = this.#read();
  }

  /**
   * The stream of run `key`, once what it holds already (replies that came while no
   * orchestrator read it: a resumed run) was read and handed on.
   */
  openRun(key: string): Promise<ReplyStream> {
    const known = this.#runs.get(key);
    if (known) return Promise.resolve(known);
    let opening = this.#opening.get(key);
    if (!opening) {
      const dropped = this.#dropped.get(key);
      this.#dropped.delete(key);
      opening = this.#readBacklog(dropped ?? newStream(key, true)).finally(() =>
        this.#opening.delete(key),
      );
      this.#opening.set(key, opening);
    }
    return opening;
  }

  /** Counts an invocation waiting on `stream`, waking the read if it did not cover it. */
  follow(stream: ReplyStream): void {
    // Dropped between its opening and this follow (the invocation's input was being
    // stored): it is read again, on from where it was.
    if (stream.run && !this.#runs.has(stream.key)) {
      this.#dropped.delete(stream.key);
      this.#runs.set(stream.key, stream);
    }
    stream.waiting++;
    if (!this.#reading.has(stream) && !this.#woken) this.wake();
  }

  /** Uncounts an invocation waiting on `stream`. */
  unfollow(stream: ReplyStream): void {
    stream.waiting--;
  }

  /** Makes the read in flight return, so that the next one covers every stream followed. */
  wake(): void {
    if (this.#closed) return;
    this.#woken = true;
    this.#command.xadd(this.own.key, '*', wakeField, '1').catch(() => {});
  }

  /**
   * Resolves once every followed stream was read up to its last entry as of now, or
   * after `timeoutMs`: after a reconnection, replies that came meanwhile are handed on
   * before the jobs still awaited are added again.
   */
  async caughtUp(timeoutMs: number): Promise<void> {
    const streams = this.#followed();
    const pipeline = this.#command.pipeline();
    for (const stream of streams) pipeline.xrevrange(stream.key, '+', '-', 'COUNT', 1);
    const ends = (await pipeline.exec()) ?? [];
    const targets = streams.flatMap((stream, i) => {
      const [error, entries] = ends[i] ?? [];
      const last = (entries as [string, string[]][] | undefined)?.[0]?.[0];
      return error || last === undefined ? [] : [{ stream, last }];
    });
    const deadline = Date.now() + timeoutMs;
    while (
      !this.#closed &&
      Date.now() < deadline &&
      targets.some(({ stream, last }) => compareIds(stream.lastId, last) < 0)
    ) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#onRead.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Stops reading; trims what was read of run streams and deletes the own stream.
   * Resolves once the read loop ended (the caller closes the blocking connection first).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop();
    clearInterval(this.#trimTimer);
    for (const resolve of this.#onRead.splice(0)) resolve();
    const pipeline = this.#command.pipeline();
    // Only what was read before the previous tick, as the periodic trims do: a run resumed
    // at once finds the rest (a failure or cancel of a job perhaps still active).
    for (const stream of this.#runs.values()) {
      const marked = stream.markedId;
      if (marked !== undefined && marked !== stream.trimmedId) {
        pipeline.xtrim(stream.key, 'MINID', nextId(marked));
      }
    }
    pipeline.del(this.own.key);
    await pipeline.exec().catch(() => {});
  }

  /** Resolves once the read loop ended. */
  ended(): Promise<void> {
    return this.#loop;
  }

  async #readBacklog(stream: ReplyStream): Promise<ReplyStream> {
    const { key } = stream;
    for (;;) {
      const result = (await this.#command.xread(
        'COUNT',
        readCount,
        'STREAMS',
        key,
        stream.lastId,
      )) as XreadResult;
      const entries = result?.[0]?.[1] ?? [];
      this.#deliver(stream, entries);
      if (entries.length < readCount) break;
    }
    this.#runs.set(key, stream);
    return stream;
  }

  #followed(): ReplyStream[] {
    const streams = [this.own];
    for (const stream of this.#runs.values()) if (stream.waiting > 0) streams.push(stream);
    return streams;
  }

  async #read(): Promise<void> {
    while (!this.#closed) {
      const streams = this.#followed();
      this.#reading = new Set(streams);
      this.#woken = false;
      let result: XreadResult;
      try {
        const reading = this.#blocking.xread(
          'COUNT',
          readCount,
          'BLOCK',
          blockMs,
          'STREAMS',
          ...streams.map((stream) => stream.key),
          ...streams.map((stream) => stream.lastId),
        ) as Promise<XreadResult>;
        // A read waiting for a Redis out of reach may never answer, even once its
        // connection is closed: the loop does not wait for it after close().
        reading.catch(() => {});
        result = await Promise.race([reading, this.#stopped]);
      } catch {
        // The connection closed (close(), or Redis went away: ioredis reconnects and the
        // session fails what waits too long). Try again shortly.
        if (this.#closed) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (this.#closed) break;
      for (const [key, entries] of result ?? []) {
        const stream = key === this.own.key ? this.own : this.#runs.get(key);
        if (stream) this.#deliver(stream, entries);
      }
      const waiters = this.#onRead.splice(0);
      for (const resolve of waiters) resolve();
    }
    this.#reading = new Set();
  }

  #deliver(stream: ReplyStream, entries: readonly [string, string[]][]): void {
    if (entries.length === 0) return;
    stream.lastId = entries[entries.length - 1]![0];
    if (!stream.expiring) {
      // Also when this process dies before trimming it, the stream goes in the end.
      stream.expiring = true;
      this.#command.expire(stream.key, replyStreamTtlSeconds).catch(() => {});
    }
    for (const [, fields] of entries) {
      const reply = readReply(fields);
      if (!reply) continue;
      try {
        this.#onReply(stream, reply);
      } catch {
        // A reply this executor cannot act on (not written by a weft worker) must not
        // stop the reading of the others.
      }
    }
  }

  /** Trims what was read before the previous tick (see the module's comment). */
  #trim(): void {
    if (this.#closed) return;
    const pipeline = this.#command.pipeline();
    let commands = 0;
    for (const stream of [this.own, ...this.#runs.values()]) {
      const marked = stream.markedId;
      stream.markedId = stream.lastId === '0' ? undefined : stream.lastId;
      if (marked === undefined || marked === stream.trimmedId) continue;
      stream.trimmedId = marked;
      pipeline.xtrim(stream.key, 'MINID', nextId(marked));
      pipeline.expire(stream.key, replyStreamTtlSeconds);
      commands += 2;
    }
    if (commands > 0) pipeline.exec().catch(() => {});
    for (const stream of this.#runs.values()) {
      if (stream.waiting === 0 && (stream.lastId === '0' || stream.trimmedId === stream.lastId)) {
        this.#drop(stream);
      }
    }
  }

  /** Forgets run stream `stream` (see {@link #dropped}). */
  #drop(stream: ReplyStream): void {
    this.#runs.delete(stream.key);
    // Read on from its last id when opened again; one never read is opened anew.
    if (stream.lastId === '0') return;
    this.#dropped.set(stream.key, stream);
    if (this.#dropped.size > maxDropped) {
      this.#dropped.delete(this.#dropped.keys().next().value!);
    }
  }
}

type XreadResult = [key: string, entries: [id: string, fields: string[]][]][] | null;

function newStream(key: string, run: boolean): ReplyStream {
  return {
    key,
    run,
    lastId: '0',
    markedId: undefined,
    trimmedId: undefined,
    expiring: false,
    waiting: 0,
  };
}

/** The smallest entry id after `id` (`ms-seq`), for XTRIM MINID to drop `id` itself. */
function nextId(id: string): string {
  const dash = id.indexOf('-');
  return `${id.slice(0, dash)}-${BigInt(id.slice(dash + 1)) + 1n}`;
}

/** Orders two stream entry ids. */
function compareIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}
