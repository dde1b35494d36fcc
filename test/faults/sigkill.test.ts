/**
 * Random SIGKILLs: a `weft run` of a few hundred tasks is killed at random moments (a
 * seeded random number of executions after each start), resumed and killed again, on
 * threads and on processes in turn, then resumed to its end. Its output equals an
 * uninterrupted run's, every item ran, and the repeats stay within the tasks in flight
 * at each kill. On SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { freshPostgresSchema } from '../fixtures/services.ts';
import { startWeft, weft } from '../fixtures/weft-cli.ts';
import {
  assertBoundedRepeats,
  chance,
  executions,
  job,
  killAtExecutions,
  replayable,
  scratch,
  uninterruptedOutput,
} from './harness.ts';

const count = 300;
/** Kills per store: a handful, to keep the suite quick. */
const kills = 3;
const executors = ['threads', 'processes'] as const;
const dir = scratch('sigkill');

let reference: string;
before(async () => {
  reference = await uninterruptedOutput(count);
});

async function killAndResume(t: TestContext, store: string, label: string): Promise<void> {
  const random = chance(t);
  const log = join(dir, `${label}.log`);
  const runId = `killed-${label}`;
  const env = { WEFT_FAULT_LOG: log };
  const executorAt = (attempt: number) => ['--executor', executors[attempt % 2]!, '--workers', '2'];
  await replayable(random, async () => {
    for (let attempt = 0; attempt < kills; attempt++) {
      const verb =
        attempt === 0 ? ['run', job, String(count), '--run-id', runId] : ['resume', runId];
      const { total, counts } = executions(log);
      // Items not seen yet will all run, so this many executions are sure to come.
      const coming = count - counts.size;
      const at = total + random.between(1, Math.max(1, Math.floor(coming * 0.8)));
      const started = startWeft(
        [...verb, '--store', store, ...executorAt(attempt), '--no-progress'],
        { env },
      );
      await killAtExecutions(started, log, at);
      t.diagnostic(`kill ${attempt + 1} on ${executors[attempt % 2]} after ${at} executions`);
    }
    const resumed = await weft(
      ['resume', runId, '--store', store, ...executorAt(kills), '--no-progress'],
      { env },
    );
    assert.equal(resumed.code, 0, `the last resume failed:\n${resumed.stderr}`);
    assert.equal(resumed.stdout.trim(), reference, 'outputs equal an uninterrupted run');
    const repeats = assertBoundedRepeats(log, count, kills);
    t.diagnostic(`${repeats} repeated executions over ${kills} kills`);
  });
}

// The stores side by side: each case waits on its processes most of the time.
describe('random SIGKILLs of a run, resumed to its end', {
  timeout: 120_000,
  concurrency: 2,
}, () => {
  it('SQLite', async (t) => {
    await killAndResume(t, `sqlite:${join(dir, 'weft.db')}`, 'sqlite');
  });

  const schema = freshPostgresSchema('faultkill');
  it('PostgreSQL', async (t) => {
    await killAndResume(t, schema.url, 'postgres');
  });
});
