/**
 * The orchestrator SIGKILLed: `weft run --executor bullmq` on PostgreSQL, its tasks run by
 * two `weft worker` processes (8 jobs each), is killed some way in, with its 32 tasks in
 * flight held at a gate: 16 running on the workers, 16 waiting in the queue. Then either
 * - `weft resume` starts while those jobs are still there: it adds them again, which BullMQ
 *   ignores (`duplicated`), the gate opens and the resumed run takes their outcomes; or
 * - the gate opens first and the workers finish every job while no orchestrator is there:
 *   `weft resume` takes their outcomes from the run's reply stream and adds none of them.
 * Either way no task ran more often than the tasks in flight at the kill allow (here: none
 * ran twice), the output equals an uninterrupted run's, and no job was made twice: each
 * job id was added once, as BullMQ's own account of the queue says.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { asyncPool } from 'weftjs';
import { freshPostgresSchema, freshQueue, redisUrl } from '../fixtures/services.ts';
import { root, type Started, startWeft } from '../fixtures/weft-cli.ts';
import { countedDigest, inFlight } from './support/counted-job.ts';
import { countByKey, readExecutions, waitForExecutions } from './support/executions.ts';
import { readQueueAdds, whenQueueEvents } from './support/queue-adds.ts';
import { startWorkers } from './support/workers.ts';

const count = 600;
const job = join(root, 'test/bullmq/support/counted-job.ts');
const schema = freshPostgresSchema('bqokill');
const dir = mkdtempSync(join(tmpdir(), 'weft-bullmq-okill-'));
/** Tasks from this item on wait at the gate: the kill comes while they are in flight. */
const gateFrom = 200;
/** Jobs the two workers run at once: the gated tasks that start before the kill. */
const running = 16;

/** The item of a counted task's key (`…/map:bullmq-test:counted/17`). */
const itemOf = (key: string) => Number(key.slice(key.lastIndexOf('/') + 1));

describe('weft run --executor bullmq SIGKILLed, then weft resume', { timeout: 60_000 }, () => {
  const local = asyncPool({ concurrency: inFlight });
  after(() => local.close());
  let reference: string;
  before(async () => {
    reference = await countedDigest(count, { ms: 0, executor: local });
  });

  /** Starts the run, kills it once the workers' every slot holds a gated task. */
  async function killedRun(t: TestContext, label: string) {
    const queue = freshQueue(`okill${label}`);
    await startWorkers(2, { queue, concurrency: 8 });
    const log = join(dir, `${label}.log`);
    const gate = join(dir, `${label}.gate`);
    const runId = `bullmq-orchestrator-kill-${label}`;
    const env = {
      WEFT_REDIS_URL: redisUrl,
      WEFT_QUEUE: queue,
      WEFT_BULLMQ_TEST_LOG: log,
      WEFT_BULLMQ_TEST_MS: '10',
      WEFT_BULLMQ_TEST_GATE: `${gateFrom}:${gate}`,
      WEFT_EXECUTOR: undefined,
      WEFT_STORE: undefined,
    };
    const options = ['--store', schema.url, '--executor', 'bullmq', '--no-progress'];
    const started = startWeft(['run', job, String(count), '--run-id', runId, ...options], { env });
    await waitForExecutions(
      log,
      (executions) => executions.filter(({ key }) => itemOf(key) >= gateFrom).length >= running,
      { stop: started.finished, what: `${running} gated tasks running` },
    );
    // The other tasks in flight wait in the queue: the workers have no free slot.
    started.child.kill('SIGKILL');
    const killed = await started.finished;
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    // Jobs are added in item order, once each so far: those from gateFrom on are the gated
    // ones in flight, running or waiting, until the gate opens.
    const addedAtKill = (await readQueueAdds(redisUrl, queue)).addCalls;
    const gated = addedAtKill - gateFrom;
    t.diagnostic(`killed with ${gated} gated jobs in flight, ${running} of them running`);
    assert.ok(gated >= running && gated <= inFlight, `${gated} gated jobs in flight`);
    return {
      queue,
      log,
      addedAtKill,
      gated,
      openGate: () => writeFileSync(gate, ''),
      resume: (): Started => startWeft(['resume', runId, ...options], { env }),
    };
  }

  /** Checks the resumed run's output, the executions and BullMQ's account of the adds. */
  async function assertFinished(
    t: TestContext,
    resumed: Started,
    queue: string,
    log: string,
    duplicated: number,
  ) {
    const end = await resumed.finished;
    assert.equal(end.code, 0, `weft resume failed:\n${end.stderr}`);
    assert.equal(end.stdout.trim(), reference, 'the output equals an uninterrupted run');

    const executions = readExecutions(log);
    assert.equal(countByKey(executions).size, count, 'every task ran');
    const repeats = executions.length - count;
    t.diagnostic(`${executions.length} executions, ${repeats} repeats`);
    assert.ok(
      repeats <= inFlight,
      `${repeats} executions were repeats; the run kept at most ${inFlight} tasks in flight`,
    );
    assert.equal(repeats, 0, 'no task ran twice: every job in flight at the kill was taken up');

    const adds = await readQueueAdds(redisUrl, queue);
    assert.ok(adds.complete, "the queue's events stream was not trimmed: its account is whole");
    const added = [...adds.added.values()].reduce((sum, n) => sum + n, 0);
    assert.equal(
      added + adds.duplicated,
      adds.addCalls,
      'every add is an added or a duplicated event (the two accounts agree)',
    );
    t.diagnostic(`${adds.added.size} jobs made, ${adds.duplicated} adds of jobs already there`);
    assert.deepEqual(
      [...adds.added].filter(([, n]) => n > 1),
      [],
      'no job id was made twice',
    );
    assert.equal(adds.added.size, count, 'one job per task');
    assert.equal(adds.duplicated, duplicated);
  }

  it('resumed while its jobs in flight are still queued or running: re-attached to them', async (t) => {
    const { queue, log, gated, openGate, resume } = await killedRun(t, 'queued');
    const resumed = resume();
    // The resumed run adds the jobs in flight again; BullMQ finds each still there.
    await whenQueueEvents(redisUrl, queue, (counts) => counts.duplicated >= gated, {
      what: `${gated} jobs added again`,
      stop: resumed.finished,
    });
    openGate();
    await assertFinished(t, resumed, queue, log, gated);
  });

  it('resumed after its jobs in flight finished: their outcomes taken from the reply stream', async (t) => {
    const { queue, log, addedAtKill, openGate, resume } = await killedRun(t, 'finished');
    openGate();
    await whenQueueEvents(redisUrl, queue, (counts) => counts.completed >= addedAtKill, {
      what: `the ${addedAtKill} jobs of the killed run completed`,
    });
    await assertFinished(t, resume(), queue, log, 0);
  });
});
