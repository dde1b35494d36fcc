/**
 * Two processes racing for one run, each calling withRun on the same run id at the same
 * moment: exactly one runs, the other is refused at once with WEFT_RUN_BUSY, and no task
 * runs twice (each task logs its execution to a file). On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from 'weftjs';
import { type Finished, finished } from '../fixtures/child-jobs.ts';
import { freshPostgresSchema } from '../fixtures/services.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'weft-lease-race-'));
const worker = ['--conditions=weft-source', '--import', 'tsx', 'test/fixtures/lease-worker.ts'];

const children = new Set<ReturnType<typeof spawn>>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** A lease-worker process, and what it printed once it ended. */
function startWorker(url: string, runId: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [...worker, url, runId], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const startedAt = performance.now();
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  const ended = finished(child).then((end) => ({ ...end, ms: performance.now() - startedAt }));
  const started = new Promise<number>((resolve, reject) => {
    const look = () => {
      if (stdout.includes('started\n')) resolve(performance.now() - startedAt);
    };
    child.stdout.on('data', look);
    void ended.then(() => reject(new Error('ended before starting')));
  });
  // Only the winner starts: the loser's rejection is expected.
  started.catch(() => {});
  return { child, ended, started };
}

async function race(url: string, label: string, t: TestContext): Promise<void> {
  const runId = `${label}-race`;
  const log = join(dir, `${label}.log`);
  const gate = join(dir, `${label}.gate`);
  const env = { WEFT_TEST_LOG: log, WEFT_TEST_GATE: gate };
  // The store exists before the race: the race is for the run, not to create the store.
  await (await openStore(url)).close();
  const racers = [startWorker(url, runId, env), startWorker(url, runId, env)];
  // Each waits at the gate once it owns the run: a refused one ends; were both let in,
  // both would print `started`.
  const first = await Promise.race([
    ...racers.map((racer, i) => racer.ended.then((end) => ({ i, end }))),
    Promise.all(racers.map((racer) => racer.started)).then(
      () => 'both started' as const,
      () => new Promise<never>(() => {}),
    ),
  ]);
  assert.notEqual(first, 'both started', 'both processes own the run at once');
  const { i, end } = first as { i: number; end: Finished & { ms: number } };
  const loser = end;
  const winner = racers[1 - i]!;
  assert.equal(loser.code, 1, loser.stderr);
  assert.equal(loser.stdout, 'WEFT_RUN_BUSY\n', 'refused before it ran anything');
  const winnerStartMs = await winner.started;
  writeFileSync(gate, '');
  const won = await winner.ended;
  assert.equal(won.code, 0, won.stderr);
  assert.equal(won.stdout, 'started\ndone\n');

  const counts = new Map<string, number>();
  for (const item of readFileSync(log, 'utf8').trim().split('\n')) {
    counts.set(item, (counts.get(item) ?? 0) + 1);
  }
  assert.equal(counts.size, 100, 'every task ran');
  assert.deepEqual(
    [...counts].filter(([, n]) => n > 1),
    [],
    'no task ran twice',
  );
  t.diagnostic(
    `refused process ended ${Math.round(loser.ms)} ms after its start; the owner took ` +
      `${Math.round(winnerStartMs)} ms from its start to owning the run`,
  );
}

describe('two processes racing for one run', { timeout: 60_000 }, () => {
  it('SQLite: one runs, the other is refused at once, no task runs twice', async (t) => {
    await race(`sqlite:${join(dir, 'weft.db')}`, 'sqlite', t);
  });

  const schema = freshPostgresSchema('leaserace');
  it('PostgreSQL: one runs, the other is refused at once, no task runs twice', async (t) => {
    await race(schema.url, 'postgres', t);
  });
});
