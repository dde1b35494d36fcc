/**
 * `weft ui` and `weft run --ui` as commands: the server starts on loopback and answers
 * the API, stops on SIGTERM, refuses a port in use (or no store) saying what to do, warns
 * when serving beyond this machine; `weft run --ui` prints the address of the run's page,
 * which answers while the run goes, and stops with the run.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { asyncPool, openStore } from 'weftjs';
import type { RunDetail, RunsPage } from '../../src/ui/api-types.ts';
import { root, startWeft, weft } from '../fixtures/weft-cli.ts';
import { recordSmallRun, withPortTaken } from '../ui/support.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-cli-ui-'));
const store = `sqlite:${join(dir, 'weft.db')}`;
const env = { WEFT_STORE: undefined, WEFT_EXECUTOR: undefined };

/** Resolves with the first match of `pattern` in what `child` prints on `stream`. */
function printed(
  child: ChildProcess,
  stream: 'stdout' | 'stderr',
  pattern: RegExp,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const look = (chunk: Buffer | string) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (!match) return;
      child[stream]?.off('data', look);
      resolve(match);
    };
    child[stream]?.on('data', look);
    child.once('exit', () => reject(new Error(`exited before printing ${pattern}:\n${text}`)));
  });
}

describe('weft ui', () => {
  before(async () => {
    const opened = await openStore(store);
    const executor = asyncPool({ concurrency: 2 });
    try {
      await recordSmallRun(opened, 'cli-ui-run', '/jobs/cli-ui.ts', executor);
    } finally {
      await executor.close();
      await opened.close();
    }
  });

  it('serves the runs on loopback, says where, and stops on SIGTERM', async () => {
    const started = startWeft(['ui', '--port', '0', '--store', store], { env });
    const [, url] = await printed(
      started.child,
      'stdout',
      /weft ui: (http:\/\/127\.0\.0\.1:\d+) · store sqlite (\S+)\n/,
    );
    const runs = (await (await fetch(`${url}/api/runs`)).json()) as RunsPage;
    assert.deepEqual(
      runs.runs.map((run) => [run.id, run.status, run.tasks.completed]),
      [['cli-ui-run', 'completed', 2]],
    );
    started.child.kill('SIGTERM');
    const end = await started.finished;
    assert.equal(end.code, 0, end.stderr);
    assert.match(end.stdout, new RegExp(`store sqlite ${join(dir, 'weft.db')}`));
    await assert.rejects(fetch(`${url}/api/runs`));
  });

  it('refuses a port in use, naming it and the option to choose another', async () => {
    await withPortTaken(async (port) => {
      const ran = await weft(['ui', '--port', String(port), '--store', store], { env });
      assert.equal(ran.code, 1);
      assert.match(
        ran.stderr,
        new RegExp(
          `^weft: PortInUseError: Port ${port} on 127\\.0\\.0\\.1 is in use.*--port \\d+`,
          'm',
        ),
      );
    });
  });

  it('refuses a bad port and a store that does not exist', async () => {
    const bad = await weft(['ui', '--port', 'eighty', '--store', store], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--port must be a port number from 0 to 65535.*'eighty'/);
    const none = await weft(['ui', '--port', '0', '--store', `sqlite:${join(dir, 'none.db')}`], {
      env,
    });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /No runs to show: there is no store at .*none\.db yet/);
  });

  it('warns when serving beyond this machine', async () => {
    const started = startWeft(['ui', '--port', '0', '--host', '0.0.0.0', '--store', store], {
      env,
    });
    await printed(started.child, 'stderr', /warning: serving on 0\.0\.0\.0.*anyone/);
    const [, port] = await printed(started.child, 'stdout', /weft ui: http:\/\/0\.0\.0\.0:(\d+)/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/runs`)).status, 200);
    started.child.kill('SIGTERM');
    assert.equal((await started.finished).code, 0);
  });
});

describe('weft run --ui', () => {
  it("prints the address of the run's page, which answers while the run goes", async () => {
    const gate = join(dir, 'gate');
    const started = startWeft(
      [
        'run',
        join(root, 'test/fixtures/job-lease.ts'),
        '--ui',
        '--port',
        '0',
        '--no-progress',
        '--run-id',
        'with-ui',
        '--store',
        store,
      ],
      {
        env: {
          ...env,
          WEFT_TEST_GATE: gate,
          WEFT_TEST_LOG: join(dir, 'log'),
          WEFT_TEST_FAIL: undefined,
        },
      },
    );
    const [, url] = await printed(
      started.child,
      'stderr',
      /weft ui: (http:\/\/127\.0\.0\.1:\d+)\/runs\/with-ui\n/,
    );
    await started.printed('started');
    const detail = await fetch(`${url}/api/runs/with-ui`);
    assert.equal(detail.status, 200);
    const body = (await detail.json()) as RunDetail;
    assert.equal(body.run.status, 'running');
    const page = await fetch(`${url}/runs/with-ui`);
    // The page, or where it is not built, the page saying how to build it.
    assert.ok([200, 503].includes(page.status));
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    writeFileSync(gate, '');
    const end = await started.finished;
    assert.equal(end.code, 0, end.stderr);
    assert.match(end.stdout, /100 done/);
    await assert.rejects(fetch(`${url}/api/runs`));
  });

  it('refuses --port without --ui', async () => {
    const ran = await weft(['run', join(root, 'test/fixtures/job-lease.ts'), '--port', '0'], {
      env: { ...env, WEFT_STORE: store },
    });
    assert.equal(ran.code, 1);
    assert.match(ran.stderr, /--port is the port of --ui/);
  });
});
