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
import { startWeft, type WeftOptions, weft } from '../fixtures/weft-cli.ts';

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
    const busy = new RegExp(
      `^weft: RunBusyError: Run 'live-1' is running in process ${live.child.pid} on this machine .*` +
        'take the run over with: weft resume live-1 --store \\S+ --force$',
      'm',
    );
    assert.match(again.stderr, busy);
    assert.doesNotMatch(again.stderr, /continue it with/);
    const resumed = await weft(['resume', 'live-1', '--no-progress'], inStore);
    assert.equal(resumed.code, 1);
    assert.match(resumed.stderr, busy);
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

  it('takes only ids that start with a letter or digit, as the README says, and names the rule', async () => {
    const odd = [
      '..',
      '.hidden',
      '_x',
      '__proto__',
      'a b',
      '\ud800',
      '\u001b[31m',
      'é',
      'a'.repeat(201),
    ];
    for (const id of [...odd, 'a'.repeat(10_000)]) {
      const refused = await weft(['run', where, '--no-progress', '--run-id', id], inStore);
      assert.equal(refused.code, 1, id);
      assert.equal(refused.stdout, '', id);
      // One line, short, with nothing raw in it, whatever the id.
      assert.match(
        refused.stderr,
        /^weft: ValidationError: Run id '[^'\n]*' is not valid: a run id starts with a letter or digit, followed by up to 199 letters \(a-z, A-Z\), digits and \. _ : @ -, e\.g\. --run-id nightly-2\.\n$/,
        id.slice(0, 20),
      );
      assert.ok(refused.stderr.length < 400, id.slice(0, 20));
      assert.doesNotMatch(refused.stderr.slice(0, -1), /\p{Cc}/u);
    }
    const long = await weft(
      ['run', where, '--no-progress', '--run-id', 'a'.repeat(10_000)],
      inStore,
    );
    assert.match(long.stderr, /Run id 'a{80}… \(10,000 characters\)' is not valid/);
    const valid = `7._:@-${'x'.repeat(194)}`;
    const ran = await weft(['run', where, '--no-progress', '--run-id', valid], inStore);
    assert.equal(ran.code, 0, ran.stderr);
    const runs = JSON.parse((await weft(['runs', '--json'], inStore)).stdout) as { id: string }[];
    assert.deepEqual(
      runs.map((run) => run.id).filter((id) => !/^[A-Za-z0-9]/.test(id)),
      [],
      'no run was recorded under a refused id',
    );
    assert.ok(runs.some((run) => run.id === valid));
  });

  it('shows and resumes any id cleanly: one line when there is no such run', async () => {
    for (const verb of ['show', 'resume']) {
      for (const id of ['__proto__', 'constructor', 'a'.repeat(10_000)]) {
        const missing = await weft([verb, id], inStore);
        assert.equal(missing.code, 1, `${verb} ${id.slice(0, 20)}`);
        assert.match(
          missing.stderr,
          id.length > 1024
            ? /^weft: ValidationError: Run id 'a+…' is 10000 bytes long \(UTF-8\), over the 1024 bytes a store keeps: use a shorter id\.\n$/
            : /^weft: ValidationError: No run '[^'\n]+' in .*\. List the runs with: weft runs\n$/,
        );
        assert.ok(missing.stderr.length < 400);
      }
    }
  });
});
