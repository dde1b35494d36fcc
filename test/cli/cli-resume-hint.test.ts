/**
 * What `weft run` says when a run stops: the error, then the command that resumes it (with
 * the store it needs), only when there is something to resume; one plain line on Ctrl-C.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { root, startWeft, type WeftOptions, weft } from '../fixtures/weft-cli.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-cli-hint-'));
const storeFile = join(folder, 'runs.db');
const inStore: WeftOptions = {
  env: { WEFT_STORE: `sqlite:${storeFile}`, WEFT_EXECUTOR: undefined },
};
const fails = join(root, 'test/fixtures/job-fails.ts');

describe('the resume hint', () => {
  it('comes after the error and names the store, so that it works from anywhere', async () => {
    const failed = await weft(['run', fails, '--no-progress', '--run-id', 'hint-1'], inStore);
    assert.equal(failed.code, 1);
    const lines = failed.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 3, failed.stderr);
    assert.match(lines[0]!, /^weft: run hint-1 in /);
    assert.match(lines[1]!, /^weft: TaskFailedError: .*the second item is bad$/);
    assert.equal(
      lines[2],
      `weft: run hint-1 stopped; continue it with: weft resume hint-1 --store sqlite:${storeFile}`,
    );
    // Typed elsewhere, without WEFT_STORE, the hint resumes the run.
    const hint = lines[2]!.slice(lines[2]!.indexOf('weft resume ') + 'weft '.length).split(' ');
    const resumed = await weft([...hint, '--no-progress'], {
      cwd: mkdtempSync(join(tmpdir(), 'weft-cli-elsewhere-')),
      env: { WEFT_STORE: undefined },
    });
    assert.match(resumed.stderr, /^weft: resuming run hint-1 \(\d+ tasks already done\)/);
  });

  it('is the bare command for the default store, and absent for a memory store', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'weft-cli-default-'));
    const failed = await weft(['run', fails, '--no-progress', '--run-id', 'hint-2'], {
      cwd,
      env: { WEFT_STORE: undefined },
    });
    assert.equal(failed.code, 1);
    assert.match(
      failed.stderr,
      /\nweft: run hint-2 stopped; continue it with: weft resume hint-2\n$/,
    );
    const memory = await weft(['run', fails, '--no-progress', '--store', 'memory:'], inStore);
    assert.equal(memory.code, 1);
    assert.match(memory.stderr, /TaskFailedError: .*the second item is bad\n$/);
    assert.doesNotMatch(memory.stderr, /resume/);
  });

  it('is not given when the job never started; the run is marked failed with the error', async () => {
    const jobs = {
      'syntax.ts': ['export default function main( {\n', /Transform failed|Expected/],
      'no-default.mjs': ['export const x = 1;\n', /has no default export/],
      'not-runnable.ts': ['export default 42;\n', /default export of .* is number/],
    } as const;
    for (const [name, [text, said]] of Object.entries(jobs)) {
      const file = join(folder, name);
      writeFileSync(file, text);
      const id = `early-${name.replace('.', '-')}`;
      const failed = await weft(['run', file, '--no-progress', '--run-id', id], inStore);
      assert.equal(failed.code, 1, name);
      assert.match(failed.stderr, said, name);
      assert.doesNotMatch(failed.stderr, /resume/, name);
      const shown = JSON.parse((await weft(['show', id, '--json'], inStore)).stdout);
      assert.equal(shown.run.status, 'failed', name);
      assert.match(shown.run.error.message, said, name);
      assert.deepEqual(shown.tasks, [], name);
    }
  });
});

describe('Ctrl-C', () => {
  it('says so in one plain line, then how to resume; no error, no stack hint, exit 130', async () => {
    const started = startWeft(
      ['run', 'test/fixtures/job-waits.ts', '--no-progress', '--run-id', 'sigint-1'],
      inStore,
    );
    await started.printed('waiting');
    started.child.kill('SIGINT');
    const { code, stderr } = await started.finished;
    assert.equal(code, 130);
    assert.deepEqual(stderr.trimEnd().split('\n').slice(1), [
      'weft: interrupted; stopping the running tasks (Ctrl-C again to quit at once)',
      `weft: run sigint-1 stopped; continue it with: weft resume sigint-1 --store sqlite:${storeFile}`,
    ]);
    const shown = JSON.parse((await weft(['show', 'sigint-1', '--json'], inStore)).stdout);
    assert.equal(shown.run.status, 'interrupted');
  });
});
