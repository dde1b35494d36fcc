/**
 * Top-level work in a module that workers import for its definitions: refused in the
 * worker with a TopLevelWorkError that says what to do, never more workers than the pool's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  isWeftError,
  map,
  processes,
  TaskFailedError,
  TopLevelWorkError,
  task,
  threads,
} from 'weftjs';
import { importDefinitions } from '../../src/core/definitions.ts';
import { outer, outerPool } from '../fixtures/toplevel/nested.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = 'test/fixtures/toplevel';
const source = ['--conditions=weft-source', '--import', 'tsx'];
const cli = [...source, 'src/cli/main.ts', 'run'];

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  /** Threads and processes that evaluated the fixture module: this one and its workers. */
  evaluations: number;
}

/** Runs node with `args`; a child that does not end within a minute is killed and fails the test. */
function node(args: readonly string[], env: Record<string, string> = {}): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-toplevel-'));
  const counter = join(dir, 'evaluations');
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    WEFT_STORE: 'memory:',
    WEFT_TEST_EVALUATIONS: counter,
    ...env,
  };
  delete childEnv.WEFT_EXECUTOR;
  delete childEnv.WEFT_WORKERS;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd: root, env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: unknown; killed?: boolean }) | null;
        if (failure?.killed) {
          reject(new Error(`node ${args.join(' ')} did not end within a minute:\n${stderr}`));
          return;
        }
        let evaluations = 0;
        try {
          evaluations = readFileSync(counter, 'utf8').split('\n').filter(Boolean).length;
        } catch {}
        rmSync(dir, { recursive: true, force: true });
        resolve({
          code: typeof failure?.code === 'number' ? failure.code : failure ? 1 : 0,
          stdout,
          stderr,
          evaluations,
        });
      },
    );
  });
}

const workers = 2;
const refusal = /TopLevelWorkError|was started while a worker imported .*squares/;
const advice = /Move the work into the default export.*weft run <file>.*isWorker\(\)/;

function assertRefused(outcome: Outcome): void {
  assert.notEqual(outcome.code, 0, `the run succeeded:\n${outcome.stdout}`);
  assert.match(outcome.stderr, refusal);
  assert.match(outcome.stderr, advice);
  assertBounded(outcome);
}

function assertBounded(outcome: Outcome): void {
  assert.ok(outcome.evaluations >= 2, 'no worker imported the module: the test proves nothing');
  assert.ok(
    outcome.evaluations <= 1 + workers,
    `${outcome.evaluations} evaluations: more workers started than the pool's ${workers}`,
  );
}

for (const pool of ['threads', 'processes'] as const) {
  describe(`top-level work on ${pool}`, () => {
    for (const file of ['squares.mjs', 'squares.ts']) {
      it(`node ${file}: refused in the workers, with what to do`, async () => {
        assertRefused(await node([...source, `${fixtures}/${file}`], { WEFT_TEST_POOL: pool }));
      });

      it(`weft run ${file}: refused in the workers, with what to do`, async () => {
        const outcome = await node([...cli, `${fixtures}/${file}`, '--no-progress'], {
          WEFT_TEST_POOL: pool,
        });
        assertRefused(outcome);
      });
    }

    it('work neither awaited nor caught: refused, and no worker crashes', async () => {
      const outcome = await node([...source, `${fixtures}/squares-unawaited.mjs`], {
        WEFT_TEST_POOL: pool,
      });
      assertRefused(outcome);
      assert.doesNotMatch(outcome.stderr, /WorkerCrashedError/);
    });

    it('work that goes on after the module loaded: bounded, and refused in the workers', async () => {
      const outcome = await node([...source, `${fixtures}/squares-late.mjs`], {
        WEFT_TEST_POOL: pool,
      });
      assertBounded(outcome);
      // The workers' copies of main() never run the map; this thread's either finishes, or
      // fails because a worker refused the stray work before running its tasks.
      assert.match(outcome.stderr, /map\(square\) was started in a worker outside any task/);
      if (outcome.code === 0) assert.equal(outcome.stdout.trim(), '[1,4,9,16,25,36]');
      assert.doesNotMatch(outcome.stderr, /WorkerCrashedError/);
    });

    it('guarded with isWorker(): runs, and workers only find the task', async () => {
      const outcome = await node([...source, `${fixtures}/squares-guarded.mjs`], {
        WEFT_TEST_POOL: pool,
      });
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(outcome.stdout.trim(), '[1,4,9,16,25,36]');
      assertBounded(outcome);
    });

    it('work in the default export, run by weft run: runs as written', async () => {
      const outcome = await node(
        [...cli, `${fixtures}/squares-job.ts`, '--executor', pool, '--workers', String(workers)],
        {},
      );
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(outcome.stdout.trim(), '[1,4,9,16,25,36]');
      assertBounded(outcome);
    });
  });
}

describe('importing a module for its definitions', () => {
  for (const work of ['map', 'dag', 'withRun', 'flow', 'app']) {
    it(`refuses ${work} at its top level, also when the module swallows the error, every time`, async () => {
      const url = new URL(`../fixtures/toplevel/starts-work.ts?work=${work}`, import.meta.url).href;
      for (let i = 0; i < 2; i++) {
        await assert.rejects(importDefinitions(url), (error: unknown) => {
          assert.ok(isWeftError(error, 'WEFT_TOP_LEVEL_WORK'), String(error));
          assert.match((error as Error).message, /isWorker\(\)/);
          return true;
        });
      }
      // What the module itself saw: the same refusal, before it started anything.
      const { outcome } = (await import(url)) as { outcome: { error?: unknown } };
      assert.ok(isWeftError(outcome.error, 'WEFT_TOP_LEVEL_WORK'), String(outcome.error));
    });
  }

  it('a plain import of the same module starts its work (only imports for definitions refuse it)', async () => {
    const url = new URL('../fixtures/toplevel/starts-work.ts?work=map&plain', import.meta.url).href;
    const { outcome } = (await import(url)) as { outcome: { error?: unknown } };
    assert.equal(outcome.error, undefined);
  });
});

describe('a refusal', () => {
  it('is not retried: trying again would only be refused again', async () => {
    let attempts = 0;
    const refused = task(
      'toplevel-refused',
      () => {
        attempts++;
        throw new TopLevelWorkError('refused');
      },
      { retries: 3, backoff: { delayMs: 0 } },
    );
    await assert.rejects(map([1], refused), TaskFailedError);
    assert.equal(attempts, 1);
  });
});

for (const [name, pool] of [
  ['threads', () => threads({ workers: 1 })],
  ['processes', () => processes({ workers: 1 })],
] as const) {
  describe(`a task on ${name} that fans out`, () => {
    it('runs its map in its own worker', async () => {
      const executor = pool();
      try {
        const [out] = await map([[1, 2, 3]], outer, { executor });
        assert.deepEqual(out, { inWorker: true, results: [2, 3, 4] });
      } finally {
        await executor.close();
      }
    });

    it('may not start a pool there', async () => {
      const executor = pool();
      try {
        await assert.rejects(map([[1]], outerPool, { executor }), (error: TaskFailedError) => {
          assert.equal(error.attempts, 1);
          assert.ok(isWeftError(error.cause, 'WEFT_NESTED_POOL'), String(error.cause));
          assert.match((error.cause as Error).message, /cannot start workers inside a worker/);
          return true;
        });
      } finally {
        await executor.close();
      }
    });
  });
}
