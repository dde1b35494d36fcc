/**
 * A flow whose process is killed with SIGKILL part-way through a 1,000-task ForEach layer
 * resumes by its run id: the completed `Shard` layer does not run again, ForEach tasks
 * recorded as completed do not run again (those in flight at the kill, at most the
 * concurrency, and one group of records being written, as many again, run twice), and the total equals that of an uninterrupted run. On SQLite
 * and on PostgreSQL, with real processes (test/fixtures/flow-crash-job.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { finished, jobStarter, killAtLines, lines } from '../fixtures/child-jobs.ts';
import { freshPostgresSchema } from '../fixtures/services.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const job = ['--conditions=weft-source', '--import', 'tsx', 'test/fixtures/flow-crash-job.ts'];
const dir = mkdtempSync(join(tmpdir(), 'weft-flow-crash-'));

const taskCount = 1_000;
const concurrency = 16;
const killAfter = 300;
const expectedTotal = Array.from({ length: taskCount }, (_, i) => i * i).reduce((a, b) => a + b);

const startJob = jobStarter(after, root, job);

/** Whether a line of the log is a Square task's index (every line but `Shard`). */
function isSquare(line: string): boolean {
  return line !== 'Shard';
}

/** The Square task indices in the log. */
function squareLines(file: string): string[] {
  return lines(file).filter(isSquare);
}

async function crashAndResume(store: string, label: string, t: TestContext): Promise<void> {
  const log = join(dir, `${label}.log`);
  const runId = `flow-crash-${label}-${process.pid}`;

  const killed = startJob([store, runId, log]);
  const killedEnd = finished(killed);
  await killAtLines(log, killed, {
    count: killAfter,
    counted: isSquare,
    endedFirst: (code) =>
      `the job ended (code ${code}) before ${killAfter} Square tasks had started`,
  });
  assert.equal((await killedEnd).signal, 'SIGKILL');
  const beforeResume = squareLines(log).length;
  assert.ok(beforeResume < taskCount, `killed part-way (${beforeResume} Square tasks started)`);

  const resumed = await finished(startJob([store, runId, log]));
  assert.equal(resumed.code, 0, `the resumed job failed: ${resumed.stderr}`);
  assert.deepEqual(JSON.parse(resumed.stdout), { total: expectedTotal });

  const all = lines(log);
  assert.equal(all.filter((line) => line === 'Shard').length, 1, 'Shard ran once, not on resume');
  const counts = new Map<string, number>();
  for (const index of squareLines(log)) counts.set(index, (counts.get(index) ?? 0) + 1);
  const missing = Array.from({ length: taskCount }, (_, i) => String(i)).filter(
    (index) => !counts.has(index),
  );
  assert.deepEqual(missing, [], 'every Square task ran');
  assert.equal(counts.size, taskCount, 'no other index was logged');
  const executions = squareLines(log).length;
  assert.ok(
    executions - taskCount <= 2 * concurrency,
    `${executions - taskCount} extra executions; at most the ${concurrency} in flight and a ` +
      `group of ${concurrency} records may repeat`,
  );
  t.diagnostic(
    `killed after ${beforeResume} Square tasks had started; ${executions - taskCount} ran twice`,
  );
}

describe('flow crash and resume', { timeout: 120_000 }, () => {
  it('SQLite: a SIGKILLed ForEach layer resumes without re-running completed tasks', async (t) => {
    await crashAndResume(`sqlite:${join(dir, 'weft.db')}`, 'sqlite', t);
  });

  const schema = freshPostgresSchema('flowcrash');
  it('PostgreSQL: a SIGKILLed ForEach layer resumes without re-running completed tasks', async (t) => {
    await crashAndResume(schema.url, 'postgres', t);
  });
});
