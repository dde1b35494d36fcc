/**
 * Target `mpc` in a script: the shared pool the call runs on is never closed, and the
 * script's process still ends by itself once its work is done.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript } from './support/remote-exit.ts';

describe('target mpc in a script', () => {
  it('ends by itself after using the shared pool', async () => {
    const ended = await runScript('remote-exit-script.ts', ['mpc'], 30_000);
    assert.equal(ended.timedOut, false, 'the script was still running after 30 s');
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(ended.stdout.trim(), '[2,4]');
  });
});
