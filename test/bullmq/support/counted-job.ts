/**
 * The job the bullmq tests run with `weft run`: a map of `count` (its first argument)
 * `counted` tasks, each waiting WEFT_BULLMQ_TEST_MS (default 10) ms and logging its
 * execution to WEFT_BULLMQ_TEST_LOG; with WEFT_BULLMQ_TEST_GATE=`<item>:<file>`, the tasks
 * from that item on wait, once started, until the file exists; with
 * WEFT_BULLMQ_TEST_RECONNECT_MS, they run on a bullmq executor of the job's own that waits
 * that long for a Redis gone away. It prints the number of outputs and their digest:
 * equal digests, equal outputs.
 */
import { createHash } from 'node:crypto';
import { type Executor, type JobContext, map } from 'weftjs';
import { bullmq } from 'weftjs/bullmq';
import { counted, countedInputs, type Gate } from '../../fixtures/bullmq-counted.ts';

/** Tasks the job keeps in flight: jobs waiting in the queue or running on a worker. */
export const inFlight = 32;

export default async function main(ctx: JobContext): Promise<string> {
  // A bullmq executor of the job's own when the test shortens how long it waits for Redis.
  const reconnectTimeoutMs = Number(process.env.WEFT_BULLMQ_TEST_RECONNECT_MS ?? 0);
  const executor = reconnectTimeoutMs > 0 ? bullmq({ reconnectTimeoutMs }) : ctx.executor;
  try {
    return await countedDigest(Number(ctx.args[0] ?? 600), {
      log: process.env.WEFT_BULLMQ_TEST_LOG,
      ms: Number(process.env.WEFT_BULLMQ_TEST_MS ?? 10),
      gate: parseGate(process.env.WEFT_BULLMQ_TEST_GATE),
      signal: ctx.signal,
      executor,
    });
  } finally {
    if (executor !== ctx.executor) await executor.close();
  }
}

function parseGate(text: string | undefined): Gate | undefined {
  if (!text) return undefined;
  const colon = text.indexOf(':');
  return { from: Number(text.slice(0, colon)), file: text.slice(colon + 1) };
}

/** Options of {@link countedDigest}. */
export interface CountedDigestOptions {
  readonly log?: string | undefined;
  readonly ms?: number;
  readonly gate?: Gate | undefined;
  readonly signal?: AbortSignal;
  /** @default the default executor */
  readonly executor?: Executor;
}

/** The job's work: the map over `count` inputs, and the digest of its outputs. */
export async function countedDigest(
  count: number,
  { log, ms = 10, gate, signal, executor }: CountedDigestOptions = {},
): Promise<string> {
  const outputs = await map(countedInputs(count, log, ms, gate), counted, {
    concurrency: inFlight,
    ...(signal ? { signal } : {}),
    ...(executor ? { executor } : {}),
  });
  const digest = createHash('sha256').update(JSON.stringify(outputs)).digest('hex');
  return `${outputs.length} ${digest}`;
}
