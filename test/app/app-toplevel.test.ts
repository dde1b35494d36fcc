/** An application run at a module's top level, on threads: a clear error, never a hang. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('an application run at the top level of the module that defines its actions', () => {
  it('fails with what to do when a worker imports the module, instead of spawning workers', async () => {
    const env = { ...process.env };
    delete env.WEFT_EXECUTOR;
    delete env.WEFT_WORKERS;
    await assert.rejects(
      run(
        process.execPath,
        ['--conditions=weft-source', '--import', 'tsx', 'test/fixtures/app-toplevel-run.ts'],
        { cwd: root, env, timeout: 60_000 },
      ),
      (error: { stderr?: string; killed?: boolean }) => {
        assert.equal(error.killed, false, 'the script hung and was killed');
        assert.match(error.stderr ?? '', /Application '.*' was started while a worker imported/);
        return true;
      },
    );
  });
});
