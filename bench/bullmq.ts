/**
 * The bullmq executor against BullMQ used directly, on the same Redis, in the same run:
 *   1. No-op jobs end to end: raw BullMQ (`Queue.addBulk` of N jobs, a worker process of
 *      concurrency 100 whose processor returns at once, and the producer learning of
 *      every completion through `QueueEvents` 'completed', the analogue of weft's result
 *      delivery) against weft's `map(items, noop, { executor: bullmq() })` with one
 *      `weft worker --concurrency 100` process (and the same map with every job in
 *      flight at once, as the peer has them). They take turns, several rounds, after a
 *      warm-up of each. Goal: weft ≥ 0.8× raw BullMQ's jobs/s.
 *   2. CPU-bound tasks (≈20 ms of pure computation each) on two `weft worker` processes
 *      against one. Goal ≥ 1.8×.
 *
 * Redis: WEFT_REDIS_URL, else redis://127.0.0.1:6379 (queues of its own, deleted at the
 * end). BENCH_BULLMQ_JOBS sets N (default 20,000).
 *
 * Run: node --conditions=weft-source --import tsx bench/bullmq.ts
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { map } from 'weftjs';
import { bullmq } from 'weftjs/bullmq';
import { burnTask, noop } from './bullmq/tasks.ts';
import { best, median, printTable } from './lib.ts';
import { burn } from './pool-libraries/cpu.mjs';

const url = process.env.WEFT_REDIS_URL ?? 'redis://127.0.0.1:6379';
const JOBS = Number(process.env.BENCH_BULLMQ_JOBS ?? 20_000);
const ROUNDS = 6;
const CPU_TASKS = 160;
const CPU_ROUNDS = 4;
const tag = `${process.pid}-${Date.now().toString(36)}`;
const queues = {
  raw: `weft-bench-raw-${tag}`,
  weft: `weft-bench-weft-${tag}`,
  cpu1: `weft-bench-cpu1-${tag}`,
  cpu2: `weft-bench-cpu2-${tag}`,
};
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const children: ChildProcess[] = [];

/** Starts a child process and resolves once it printed its first line (its start line). */
async function startChild(args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    let printed = '';
    const onData = (chunk: Buffer) => {
      printed += chunk.toString('utf8');
      if (!printed.includes('\n')) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolve();
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited (${code}) before starting`)),
    );
  });
  return child;
}

function weftWorker(queue: string, concurrency: number): Promise<ChildProcess> {
  return startChild([
    ...process.execArgv,
    cli,
    'worker',
    '--redis',
    url,
    '--queue',
    queue,
    '--concurrency',
    String(concurrency),
  ]);
}

async function stopChildren(): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

async function deleteQueue(redis: Redis, name: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `bull:${name}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

const items = Array.from({ length: JOBS }, (_, i) => i);
const check = (outputs: readonly unknown[]) => {
  if (outputs.length !== JOBS || outputs[JOBS - 1] !== JOBS - 1) throw new Error('wrong outputs');
};

const admin = new Redis(url, { maxRetriesPerRequest: 1 });
try {
  // 1. No-op jobs end to end.
  await Promise.all([
    startChild([
      fileURLToPath(new URL('./bullmq/raw-worker.mjs', import.meta.url)),
      url,
      queues.raw,
      '100',
    ]),
    weftWorker(queues.weft, 100),
  ]);
  const producer = new Redis(url, { maxRetriesPerRequest: null });
  // Room in the events stream for every event of a round, so that no completion is
  // trimmed away before QueueEvents reads it.
  const queue = new Queue(queues.raw, {
    connection: producer,
    streams: { events: { maxLen: JOBS * 10 } },
  });
  // The Queue writes that length to the queue's meta in the background, and adds that run
  // first trim the stream at BullMQ's default 10,000: QueueEvents then never sees some
  // completions and the round waits for good. Written before any add, it holds throughout.
  await producer.hset(queue.keys.meta!, 'opts.maxLenEvents', JOBS * 10);
  // From the stream's start (the queue is new): from '$', the default, the events written
  // before its first read would be missed.
  const listener = new Redis(url, { maxRetriesPerRequest: null });
  const queueEvents = new QueueEvents(queues.raw, { connection: listener, lastEventId: '0-0' });
  await queueEvents.waitUntilReady();
  const executor = bullmq({ connection: url, queue: queues.weft });

  const raw = async (): Promise<number> => {
    let completed = 0;
    const done = new Promise<void>((resolve) => {
      const onCompleted = () => {
        if (++completed < JOBS) return;
        queueEvents.off('completed', onCompleted);
        resolve();
      };
      queueEvents.on('completed', onCompleted);
    });
    const started = performance.now();
    const adds: Promise<unknown>[] = [];
    for (let i = 0; i < JOBS; i += 500) {
      const chunk = items.slice(i, i + 500);
      adds.push(
        queue.addBulk(
          chunk.map((n) => ({ name: 'noop', data: n, opts: { removeOnComplete: true } })),
        ),
      );
    }
    await Promise.all(adds);
    await done;
    return performance.now() - started;
  };
  const weft = async (concurrency?: number): Promise<number> => {
    const started = performance.now();
    check(await map(items, noop, { executor, ...(concurrency ? { concurrency } : {}) }));
    return performance.now() - started;
  };
  // The map keeps the executor's 1,024 jobs in flight by default; the peer adds every
  // job at once, which the last way does too.
  const sides = {
    raw: { label: 'BullMQ directly (addBulk, Worker, QueueEvents)', run: raw },
    weft: { label: 'weft map on bullmq(), weft worker', run: () => weft() },
    weftAll: { label: 'the same, every job in flight (concurrency N)', run: () => weft(JOBS) },
  };
  const order = Object.keys(sides) as (keyof typeof sides)[];

  for (const side of order) await sides[side].run();
  const times = Object.fromEntries(order.map((side) => [side, [] as number[]])) as Record<
    keyof typeof sides,
    number[]
  >;
  for (let round = 0; round < ROUNDS; round++) {
    // Each round starts with another, so that a slow moment of the machine falls on all alike.
    for (let i = 0; i < order.length; i++) {
      const side = order[(round + i) % order.length]!;
      times[side].push(await sides[side].run());
    }
  }
  await executor.close();
  await queueEvents.close();
  await queue.close();
  // Connections given to BullMQ stay open when it closes.
  listener.disconnect();
  producer.disconnect();

  const rate = (ms: number) => JOBS / (ms / 1000);
  console.log(
    `\n1. ${JOBS.toLocaleString('en-US')} no-op jobs end to end, one worker process of concurrency 100 ` +
      `(best and median of ${ROUNDS} rotating rounds; ${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(2)})\n`,
  );
  printTable(
    [
      'runner',
      'best ms',
      'median ms',
      'jobs/s (best)',
      'jobs/s (median)',
      'vs raw BullMQ (best / median)',
    ],
    order.map((side) => [
      sides[side].label,
      best(times[side]),
      median(times[side]),
      Math.round(rate(best(times[side]))),
      Math.round(rate(median(times[side]))),
      `${(best(times.raw) / best(times[side])).toFixed(2)}× / ${(median(times.raw) / median(times[side])).toFixed(2)}×`,
    ]),
  );

  // 2. CPU-bound tasks on one worker process and on two.
  let iterations = 1_000_000;
  for (;;) {
    const started = performance.now();
    burn(iterations);
    const ms = performance.now() - started;
    if (ms > 50) {
      iterations = Math.round((iterations * 20) / ms);
      break;
    }
    iterations *= 2;
  }
  const cpuInputs = Array.from({ length: CPU_TASKS }, () => iterations);
  // Two jobs at a time per process: one running, the next one ready when it ends.
  await Promise.all([
    weftWorker(queues.cpu1, 2),
    weftWorker(queues.cpu2, 2),
    weftWorker(queues.cpu2, 2),
  ]);
  const onOne = bullmq({ connection: url, queue: queues.cpu1 });
  const onTwo = bullmq({ connection: url, queue: queues.cpu2 });
  const cpu = async (executor: typeof onOne) => {
    const started = performance.now();
    await map(cpuInputs, burnTask, { executor });
    return performance.now() - started;
  };
  await cpu(onOne);
  await cpu(onTwo);
  const cpuTimes: Record<'one' | 'two', number[]> = { one: [], two: [] };
  for (let round = 0; round < CPU_ROUNDS; round++) {
    for (const side of round % 2 === 0 ? (['one', 'two'] as const) : (['two', 'one'] as const)) {
      cpuTimes[side].push(await cpu(side === 'one' ? onOne : onTwo));
    }
  }
  await onOne.close();
  await onTwo.close();
  console.log(
    `\n2. ${CPU_TASKS} tasks × ≈20 ms of computation on weft worker processes ` +
      `(best and median of ${CPU_ROUNDS} alternating rounds; load ${loadavg()[0]!.toFixed(2)})\n`,
  );
  printTable(
    ['workers', 'best ms', 'median ms', 'speed-up (best)', 'speed-up (median)'],
    (['one', 'two'] as const).map((side) => [
      side === 'one' ? '1 weft worker' : '2 weft workers',
      best(cpuTimes[side]),
      median(cpuTimes[side]),
      `${(best(cpuTimes.one) / best(cpuTimes[side])).toFixed(2)}×`,
      `${(median(cpuTimes.one) / median(cpuTimes[side])).toFixed(2)}×`,
    ]),
  );
} finally {
  await stopChildren();
  for (const name of Object.values(queues)) await deleteQueue(admin, name);
  admin.disconnect();
}
