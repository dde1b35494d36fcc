/**
 * Target `threads` in a script: the shared pool the call runs on is never closed, and the
 * script's process still ends by itself once its work is done. Also a script that
 * defines its batch classes and calls them at its top level (on threads and mpc): this
 * thread cannot read the exports of a module still being evaluated, yet the call runs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript } from './support/remote-exit.ts';

describe('target threads in a script', () => {
  it('ends by itself after using the shared pool', async () => {
    const ended = await runScript('remote-exit-script.ts', ['threads'], 30_000);
    assert.equal(ended.timedOut, false, 'the script was still running after 30 s');
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(ended.stdout.trim(), '[2,4]');
  });

  it('runs the classes a script defines and calls at its top level (threads and mpc), and ends', async () => {
    const ended = await runScript('remote-self-script.ts', [], 30_000);
    assert.equal(ended.timedOut, false, 'the script was still running after 30 s');
    assert.equal(ended.code, 0, ended.stderr);
    assert.deepEqual(JSON.parse(ended.stdout), {
      threads: [
        [1, false],
        [2, false],
      ],
      processes: [
        [2, true],
        [3, true],
      ],
    });
  });
});
