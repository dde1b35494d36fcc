/**
 * The worker's side of the reply streams: every reply written in one tick goes to Redis
 * in one command (a script that XADDs each to its stream), so that many jobs finishing
 * together cost one round trip and little work. Progress and `started` replies are sent
 * and forgotten; an outcome's promise resolves once Redis has it, so that a job is never
 * marked finished in BullMQ before its outcome can be read.
 */
import type { Redis } from 'ioredis';
import { type Reply, replyFields, replyStreamTtlSeconds } from './job-wire.ts';

/** Whole-batch failures (the connection closed under it) before the replies are given up. */
const maxAttempts = 10;
const retryDelayMs = 500;

/**
 * KEYS: the streams. ARGV: the TTL, then pairs of (index of the stream in KEYS, reply).
 * Returns, per reply, '' or the error Redis gave for it (a key of another type), so that
 * one bad stream fails its own reply only.
 */
const writeReplies = `
local out = {}
for i = 2, #ARGV, 2 do
  local written = redis.pcall('XADD', KEYS[tonumber(ARGV[i])], '*', 'r', ARGV[i + 1])
  if type(written) == 'table' and written.err then out[#out + 1] = written.err else out[#out + 1] = '' end
end
for i = 1, #KEYS do redis.pcall('EXPIRE', KEYS[i], ARGV[1]) end
return out
`;

interface ScriptedRedis {
  weftWriteReplies(keys: number, ...args: (string | number)[]): Promise<string[]>;
}

interface Entry {
  readonly stream: string;
  readonly text: string;
  readonly done?: { resolve(): void; reject(error: unknown): void };
}

/** Options of a {@link ReplyWriter}. */
export interface ReplyWriterOptions {
  /** Hears of replies that could not be written (progress and `started` have no one else to tell). */
  readonly onProblem?: (error: Error) => void;
}

/** Batches replies into one command per tick on one connection; see the module comment. */
export class ReplyWriter {
  readonly #redis: Redis & ScriptedRedis;
  readonly #onProblem: (error: Error) => void;
  #pending: Entry[] = [];
  #scheduled = false;
  /** Batches sent and not answered yet, to wait for on close. */
  readonly #inFlight = new Set<Promise<void>>();
  #stopped = false;

  /** @param redis a connection of its own: the script is defined on it */
  constructor(redis: Redis, options: ReplyWriterOptions = {}) {
    redis.defineCommand('weftWriteReplies', { lua: writeReplies });
    this.#redis = redis as Redis & ScriptedRedis;
    this.#onProblem = options.onProblem ?? (() => {});
  }

  /**
   * Sends a reply that nobody waits for (progress, started).
   * @throws TypeError when the reply is not JSON (a BigInt in a progress report)
   */
  send(stream: string, reply: Reply): void {
    this.#push({ stream, text: replyFields(reply)[1] });
  }

  /** Writes a reply and resolves once Redis holds it. */
  write(stream: string, reply: Reply): Promise<void> {
    const text = replyFields(reply)[1];
    return new Promise((resolve, reject) => {
      this.#push({ stream, text, done: { resolve, reject } });
    });
  }

  /** Resolves once every reply given so far was written or given up. */
  async flush(): Promise<void> {
    while (this.#pending.length > 0 || this.#inFlight.size > 0) {
      if (this.#pending.length > 0) this.#send();
      await Promise.allSettled([...this.#inFlight]);
    }
  }

  /** Stops retrying: replies waiting for a retry fail at once. Used when the worker stops at once. */
  stop(): void {
    this.#stopped = true;
  }

  #push(entry: Entry): void {
    this.#pending.push(entry);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Once the work of this tick is done: the jobs it finished share one command, sent
    // before the event loop turns (a later send would keep each job waiting longer).
    process.nextTick(() => this.#send());
  }

  #send(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    const sending = this.#exec(batch, 1);
    this.#inFlight.add(sending);
    void sending.finally(() => this.#inFlight.delete(sending));
  }

  async #exec(batch: readonly Entry[], attempt: number): Promise<void> {
    const streams = new Map<string, number>();
    const args: (string | number)[] = [];
    for (const { stream, text } of batch) {
      let index = streams.get(stream);
      if (index === undefined) {
        index = streams.size + 1;
        streams.set(stream, index);
      }
      args.push(index, text);
    }
    let results: string[];
    try {
      results = await this.#redis.weftWriteReplies(
        streams.size,
        ...streams.keys(),
        replyStreamTtlSeconds,
        ...args,
      );
    } catch (error) {
      if (attempt < maxAttempts && !this.#stopped) {
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt));
        return this.#exec(batch, attempt + 1);
      }
      const failure = new Error(
        `Could not write ${batch.length} ${batch.length === 1 ? 'reply' : 'replies'} to Redis after ` +
          `${attempt} ${attempt === 1 ? 'try' : 'tries'}: ${(error as Error).message}`,
        { cause: error },
      );
      this.#onProblem(failure);
      for (const entry of batch) entry.done?.reject(failure);
      return;
    }
    batch.forEach((entry, i) => {
      const error = results[i];
      if (error === '') {
        entry.done?.resolve();
        return;
      }
      const failure = new Error(
        `Could not write a reply to stream ${entry.stream}: ${error ?? 'Redis gave no answer for it'}`,
      );
      if (entry.done) entry.done.reject(failure);
      else this.#onProblem(failure);
    });
  }
}
