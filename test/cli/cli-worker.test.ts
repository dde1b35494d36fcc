/**
 * `weft worker` as a real child process: its start line and its lines of what it did;
 * jobs added with BullMQ's Queue run (a missing module, a timeout with nobody waiting, a
 * cancel, hostile data each failing alone); SIGTERM drains (the job in flight finishes
 * and its outcome is written, no new job is taken) and exits 0; a second Ctrl-C stops it
 * at once with 130; an unreachable Redis ends it with the error and 1 within seconds.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOwnRedis } from '../bullmq/support/own-redis.ts';
import { progressOf, TestQueue, testQueue } from '../bullmq/support/worker-queue.ts';
import * as tasks from '../bullmq/support/worker-tasks.ts';
import {
  workerEnv as env,
  startWorkerProcess,
  type WorkerProcess,
} from '../bullmq/support/workers.ts';
import { freshQueue, redisUrl } from '../fixtures/services.ts';
import { spawnOnTerminal } from '../fixtures/terminal.ts';
import { root, weft } from '../fixtures/weft-cli.ts';

const projectRoot = root.replace(/\/$/, '');
/** Where the guarded module would log top-level work it ran. */
const guardLog = join(mkdtempSync(join(tmpdir(), 'weft-cli-worker-')), 'guard.log');

/** Starts `weft worker` on `queue` and resolves once it printed its start line. */
function startWorker(
  queue: TestQueue,
  args: readonly string[] = [],
  extraEnv: Readonly<Record<string, string>> = {},
  url = redisUrl,
): Promise<WorkerProcess> {
  return startWorkerProcess({ queue: queue.name, redis: url, args, env: extraEnv });
}

describe('weft worker', () => {
  describe('a running worker', () => {
    const queue = testQueue('cliw');
    let worker: WorkerProcess;
    before(async () => {
      worker = await startWorker(queue, ['--concurrency', '4', '--report-every', '0.2'], {
        WEFT_TEST_GUARD_LOG: guardLog,
      });
    });
    after(() => {
      worker?.child.kill('SIGKILL');
    });

    it('prints one start line: queue, Redis, executor, concurrency and project root', () => {
      const [first] = worker.stdout().split('\n');
      assert.equal(
        first,
        `weft worker: queue ${queue.name} at ${redisUrl} · asyncPool · 4 jobs at once · project ${projectRoot}`,
      );
    });

    it('runs jobs, and prints what it did', async () => {
      const ids = await queue.add(
        { task: tasks.double, input: 1 },
        { task: tasks.sleeps, input: 400 },
      );
      for (const id of ids) await queue.outcome(id);
      await worker.printed('2 completed · 0 failed');
      assert.match(
        worker.stdout(),
        /weft worker: \d+ completed · \d+ failed · \d+ running · [\d.,]+ jobs\/s\n/,
      );
    });

    it('fails a job whose module is missing, naming the module and the project root, and runs the next', async () => {
      const module = './test/bullmq/support/no-such-module.ts';
      const [missing, next] = await queue.add(
        { task: { name: 'cli-test:gone', module } },
        { task: tasks.double, input: 21 },
      );
      const { error } = await queue.outcome(missing!);
      assert.equal(error?.code, 'WEFT_UNKNOWN_TASK');
      assert.match(error!.message, /'cli-test:gone'/);
      assert.ok(error!.message.includes(module) && error!.message.includes(projectRoot));
      assert.equal(queue.valueOf(await queue.outcome(next!)), 42);
    });

    it('is a worker: isWorker() is true in its tasks, and top-level work guarded by it does not run', async () => {
      const [id] = await queue.add({
        task: { name: 'cli-test:whereAmI', module: './test/bullmq/support/guarded-module.ts' },
      });
      assert.deepEqual(queue.valueOf(await queue.outcome(id!)), { inWorker: true });
      assert.equal(existsSync(guardLog), false, 'the guarded top-level work did not run');
    });

    it('times a task out with nobody waiting for it, even if it ignores its signal', async () => {
      const [id] = await queue.add({ task: tasks.ignoresTimeout });
      const outcome = await queue.outcome(id!);
      assert.equal(outcome.error?.code, 'WEFT_TIMEOUT');
      assert.match(await queue.failedReason(id!), /timed out after 200 ms/);
    });

    it('aborts a running task when a cancel message names its job', async () => {
      const [id] = await queue.add({ task: tasks.untilAborted });
      await queue.reply('the job started', progressOf(id!, 'started'));
      await queue.cancel([id!], 'cancelled by the test');
      assert.equal((await queue.outcome(id!)).error?.message, 'cancelled by the test');
      await queue.reply('the aborted progress', progressOf(id!, 'aborted: cancelled by the test'));
    });

    it('fails hostile job data with a clear message and goes on', async () => {
      const data = queue.dataOf({ task: tasks.double, input: 1 });
      const hostile = [
        { nothing: 'of weft' },
        { ...data, v: 99 },
        JSON.parse(`{"__proto__": ${JSON.stringify(data)}}`) as unknown,
        { ...data, task: 'x\0y', module: './\0' },
      ];
      for (const job of hostile) {
        const id = await queue.addRaw(job);
        assert.match(
          await queue.failedReason(id),
          /not added by a weft bullmq executor|wire version 99|'x\0y'/,
        );
      }
      const [next] = await queue.add({ task: tasks.double, input: 8 });
      assert.equal(queue.valueOf(await queue.outcome(next!)), 16);
    });
  });

  it('drains on SIGTERM: the job in flight finishes and its outcome is written, no new job is taken, exit 0', async () => {
    const queue = testQueue('clidrain');
    const worker = await startWorker(queue);
    // The job in flight waits for the test, so it is still running when the signal lands.
    const gate = join(mkdtempSync(join(tmpdir(), 'weft-cli-drain-')), 'go');
    const [inFlight] = await queue.add({ task: tasks.waitsForFile, input: { gate, value: 500 } });
    await queue.reply('the job started', progressOf(inFlight!, 'started'));
    worker.child.kill('SIGTERM');
    await worker.printed('stopping: no new jobs; finishing 1 job in flight');
    const [late] = await queue.add({ task: tasks.double, input: 1 });
    writeFileSync(gate, '');
    const end = await worker.finished;
    assert.equal(end.code, 0, end.stderr);
    assert.equal(queue.valueOf(await queue.outcome(inFlight!, 1)), 500);
    assert.equal(await queue.state(late!), 'waiting');
    assert.match(worker.stdout(), /weft worker: stopped after [\d.]+ s: 1 completed, 0 failed/);
    assert.equal(worker.stderr(), '');
  });

  it('stops at once on a second Ctrl-C, with 130, leaving its jobs to other workers', async () => {
    const queue = testQueue('cliint');
    const worker = await startWorker(queue);
    const [id] = await queue.add({ task: tasks.untilAborted });
    await queue.reply('the job started', progressOf(id!, 'started'));
    worker.child.kill('SIGINT');
    await worker.printed('(Ctrl-C again to stop at once)');
    const from = Date.now();
    worker.child.kill('SIGINT');
    const end = await worker.finished;
    assert.equal(end.code, 130);
    assert.ok(Date.now() - from < 3000);
    assert.equal(await queue.state(id!), 'active');
    assert.deepEqual(
      queue.repliesOf(id!).map((reply) => reply.type),
      ['progress'],
    );
  });

  describe('on a Redis of its own', () => {
    it('stops at once on a Ctrl-C after SIGTERM, with 130', { timeout: 20_000 }, async () => {
      const own = await startOwnRedis();
      const queue = new TestQueue(freshQueue('cliterm'), own.url);
      let worker: WorkerProcess | undefined;
      try {
        worker = await startWorker(queue, [], {}, own.url);
        const [id] = await queue.add({ task: tasks.untilAborted });
        await queue.reply('the job started', progressOf(id!, 'started'));
        worker.child.kill('SIGTERM');
        await worker.printed('stopping: no new jobs; finishing 1 job in flight');
        const from = Date.now();
        worker.child.kill('SIGINT');
        const end = await worker.finished;
        assert.equal(end.code, 130);
        assert.ok(Date.now() - from < 3000, `${Date.now() - from} ms`);
        assert.equal(await queue.state(id!), 'active');
      } finally {
        worker?.child.kill('SIGKILL');
        await queue.close();
      }
    });

    it('exits on SIGTERM within seconds while its Redis is down, saying what it left', {
      timeout: 30_000,
    }, async () => {
      const own = await startOwnRedis();
      const queue = new TestQueue(freshQueue('clidown'), own.url);
      const worker = await startWorker(queue, [], {}, own.url);
      after(() => {
        worker.child.kill('SIGKILL');
      });
      await queue.close();
      await own.stop();
      const from = Date.now();
      worker.child.kill('SIGTERM');
      const end = await worker.finished;
      assert.ok(Date.now() - from < 6000, `${Date.now() - from} ms`);
      assert.equal(end.code, 0, end.stderr);
      assert.match(
        worker.stderr(),
        /weft worker: Redis at redis:\/\/127\.0\.0\.1:\d+ is out of reach: stopped without waiting for it; 0 jobs in flight left to other workers/,
      );
      assert.match(worker.stdout(), /weft worker: stopped after [\d.]+ s: 0 completed, 0 failed/);
    });
  });

  it('shows a live line on a terminal, and drains on Ctrl-C there too', {
    timeout: 60_000,
  }, async () => {
    const queue = testQueue('clitty');
    const command = `${process.execPath} --conditions=weft-source --import tsx src/cli/main.ts worker --redis ${redisUrl} --queue ${queue.name}`;
    const { child, terminal, exited } = spawnOnTerminal(command, {
      columns: 120,
      cwd: root,
      env: { ...process.env, WEFT_EXECUTOR: '', WEFT_STORE: '', WEFT_PROJECT_ROOT: '' },
    });
    const shows = (pattern: RegExp) => terminal.until((screen) => pattern.test(screen));
    try {
      await shows(/^ 0 completed · 0 failed · 0 running · [\d.]+ jobs\/s$/m);
      const ids = await queue.add(
        { task: tasks.double, input: 1 },
        { task: tasks.double, input: 2 },
      );
      for (const id of ids) await queue.outcome(id);
      await shows(/^ 2 completed · 0 failed · 0 running · /m);
      child.stdin.write('\x03');
      assert.equal(await exited, 0, terminal.text());
    } finally {
      child.kill();
    }
    const lines = terminal
      .text()
      .split('\n')
      .filter((line) => line.trim() !== '');
    assert.match(lines[0]!, /^weft worker: queue \S+ at /);
    assert.equal(
      lines[1],
      'weft worker: stopping: no new jobs; finishing 0 jobs in flight (Ctrl-C again to stop at once)',
    );
    assert.match(lines[2]!, /^weft worker: stopped after [\d.]+ s: 2 completed, 0 failed/);
    assert.equal(lines.length, 3, terminal.text());
  });

  it('ends with the error and 1 within seconds when Redis cannot be reached', async () => {
    const from = Date.now();
    const end = await weft(['worker', '--redis', 'redis://127.0.0.1:1', '--queue', 'nowhere'], {
      env,
    });
    assert.equal(end.code, 1);
    assert.match(
      end.stderr,
      /^weft: RedisUnreachableError: Cannot reach Redis at redis:\/\/127\.0\.0\.1:1 for weft worker/m,
    );
    assert.equal(end.stdout, '');
    assert.ok(Date.now() - from < 10_000, `${Date.now() - from} ms`);
  });

  it('warns on its start line that a SQLite or memory store cannot carry values from other machines', async () => {
    const queue = testQueue('clistore');
    const worker = await startWorker(queue, ['--store', 'memory:']);
    assert.match(
      worker.stdout(),
      /· store memory memory: \(warning: a memory store is on this machine only: large values sent from other machines cannot be read through it/,
    );
    worker.child.kill('SIGTERM');
    assert.equal((await worker.finished).code, 0);
  });

  it('refuses options it cannot use before connecting', async () => {
    for (const [args, message] of [
      [['--concurrency', '0'], /--concurrency must be a whole number ≥ 1, got '0'/],
      [['--executor', 'bullmq'], /cannot be 'bullmq'/],
      [['--report-every', 'often'], /--report-every must be a number of seconds/],
      [['--queue', 'a:b'], /The queue name 'a:b' cannot be used/],
    ] as const) {
      const end = await weft(['worker', '--redis', 'redis://127.0.0.1:1', ...args], { env });
      assert.equal(end.code, 1, args.join(' '));
      assert.match(end.stderr, message);
    }
  });
});
