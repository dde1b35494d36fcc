/** The `weft` command, run as a real child process: from source, and the built bin once. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const sourceCli = ['--conditions=weft-source', '--import', 'tsx', 'src/cli/main.ts'];

async function weft(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [...sourceCli, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

const job = 'test/fixtures/job-where.ts';

describe('weft run', () => {
  for (const [executor, elsewhere, offThread] of [
    ['inline', false, false],
    ['asyncPool', false, false],
    ['threads', false, true],
    ['processes', true, true],
  ] as const) {
    it(`runs the same job on ${executor} chosen by WEFT_EXECUTOR alone`, async () => {
      const { code, stdout, stderr } = await weft(['run', job, '--no-progress'], {
        WEFT_EXECUTOR: executor,
        WEFT_WORKERS: '2',
      });
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout), { executor, elsewhere, offThread, args: [] });
    });
  }

  it('takes --executor and passes extra arguments to the job', async () => {
    const { code, stdout, stderr } = await weft([
      'run',
      job,
      '--executor',
      'threads',
      '-w',
      '1',
      '--no-progress',
      'a',
      'b',
    ]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout).args, ['a', 'b']);
    assert.equal(JSON.parse(stdout).executor, 'threads');
    // The job's map names no executor: the default is the one --executor chose.
    assert.equal(JSON.parse(stdout).offThread, true);
  });

  it('prints progress lines when not on a terminal', async () => {
    const { code, stderr } = await weft(['run', job]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /tasks: 4 done, 0 failed, 0 running/);
  });

  it('reports a failing job in one line with exit code 1, stack only on request', async () => {
    const failed = await weft(['run', 'test/fixtures/job-fails.ts', '--no-progress']);
    assert.equal(failed.code, 1);
    assert.match(
      failed.stderr,
      /^weft: TaskFailedError: Task 'fixtures:explode' .* the second item is bad\n$/,
    );
    const withStack = await weft(['--stack', 'run', 'test/fixtures/job-fails.ts', '--no-progress']);
    assert.equal(withStack.code, 1);
    assert.match(withStack.stderr, /\n\s+at /);
  });

  it('prints the error of a failing job on a line of its own after the progress', async () => {
    const failed = await weft(['run', 'test/fixtures/job-fails.ts']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /tasks: .*\nweft: TaskFailedError: /);
  });

  it('explains a missing file and an unknown executor', async () => {
    const missing = await weft(['run', 'no/such/file.ts']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No file at .*no\/such\/file\.ts/);
    const unknown = await weft(['run', job, '--executor', 'gpu']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Unknown executor 'gpu'.*inline, asyncPool, threads, processes/);
  });

  it('works from the built package through the bin', async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      ['bin/weft.js', 'run', job, '--no-progress'],
      {
        cwd: root,
        env: { ...process.env, WEFT_EXECUTOR: 'threads', WEFT_WORKERS: '1' },
      },
    );
    assert.equal(JSON.parse(stdout).offThread, true, stderr);
  });
});
