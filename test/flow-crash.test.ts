/**
 * A flow whose process is killed with SIGKILL part-way through a 1,000-task ForEach layer
 * resumes by its run id: the completed `Shard` layer does not run again, ForEach tasks
 * recorded as completed do not run again (those in flight at the kill, at most the
 * concurrency, run twice), and the total equals that of an uninterrupted run. On SQLite
 * and on PostgreSQL, with real processes (test/fixtures/flow-crash-job.ts).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freshPostgresSchema } from './fixtures/services.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const job = ['--conditions=weft-source', '--import', 'tsx', 'test/fixtures/flow-crash-job.ts'];
const dir = mkdtempSync(join(tmpdir(), 'weft-flow-crash-'));

const taskCount = 1_000;
const concurrency = 16;
const killAfter = 300;
const expectedTotal = Array.from({ length: taskCount }, (_, i) => i * i).reduce((a, b) => a + b);

/** Children still running, killed if a test fails before they end. */
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** The job run under the default in-process executor, whatever this process was given. */
function startJob(store: string, runId: string, log: string): ChildProcess {
  const env = { ...process.env };
  delete env.WEFT_EXECUTOR;
  delete env.WEFT_WORKERS;
  const child = spawn(process.execPath, [...job, store, runId, log], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** The Square task indices in the log (every line but `Shard`). */
function squareLines(file: string): string[] {
  return lines(file).filter((line) => line !== 'Shard');
}

/**
 * Kills `child` with SIGKILL as soon as `file` logs `count` Square tasks, watching the
 * file; rejects when the child ends by itself first.
 */
function killAtTasks(file: string, count: number, child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    writeFileSync(file, '', { flag: 'a' });
    const watcher = watch(file, () => {
      if (squareLines(file).length < count || child.exitCode !== null) return;
      child.kill('SIGKILL');
      watcher.close();
      resolve();
    });
    child.once('exit', (code, signal) => {
      watcher.close();
      if (signal !== 'SIGKILL') {
        reject(new Error(`the job ended (code ${code}) before ${count} Square tasks had started`));
      }
    });
  });
}

async function crashAndResume(store: string, label: string, t: TestContext): Promise<void> {
  const log = join(dir, `${label}.log`);
  const runId = `flow-crash-${label}-${process.pid}`;

  const killed = startJob(store, runId, log);
  const killedEnd = finished(killed);
  await killAtTasks(log, killAfter, killed);
  assert.equal((await killedEnd).signal, 'SIGKILL');
  const beforeResume = squareLines(log).length;
  assert.ok(beforeResume < taskCount, `killed part-way (${beforeResume} Square tasks started)`);

  const resumed = await finished(startJob(store, runId, log));
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
    executions - taskCount <= concurrency,
    `${executions - taskCount} extra executions; at most the ${concurrency} in flight may repeat`,
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
