/**
 * Two processes racing for one run: a run is SIGKILLed at a random moment, then two
 * `weft resume` of it start at the same moment. One takes the run and completes it; the
 * other is refused at once with a RunBusyError (WEFT_RUN_BUSY), and no task runs twice
 * beyond those in flight at the kill. On SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import type { Finished } from '../fixtures/child-jobs.ts';
import { freshPostgresSchema } from '../fixtures/services.ts';
import { startWeft } from '../fixtures/weft-cli.ts';
import {
  assertBoundedRepeats,
  chance,
  concurrency,
  executions,
  executionsReached,
  job,
  killAtExecutions,
  replayable,
  scratch,
  uninterruptedOutput,
} from './harness.ts';

const count = 200;
const dir = scratch('race');

let reference: string;
before(async () => {
  reference = await uninterruptedOutput(count);
});

async function race(t: TestContext, store: string, label: string): Promise<void> {
  const random = chance(t);
  const log = join(dir, `${label}.log`);
  const gate = join(dir, `${label}.gate`);
  const runId = `raced-${label}`;
  // In this process: the executor plays no part here, and workers would only slow the test.
  const options = ['--store', store, '--executor', 'asyncPool', '--no-progress'];
  await replayable(random, async () => {
    const first = startWeft(['run', job, String(count), '--run-id', runId, ...options], {
      env: { WEFT_FAULT_LOG: log },
    });
    await killAtExecutions(first, log, random.between(1, count / 2));

    // Every task of the resumes waits at the gate: the owner of the run holds it there at
    // most `concurrency` tasks in; two owners would log twice that.
    const killedAt = executions(log).total;
    const env = { WEFT_FAULT_LOG: log, WEFT_FAULT_GATE: `0:${gate}` };
    const resumes = [0, 1].map(() => startWeft(['resume', runId, ...options], { env }));
    const firstEnd = Promise.race(resumes.map((resume) => resume.finished));
    const bothRan = await executionsReached(log, killedAt + 2 * concurrency, firstEnd);
    writeFileSync(gate, '');
    const ends = await Promise.all(resumes.map((resume) => resume.finished));
    assert.equal(bothRan, false, 'both processes ran tasks of the run at once');

    const [won, lost] = sortByCode(ends);
    assert.equal(lost.code, 1, `one resume is refused:\n${lost.stderr}`);
    assert.match(lost.stderr, /RunBusyError/);
    assert.ok(lost.stderr.includes(runId), `the refusal names the run:\n${lost.stderr}`);
    assert.equal(won.code, 0, `the other completes the run:\n${won.stderr}`);
    assert.equal(won.stdout.trim(), reference, 'outputs equal an uninterrupted run');
    const repeats = assertBoundedRepeats(log, count, 1);
    t.diagnostic(`killed after ${killedAt} executions; ${repeats} tasks ran again`);
  });
}

/** The ends of two processes, the one that succeeded first. */
function sortByCode(ends: Finished[]): [Finished, Finished] {
  const [a, b] = ends as [Finished, Finished];
  return a.code === 0 ? [a, b] : [b, a];
}

// The stores side by side: each case waits on its processes most of the time.
describe('two processes racing for one run', { timeout: 120_000, concurrency: 2 }, () => {
  it('SQLite', async (t) => {
    await race(t, `sqlite:${join(dir, 'weft.db')}`, 'sqlite');
  });

  const schema = freshPostgresSchema('faultrace');
  it('PostgreSQL', async (t) => {
    await race(t, schema.url, 'postgres');
  });
});
