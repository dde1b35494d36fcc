/**
 * `weft run` of a module whose default export is a composite (weftjs/compose): applied to
 * the batch the module exports and its result printed, refused without a batch, and
 * resumed after a SIGKILL without running its finished operator tasks again.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from 'weftjs';
import { lines } from '../fixtures/child-jobs.ts';
import { startWeft, weft } from '../fixtures/weft-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-cli-compose-'));
const store = `sqlite:${join(dir, 'weft.db')}`;
const job = 'test/fixtures/compose-job.ts';

describe('weft run of a composite', () => {
  it('applies it to the exported batch and prints the merged data with every state', async () => {
    for (const executor of [[], ['--executor', 'threads', '--workers', '2']]) {
      const { code, stdout, stderr } = await weft(
        ['run', job, '1', '2', '--store', store, '--no-progress', ...executor],
        { env: { WEFT_EXECUTOR: undefined, WEFT_WORKERS: undefined } },
      );
      assert.equal(code, 0, stderr);
      // x * 2 (an operator task) and x * 3 (a function), concatenated per example.
      assert.match(stdout, /^\{\n? *data: Tensor<float32>\[2, 2\] \[ \[ 2, 3 \], \[ 4, 6 \] \],/);
      assert.match(stdout, /states: \[/);
      assert.match(stdout, /metadata: \[/);
    }
  });

  it('refuses a composite that exports no batch, naming the file and the export to add', async () => {
    const file = 'test/fixtures/compose-unbatched-job.ts';
    const { code, stdout, stderr } = await weft(['run', file, '--store', store, '--no-progress']);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.ok(stderr.includes(`${file} exports a composite (weftjs/compose) but no batch`), stderr);
    assert.ok(stderr.includes('export const batch = '), stderr);
    assert.doesNotMatch(stderr, /weft resume/, 'nothing started, so nothing to resume');
  });
});

describe('weft run of a composite killed part-way', () => {
  const killJob = 'test/fixtures/compose-kill-job.ts';
  const tasks = 24; // 2 operators × 12 examples, one example per task
  const gate = 10;
  const threads = ['--executor', 'threads', '--workers', '2'];
  const reader = openStore(store);
  after(async () => (await reader).close());

  it('resumes without running its finished tasks again, and prints what an uninterrupted run does', async (t) => {
    const whole = await weft(
      ['run', killJob, '--run-id', 'compose-whole', '--store', store, '--no-progress', ...threads],
      { env: { WEFT_COMPOSE_LOG: join(dir, 'whole.log'), WEFT_COMPOSE_GATE: undefined } },
    );
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(lines(join(dir, 'whole.log')).length, tasks);

    const log = join(dir, 'killed.log');
    const runId = 'compose-killed';
    const started = startWeft(
      ['run', killJob, '--run-id', runId, '--store', store, '--no-progress', ...threads],
      { env: { WEFT_COMPOSE_LOG: log, WEFT_COMPOSE_GATE: String(gate) } },
    );
    // The first `gate` tasks to start finish; the others wait. Killed once those are recorded.
    await killWhenRecorded(started.child, runId, gate);
    const killed = await started.finished;
    assert.equal(killed.signal, 'SIGKILL');
    const atKill = lines(log).map((line) => line.split(' ')[0]!);
    const finished = atKill.slice(0, gate);
    const inFlight = atKill.length - gate;
    assert.ok(atKill.length < tasks, `killed part-way (${atKill.length} of ${tasks} started)`);

    const resumed = await weft(['resume', runId, '--store', store, '--no-progress'], {
      env: { WEFT_COMPOSE_LOG: log, WEFT_COMPOSE_GATE: undefined },
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming run compose-killed \(10 tasks already done\)/);
    assert.equal(resumed.stdout, whole.stdout, 'the output of an uninterrupted run');

    const runs = new Map<string, number>();
    for (const line of lines(log)) {
      const id = line.split(' ')[0]!;
      runs.set(id, (runs.get(id) ?? 0) + 1);
    }
    assert.equal(runs.size, tasks, 'every task ran');
    for (const id of finished) assert.equal(runs.get(id), 1, `task ${id}, finished, ran once`);
    assert.ok(
      lines(log).length <= tasks + inFlight,
      `${lines(log).length} executions: at most the tasks and the ${inFlight} in flight at the kill`,
    );
    t.diagnostic(`killed with ${gate} tasks recorded and ${inFlight} in flight`);
  });

  /**
   * Kills `child` with SIGKILL once the store holds `count` completed tasks of `runId`,
   * reading the store each time its folder changes (no polling).
   */
  async function killWhenRecorded(child: ChildProcess, runId: string, count: number) {
    const store = await reader;
    await new Promise<void>((resolve, reject) => {
      let reading = false;
      let changed = false;
      const check = async (): Promise<void> => {
        if (reading) {
          changed = true;
          return;
        }
        reading = true;
        try {
          do {
            changed = false;
            if ((await store.countCompleted(runId)) >= count && child.exitCode === null) {
              child.kill('SIGKILL');
              watcher.close();
              resolve();
              return;
            }
          } while (changed);
        } catch (error) {
          watcher.close();
          reject(error);
        } finally {
          reading = false;
        }
      };
      const watcher = watch(dir, () => void check());
      child.once('exit', (code) => {
        watcher.close();
        reject(new Error(`weft ended (code ${code}) before ${count} tasks were recorded`));
      });
      void check();
    });
  }
});
