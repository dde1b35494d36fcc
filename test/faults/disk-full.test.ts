/**
 * A disk that fills up under a SQLite store (a tiny tmpfs where this machine allows,
 * otherwise a read-only folder: see full-disk.ts): the run fails with a StoreError that
 * names the store and says what to do, nothing already recorded is lost, and once there
 * is room again `weft resume` completes the run with the output of an uninterrupted one.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from 'weftjs';
import { type Ran, startWeft, weft } from '../fixtures/weft-cli.ts';
import { fullDisk } from './full-disk.ts';
import {
  assertBoundedRepeats,
  executions,
  executionsReached,
  job,
  scratch,
  uninterruptedOutput,
} from './harness.ts';

const count = 200;
/** Tasks from this item on wait for the gate file: the run is held there while the disk fills. */
const gateAt = 100;
const dir = scratch('disk');
const disk = fullDisk(join(dir, 'disk'));
after(() => disk.dispose());

let reference: string;
before(async () => {
  reference = await uninterruptedOutput(count);
});

/** The items whose task the store holds as completed. */
async function recordedItems(url: string, runId: string): Promise<Set<number>> {
  const store = await openStore(url);
  try {
    const records = await store.listTasks(runId);
    return new Set(
      records
        .filter((record) => record.status === 'completed')
        .map((record) => (record.output as { item: number }).item),
    );
  } finally {
    await store.close();
  }
}

describe('a full disk under the SQLite store', { timeout: 120_000 }, () => {
  it('fails the run with a StoreError naming the store; nothing recorded is lost; resume completes once there is room', async (t) => {
    t.diagnostic(`the disk fills by: ${disk.method}`);
    const file = join(disk.path, 'weft.db');
    const store = `sqlite:${file}`;
    const runId = 'disk-full';
    const log = join(dir, 'executions.log');
    const gate = join(dir, 'gate');
    // In this process: the executor plays no part here, and workers would only slow the test.
    const options = ['--store', store, '--executor', 'asyncPool', '--no-progress'];
    const env = { WEFT_FAULT_LOG: log, WEFT_FAULT_GATE: `${gateAt}:${gate}` };

    const started = startWeft(['run', job, String(count), '--run-id', runId, ...options], { env });
    // A task past the gate started: the run is held, some of its tasks recorded.
    if (!(await executionsReached(log, gateAt + 1, started.finished))) {
      assert.fail(`weft ended before reaching the gate:\n${(await started.finished).stderr}`);
    }
    const recorded = await recordedItems(store, runId);
    t.diagnostic(`${recorded.size} tasks recorded before the disk filled`);

    let failed: Ran;
    if (disk.method === 'tmpfs') {
      // The disk fills under the running process, which then writes its next records.
      disk.fill();
      writeFileSync(gate, '');
      const end = await started.finished;
      failed = { code: end.code ?? -1, stdout: end.stdout, stderr: end.stderr };
    } else {
      // Files it holds open stay writable: stop it, and let the next process meet the folder.
      started.child.kill('SIGKILL');
      await started.finished;
      writeFileSync(gate, '');
      disk.fill();
      failed = await weft(['resume', runId, ...options], { env });
    }
    assert.equal(failed.code, 1, `weft failed:\n${failed.stderr}`);
    assert.match(failed.stderr, /StoreError/);
    assert.ok(failed.stderr.includes(file), `the error names the store:\n${failed.stderr}`);
    assert.match(failed.stderr, disk.advice, 'the error says what to do');

    disk.free();
    const resumed = await weft(['resume', runId, ...options], { env });
    assert.equal(resumed.code, 0, `resume failed once there was room:\n${resumed.stderr}`);
    assert.equal(resumed.stdout.trim(), reference, 'outputs equal an uninterrupted run');

    const { counts } = executions(log);
    const ranAgain = [...recorded].filter((item) => counts.get(item) !== 1);
    assert.deepEqual(ranAgain, [], 'tasks recorded before the disk filled did not run again');
    const repeats = assertBoundedRepeats(log, count, 1);
    t.diagnostic(`${repeats} tasks ran again`);
  });
});
