/**
 * A `weft run` process killed with SIGKILL part-way through 10,000 tasks is completed by
 * `weft resume`: tasks executed twice are at most those in flight at the kill (the
 * concurrency, 64) and one group of records being written (at most as many again), and the outputs equal those of an uninterrupted run. On SQLite and
 * on PostgreSQL, with real processes.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { killAtLines, lines } from '../fixtures/child-jobs.ts';
import { freshPostgresSchema } from '../fixtures/services.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = ['--conditions=weft-source', '--import', 'tsx', 'src/cli/main.ts'];
const job = 'test/fixtures/job-many.ts';
const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'weft-crash-'));

function weft(args: string[], env: Record<string, string>) {
  const quiet = args[0] === 'run' || args[0] === 'resume' ? ['--no-progress'] : [];
  return exec(process.execPath, [...cli, ...args, ...quiet], {
    cwd: root,
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function crashAndResume(store: string, label: string, t: TestContext): Promise<void> {
  const reference = await weft(['run', job, '--store', store, '--run-id', `${label}-whole`], {});
  const expected = reference.stdout.trim();
  assert.match(expected, /^10000 [0-9a-f]{64}$/);

  const log = join(dir, `${label}.log`);
  const runId = `${label}-killed`;
  const child = spawn(
    process.execPath,
    [...cli, 'run', job, '--store', store, '--run-id', runId, '--no-progress'],
    {
      cwd: root,
      env: { ...process.env, WEFT_TEST_LOG: log },
      stdio: 'ignore',
    },
  );
  await killAtLines(log, child, {
    count: 2_500,
    endedFirst: (code) => `the run ended (code ${code}) before 2500 tasks started`,
  });
  await new Promise((resolve) => child.once('exit', resolve));
  const beforeResume = lines(log).length;
  assert.ok(beforeResume < 10_000, `killed part-way (${beforeResume} started)`);

  const listed = await weft(['runs', '--store', store], {});
  assert.match(
    listed.stdout,
    new RegExp(`^${runId}\\s+stopped\\s+1\\s`, 'm'),
    'the killed run shows as stopped',
  );

  const resumed = await weft(['resume', runId, '--store', store], { WEFT_TEST_LOG: log });
  assert.equal(resumed.stdout.trim(), expected, 'outputs equal an uninterrupted run');
  assert.match(resumed.stderr, /resuming run/);

  const started = lines(log).map(Number);
  const counts = new Map<number, number>();
  for (const item of started) counts.set(item, (counts.get(item) ?? 0) + 1);
  assert.equal(counts.size, 10_000, 'every item ran');
  const twice = [...counts.values()].filter((n) => n > 1).length;
  assert.ok(
    twice <= 2 * 64,
    `${twice} tasks executed twice; at most the 64 in flight and a group of 64 records may be`,
  );
  assert.ok([...counts.values()].every((n) => n <= 2));
  t.diagnostic(`killed after ${beforeResume} tasks had started; ${twice} ran twice`);

  const shown = await weft(['show', runId, '--store', store], {});
  assert.match(shown.stdout, /completed \(2 tries\)/);
  assert.match(shown.stdout, /tasks 10,000: 10,000 completed, 0 failed/);
}

describe('crash and resume', { timeout: 120_000 }, () => {
  it('SQLite: a SIGKILLed run is completed by weft resume', async (t) => {
    await crashAndResume(`sqlite:${join(dir, 'weft.db')}`, 'sqlite', t);
  });

  const schema = freshPostgresSchema('crash');
  it('PostgreSQL: a SIGKILLed run is completed by weft resume', async (t) => {
    await crashAndResume(schema.url, 'postgres', t);
  });
});
