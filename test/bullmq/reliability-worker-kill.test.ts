/**
 * A `weft worker` SIGKILLed while it runs jobs: 2,000 tasks on three worker processes of
 * concurrency 8, one of them killed right after it started a task, some hundreds of tasks
 * in. BullMQ's stalled check (lock 5 s, check every 5 s) hands the dead worker's jobs to
 * the others: every task completes, the outputs equal a local run's, and the tasks that
 * ran twice are the dead worker's, at most its 8 in flight.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { asyncPool, map } from 'weftjs';
import { bullmq } from 'weftjs/bullmq';
import { counted, countedInputs } from '../fixtures/bullmq-counted.ts';
import { freshQueue, redisUrl } from '../fixtures/services.ts';
import { countByKey, readExecutions, waitForExecutions } from './support/executions.ts';
import { startWorkers } from './support/workers.ts';

const count = 2_000;
const concurrency = 8;
/** Long enough that a task the victim just started is still running when it is killed. */
const taskMs = 40;
const queue = freshQueue('wkill');
const log = join(mkdtempSync(join(tmpdir(), 'weft-bullmq-wkill-')), 'executions.log');

describe('a weft worker SIGKILLed with jobs in flight', { timeout: 60_000 }, () => {
  const local = asyncPool({ concurrency: 64 });
  after(() => local.close());

  it('has its jobs taken over: every task completes once, at most its 8 in flight twice', async (t) => {
    const reference = await map(countedInputs(count), counted, { executor: local });
    const workers = await startWorkers(3, { queue, concurrency });
    const victim = workers.all[1]!;
    const executor = bullmq({ connection: redisUrl, queue });
    try {
      const outputs = map(countedInputs(count, log, taskMs), counted, { executor });
      // Some hundreds in, at a moment the victim has just started a task.
      const before = await waitForExecutions(
        log,
        (executions) => executions.length >= 400 && executions.at(-1)?.pid === victim.pid,
        { stop: outputs, what: 'the victim starting a task after 400 executions' },
      );
      await workers.kill(1);
      t.diagnostic(`killed worker ${victim.pid} after ${before.length} executions`);

      assert.deepEqual(await outputs, reference, 'outputs equal a local run');

      const executions = readExecutions(log);
      const counts = countByKey(executions);
      assert.equal(counts.size, count, 'every task ran');
      const repeated = [...counts].filter(([, n]) => n > 1);
      t.diagnostic(`${executions.length} executions, ${repeated.length} tasks ran twice`);
      assert.ok(repeated.length >= 1, 'the task the victim had just started ran again elsewhere');
      assert.ok(
        repeated.length <= concurrency,
        `${repeated.length} tasks ran twice; a worker of concurrency ${concurrency} has at most ${concurrency} in flight`,
      );
      for (const [key, n] of repeated) {
        assert.equal(n, 2, `${key} ran ${n} times`);
        const runs = executions.filter((execution) => execution.key === key);
        assert.equal(runs[0]!.pid, victim.pid, `${key} first ran on the killed worker`);
        assert.notEqual(runs[1]!.pid, victim.pid, `${key} ran again on another worker`);
      }
      const survivors = workers.all.filter((worker) => worker !== victim);
      for (const worker of survivors) {
        assert.equal(worker.child.exitCode, null, `worker ${worker.pid} is still running`);
      }
    } finally {
      await executor.close();
    }
  });
});
