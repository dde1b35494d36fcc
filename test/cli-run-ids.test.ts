/**
 * `weft run --run-id`: an id names one job. A live run is not run twice, a recorded run is
 * not continued with another file or other arguments (unless --force), and an id that
 * looks like an option is refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startWeft, type WeftOptions, weft } from './fixtures/weft-cli.ts';

const store = `sqlite:${join(mkdtempSync(join(tmpdir(), 'weft-cli-ids-')), 'weft.db')}`;
const inStore: WeftOptions = { env: { WEFT_STORE: store, WEFT_EXECUTOR: undefined } };
const where = 'test/fixtures/job-where.ts';

describe('weft run --run-id', () => {
  // Bounded: were the id not refused, the second command would wait on the live run's tasks.
  it('refuses an id whose run is live, as weft resume does, and leaves that run alone', {
    timeout: 60_000,
  }, async () => {
    const live = startWeft(
      ['run', 'test/fixtures/job-waits.ts', '--no-progress', '--run-id', 'live-1'],
      inStore,
    );
    await live.printed('waiting');
    const again = await weft(
      ['run', 'test/fixtures/job-waits.ts', '--no-progress', '--run-id', 'live-1'],
      inStore,
    );
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /^weft: ValidationError: Run 'live-1' is still running \(process \d+\)\. Run it again once it has stopped/m,
    );
    assert.doesNotMatch(again.stderr, /weft resume/);
    const resumed = await weft(['resume', 'live-1', '--no-progress'], inStore);
    assert.equal(resumed.code, 1);
    assert.match(resumed.stderr, /Run 'live-1' is still running \(process \d+\)\. Resume it/);
    const shown = JSON.parse((await weft(['show', 'live-1', '--json'], inStore)).stdout);
    assert.equal(shown.run.status, 'running');
    assert.equal(shown.run.attempts, 1);
    live.child.kill('SIGINT');
    assert.equal((await live.finished).code, 130);
  });

  it('refuses an id that ran another file or other arguments, unless --force', async () => {
    const first = await weft(['run', where, '--no-progress', '--run-id', 'same-1', 'a'], inStore);
    assert.equal(first.code, 0, first.stderr);
    const otherFile = await weft(
      ['run', 'test/fixtures/job-fails.ts', '--no-progress', '--run-id', 'same-1'],
      inStore,
    );
    assert.equal(otherFile.code, 1);
    assert.match(
      otherFile.stderr,
      /^weft: ValidationError: Run 'same-1' was started as: weft run \S*job-where\.ts a; this is: weft run \S*job-fails\.ts\. .*--force/,
    );
    assert.doesNotMatch(otherFile.stderr, /weft resume/);
    const otherArgs = await weft(
      ['run', where, '--no-progress', '--run-id', 'same-1', '--', '--limit', '5'],
      inStore,
    );
    assert.equal(otherArgs.code, 1);
    assert.match(
      otherArgs.stderr,
      /Run 'same-1' was started as: weft run \S*job-where\.ts a; this is: weft run \S*job-where\.ts -- --limit 5\./,
    );
    // Nothing ran: the run is as the first command left it.
    let shown = JSON.parse((await weft(['show', 'same-1', '--json'], inStore)).stdout);
    assert.equal(shown.run.attempts, 1);
    assert.deepEqual(shown.run.meta.args, ['a']);

    const same = await weft(['run', where, '--no-progress', '--run-id', 'same-1', 'a'], inStore);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stderr, /resuming run same-1/);
    const forced = await weft(
      ['run', where, '--no-progress', '--run-id', 'same-1', '--force', 'b', 'c'],
      inStore,
    );
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(JSON.parse(forced.stdout).args, ['b', 'c']);
    // The run records the job it now runs.
    shown = JSON.parse((await weft(['show', 'same-1', '--json'], inStore)).stdout);
    assert.equal(shown.run.attempts, 3);
    assert.deepEqual(shown.run.meta.args, ['b', 'c']);
    assert.match((await weft(['show', 'same-1'], inStore)).stdout, /^ {2}args b c$/m);
  });

  it('refuses an id that looks like an option, before creating anything', async () => {
    for (const id of ['--help', '-x']) {
      const refused = await weft(['run', where, '--no-progress', '--run-id', id], inStore);
      assert.equal(refused.code, 1, refused.stdout);
      assert.match(
        refused.stderr,
        new RegExp(`^weft: ValidationError: Run id '${id}' looks like an option`),
      );
      assert.equal(refused.stdout, '');
    }
    const runs = JSON.parse((await weft(['runs', '--json'], inStore)).stdout) as { id: string }[];
    assert.ok(runs.every((run) => !run.id.startsWith('-')));
  });
});
