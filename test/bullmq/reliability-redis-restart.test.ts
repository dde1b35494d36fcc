/**
 * Redis stopped mid-run and started again a few seconds later, on a Redis of the test's
 * own: `weft run --executor bullmq` completes (its executor re-adds the jobs still
 * awaited once Redis is back, and holds new ones until then); `weft resume` then finds
 * it completed, and its output equals a local run's: nothing recorded was lost.
 * With a Redis that keeps nothing, killed (every job, reply and lock gone), and one with
 * an append-only file, stopped with SIGTERM (all of it kept); and a Redis gone for longer
 * than the executor waits for it (1.5 s here, in a job that sets its own executor), which
 * must fail the run with that error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { asyncPool } from 'weftjs';
import { freshQueue } from '../fixtures/services.ts';
import { root, startWeft, weft } from '../fixtures/weft-cli.ts';
import { countedDigest, inFlight } from './support/counted-job.ts';
import { countByKey, readExecutions, waitForExecutions } from './support/executions.ts';
import { type Persistence, startOwnRedis } from './support/own-redis.ts';
import { startWorkers } from './support/workers.ts';

const count = 400;
const job = join(root, 'test/bullmq/support/counted-job.ts');
const dir = mkdtempSync(join(tmpdir(), 'weft-bullmq-redis-'));
/** How long Redis stays down: a few seconds, well within the executor's 30 s of patience. */
const outageMs = 3_000;

describe('Redis stopped mid-run and started again', { timeout: 180_000, concurrency: 3 }, () => {
  const local = asyncPool({ concurrency: inFlight });
  after(() => local.close());
  let reference: Promise<string> | undefined;

  /** How Redis goes away: with which signal, and how long it stays away. */
  interface Outage {
    readonly persistence: Persistence;
    readonly signal: 'SIGKILL' | 'SIGTERM';
    /**
     * A few seconds, well within the executor's 30 s of patience; or `until the run
     * ended`, for an executor that waits 1.5 s only.
     */
    readonly down: 'a few seconds' | 'until the run ended';
  }

  async function outage(t: TestContext, label: string, { persistence, signal, down }: Outage) {
    reference ??= countedDigest(count, { ms: 0, executor: local });
    const redis = await startOwnRedis({ persistence });
    const queue = freshQueue(label, redis.url);
    const workers = await startWorkers(2, { queue, redis: redis.url, concurrency: 8 });
    const log = join(dir, `${label}.log`);
    const runId = `bullmq-redis-${label}`;
    const env = {
      WEFT_REDIS_URL: redis.url,
      WEFT_QUEUE: queue,
      WEFT_BULLMQ_TEST_LOG: log,
      WEFT_BULLMQ_TEST_MS: '20',
      WEFT_BULLMQ_TEST_RECONNECT_MS: down === 'until the run ended' ? '1500' : undefined,
      WEFT_EXECUTOR: undefined,
      WEFT_STORE: undefined,
    };
    const options = [
      '--store',
      `sqlite:${join(dir, `${label}.db`)}`,
      '--executor',
      'bullmq',
      '--no-progress',
    ];

    const run = startWeft(['run', job, String(count), '--run-id', runId, ...options], { env });
    await waitForExecutions(log, (executions) => executions.length >= 100, {
      stop: run.finished,
      what: '100 executions before Redis stops',
    });
    await redis.stop(signal);
    const stoppedAt = readExecutions(log).length;
    if (down === 'a few seconds') await sleep(outageMs);
    else await run.finished;
    await redis.start();
    t.diagnostic(`Redis (${persistence}) stopped with ${signal} after ${stoppedAt} executions`);

    const ended = await run.finished;
    const reached = readExecutions(log).length;
    // A few seconds are well within the executor's patience: the run goes on by itself.
    if (down === 'a few seconds') assert.equal(ended.code, 0, `the run failed:\n${ended.stderr}`);
    if (ended.code === 0) {
      assert.equal(ended.stdout.trim(), await reference, 'the run completed with every output');
      t.diagnostic(`the run completed by itself (${reached} executions)`);
    } else {
      assert.equal(ended.code, 1, ended.stderr);
      assert.match(
        ended.stderr,
        // The task's failure (TaskFailedError) or the executor's own, saying where Redis was.
        new RegExp(`^weft: \\w+Error: .*Redis at ${redis.url.replace(/[.]/g, '\\.')} `, 'm'),
      );
      t.diagnostic(ended.stderr.split('\n').find((line) => / \w+Error: /.test(line)) ?? '');
    }
    if (down === 'until the run ended') assert.equal(ended.code, 1, 'the run failed');

    const resumed = await weft(['resume', runId, ...options], { env });
    assert.equal(resumed.code, 0, `weft resume failed:\n${resumed.stderr}`);
    if (ended.code === 0) assert.match(resumed.stdout, /already completed/);
    else assert.equal(resumed.stdout.trim(), await reference, 'the resumed run has every output');

    const executions = readExecutions(log);
    assert.equal(countByKey(executions).size, count, 'every task ran');
    t.diagnostic(`${executions.length} executions in all`);
    // Stopped while their Redis is up, so that they stop at once (they would wait for it).
    await workers.stop();
  }

  it('a Redis that keeps nothing, killed for a few seconds', (t) =>
    outage(t, 'lost', { persistence: 'none', signal: 'SIGKILL', down: 'a few seconds' }));

  it('a Redis with an append-only file, stopped for a few seconds', (t) =>
    outage(t, 'kept', { persistence: 'aof', signal: 'SIGTERM', down: 'a few seconds' }));

  it('a Redis killed for longer than the executor waits: the run fails, resumed later', (t) =>
    outage(t, 'failed', { persistence: 'none', signal: 'SIGKILL', down: 'until the run ended' }));
});
