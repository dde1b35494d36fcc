/** The `weft` command, run as a real child process: from source, and the built bin once. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
// Runs are recorded in a store of this test file's own, not in the project's .weft/.
const storeFile = `sqlite:${join(mkdtempSync(join(tmpdir(), 'weft-cli-')), 'weft.db')}`;
const sourceCli = ['--conditions=weft-source', '--import', 'tsx', 'src/cli/main.ts'];

async function weft(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [...sourceCli, ...args], {
      cwd: root,
      env: { ...process.env, WEFT_STORE: storeFile, ...env },
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

  it('reports a failing job in one line, says how to resume, exits 1; stack only on request', async () => {
    const failed = await weft([
      'run',
      'test/fixtures/job-fails.ts',
      '--no-progress',
      '--run-id',
      'fails-1',
    ]);
    assert.equal(failed.code, 1);
    const lines = failed.stderr.trimEnd().split('\n');
    assert.match(lines[0]!, /^weft: run fails-1 in .*weft\.db$/);
    assert.match(
      lines[1]!,
      /^weft: TaskFailedError: Task 'fixtures:explode' .* the second item is bad$/,
    );
    assert.equal(
      lines[2],
      `weft: run fails-1 stopped; continue it with: weft resume fails-1 --store ${storeFile}`,
    );
    assert.equal(lines.length, 3);
    assert.doesNotMatch(failed.stderr, /\n\s+at /);
    const withStack = await weft(['--stack', 'run', 'test/fixtures/job-fails.ts', '--no-progress']);
    assert.equal(withStack.code, 1);
    assert.match(withStack.stderr, /\n\s+at /);
    const debug = await weft(['run', 'test/fixtures/job-fails.ts', '--no-progress'], {
      WEFT_DEBUG: '1',
    });
    assert.match(debug.stderr, /\n\s+at /);
  });

  it('prints the error of a failing job on a line of its own after the progress', async () => {
    const failed = await weft(['run', 'test/fixtures/job-fails.ts']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /tasks: [^\n]*\n(weft: [^\n]*\n)*weft: TaskFailedError: /);
  });

  it('explains an unreachable PostgreSQL, a corrupt store file and a bad store URL in one line', async () => {
    const unreachable = await weft([
      'run',
      job,
      '--no-progress',
      '--store',
      'postgres://postgres@127.0.0.1:1/test',
    ]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /^weft: StoreError: .*127\.0\.0\.1:1.*\n$/);
    const corrupt = join(mkdtempSync(join(tmpdir(), 'weft-corrupt-')), 'weft.db');
    writeFileSync(corrupt, 'this is not a database, just some text to look like one');
    const before = readFileSync(corrupt);
    const broken = await weft(['run', job, '--no-progress', '--store', `sqlite:${corrupt}`]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /^weft: StoreError: .*weft\.db/);
    assert.deepEqual(readFileSync(corrupt), before, 'the file is untouched');
    const wrong = await weft(['runs', '--store', 'mysql://localhost/x']);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /^weft: ValidationError: Store URL 'mysql:\/\/localhost\/x' is not one weft knows/,
    );
  });

  it('lists runs and shows one, with its fan-outs and failures', async () => {
    await weft(['run', 'test/fixtures/job-fails.ts', '--no-progress', '--run-id', 'listed-1']);
    const runs = await weft(['runs']);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, /^RUN\s+STATUS\s+TRIES\s+STARTED\s+UPDATED\s+FILE$/m);
    assert.match(runs.stdout, /^listed-1\s+failed\s+1\s.*job-fails\.ts$/m);
    const shown = await weft(['show', 'listed-1']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^run listed-1: failed \(1 try\)$/m);
    assert.match(shown.stdout, /error TaskFailedError: Task 'fixtures:explode'/);
    assert.match(
      shown.stdout,
      /listed-1\/map:fixtures:explode\/1 \(fixtures:explode, 1 attempt\): Error: the second item is bad/,
    );
    const json = JSON.parse((await weft(['show', 'listed-1', '--json'])).stdout);
    assert.equal(json.run.id, 'listed-1');
    assert.ok(json.tasks.length >= 1);
    const missing = await weft(['show', 'no-such-run']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No run 'no-such-run'.*weft runs/);
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
        env: { ...process.env, WEFT_STORE: storeFile, WEFT_EXECUTOR: 'threads', WEFT_WORKERS: '1' },
      },
    );
    assert.equal(JSON.parse(stdout).offThread, true, stderr);
  });
});

describe('weft resume and runs, refusals', () => {
  it('refuses to resume a completed run or a bad limit, and gives no resume hint for a run never opened', async () => {
    const done = await weft(['run', job, '--no-progress', '--run-id', 'done-1']);
    assert.equal(done.code, 0, done.stderr);
    const again = await weft(['resume', 'done-1', '--no-progress']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Run 'done-1' already completed: nothing to resume/);
    for (const value of ['abc', '0', '1.5', '1e3', '99999999999999999999', '9007199254740992']) {
      const limit = await weft(['runs', '--limit', value]);
      assert.equal(limit.code, 1, value);
      assert.equal(
        limit.stderr,
        `weft: ValidationError: -n, --limit must be a whole number from 1 to 9007199254740991, got '${value}'. Give how many runs to list, e.g. weft runs -n 50.\n`,
      );
    }
    const most = await weft(['runs', '-n', '9007199254740991', '--json']);
    assert.equal(most.code, 0, most.stderr);
    assert.ok(JSON.parse(most.stdout).some((run: { id: string }) => run.id === 'done-1'));
    const badId = await weft(['run', job, '--no-progress', '--run-id', 'bad id']);
    assert.equal(badId.code, 1);
    assert.match(badId.stderr, /Run id 'bad id' is not valid/);
    assert.doesNotMatch(badId.stderr, /weft resume/);
  });
});

describe('weft, the small things', () => {
  it('prints its version, from package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const printed = await weft([flag]);
      assert.equal(printed.code, 0, printed.stderr);
      assert.equal(printed.stdout, `${version}\n`);
    }
  });

  it('documents WEFT_DEBUG and the other variables in its help', async () => {
    const help = await weft(['--help']);
    assert.match(help.stdout, /^Environment:$/m);
    for (const name of ['WEFT_STORE', 'WEFT_EXECUTOR', 'WEFT_WORKERS']) {
      assert.match(help.stdout, new RegExp(`^  ${name}  `, 'm'));
    }
    assert.match(help.stdout, /^ {2}WEFT_DEBUG=1 +print stack traces of errors/m);
  });

  it('passes job arguments that start with - after --, and says so when they come without', async () => {
    const passed = await weft(['run', job, '--no-progress', '--', '--limit', '5', '--run-id', 'x']);
    assert.equal(passed.code, 0, passed.stderr);
    assert.deepEqual(JSON.parse(passed.stdout).args, ['--limit', '5', '--run-id', 'x']);
    const without = await weft(['run', job, '--no-progress', '--limit', '5']);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /^error: unknown option '--limit'\n/);
    assert.match(without.stderr, /go after --: weft run job\.ts -- --limit 5/);
    const help = await weft(['run', '--help']);
    assert.match(help.stdout.replace(/\s+/g, ' '), /weft run job\.ts -- --limit 5/);
  });
});
