/**
 * An application whose process is killed with SIGKILL part-way through a 1,000-task
 * MapStates resumes from its persister: children that saved a completed checkpoint do not
 * run again, the others run (those in flight at the kill, at most the concurrency, and one
 * group of records being written, as many again, run twice), and the final state equals that of an uninterrupted run. On SQLite and on
 * PostgreSQL, with real processes (test/fixtures/app-crash-job.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from 'weftjs';
import { finished, jobStarter, killAtLines, lines } from '../fixtures/child-jobs.ts';
import { freshPostgresSchema } from '../fixtures/services.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const job = ['--conditions=weft-source', '--import', 'tsx', 'test/fixtures/app-crash-job.ts'];
const dir = mkdtempSync(join(tmpdir(), 'weft-app-crash-'));

const taskCount = 1_000;
const concurrency = 16;
const killAfter = 300;
/** The parent's `fanOut` is its second step. */
const fanOutSequenceId = 1;
const childIds = Array.from(
  { length: taskCount },
  (_, position) => `crash-app:${fanOutSequenceId}:${position}`,
);
const expectedTotal = childIds.reduce((sum, _, i) => sum + i * 2, 0);

const startJob = jobStarter(after, root, job);

/** Ids of the children that saved a completed checkpoint of their action. */
async function completedChildren(storeUrl: string): Promise<Set<string>> {
  const store = await openStore(storeUrl);
  try {
    const done = new Set<string>();
    for (const id of childIds) {
      const saved = await store.loadCheckpoint(id, '');
      if (saved?.status === 'completed' && saved.position === 'work') done.add(id);
    }
    return done;
  } finally {
    await store.close();
  }
}

async function crashAndResume(store: string, label: string, t: TestContext): Promise<void> {
  const log = join(dir, `${label}.log`);

  const killed = startJob([store, log]);
  const killedEnd = finished(killed);
  await killAtLines(log, killed, {
    count: killAfter,
    endedFirst: (code) => `the job ended (code ${code}) before ${killAfter} children had started`,
  });
  assert.equal((await killedEnd).signal, 'SIGKILL');
  const beforeResume = lines(log).length;
  assert.ok(beforeResume < taskCount, `killed part-way (${beforeResume} children started)`);

  const saved = await completedChildren(store);
  assert.ok(saved.size > 0, 'some children saved a completed checkpoint before the kill');
  assert.ok(saved.size < taskCount, `killed part-way (${saved.size} children completed)`);

  const resumed = await finished(startJob([store, log]));
  assert.equal(resumed.code, 0, `the resumed job failed: ${resumed.stderr}`);
  assert.deepEqual(JSON.parse(resumed.stdout), { total: expectedTotal, ordered: true });

  const counts = new Map<string, number>();
  for (const id of lines(log)) counts.set(id, (counts.get(id) ?? 0) + 1);
  const rerun = [...saved].filter((id) => counts.get(id) !== 1);
  assert.deepEqual(rerun, [], 'children completed before the kill ran exactly once');
  const missing = childIds.filter((id) => !counts.has(id));
  assert.deepEqual(missing, [], 'every child ran');
  assert.equal(counts.size, taskCount, 'no other application ran the action');
  const executions = lines(log).length;
  assert.ok(
    executions - taskCount <= 2 * concurrency,
    `${executions - taskCount} extra executions; at most the ${concurrency} in flight and a ` +
      `group of ${concurrency} records may repeat`,
  );
  t.diagnostic(
    `killed after ${beforeResume} children had started and ${saved.size} had completed; ` +
      `${executions - taskCount} ran twice`,
  );
}

describe('application crash and resume', { timeout: 120_000 }, () => {
  it('SQLite: a SIGKILLed MapStates resumes without re-running completed children', async (t) => {
    await crashAndResume(`sqlite:${join(dir, 'weft.db')}`, 'sqlite', t);
  });

  const schema = freshPostgresSchema('appcrash');
  it('PostgreSQL: a SIGKILLed MapStates resumes without re-running completed children', async (t) => {
    await crashAndResume(schema.url, 'postgres', t);
  });
});
