/**
 * `weft run` of a module whose default export is a pipeline (weftjs/batch): run with the
 * options its lazy run holds, refused without a batch size, and resumed after a SIGKILL
 * without running its finished items again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { killAtLines, lines } from '../fixtures/child-jobs.ts';
import { startWeft, weft } from '../fixtures/weft-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-cli-batch-'));
const store = `sqlite:${join(dir, 'weft.db')}`;
const support = 'test/batch/support';

describe('weft run of a pipeline', () => {
  it('runs it with the options of its lazy run and prints what it did', async () => {
    const { code, stdout, stderr } = await weft([
      'run',
      `${support}/pipeline-job.ts`,
      '--store',
      store,
      '--no-progress',
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), '{ batches: 3, items: 10 }');
  });

  it('refuses a pipeline that holds no batch size, naming the file and the fix', async () => {
    const file = `${support}/pipeline-unsized-job.ts`;
    const { code, stdout, stderr } = await weft(['run', file, '--store', store, '--no-progress']);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.ok(stderr.includes(`${file} exports a pipeline with no batch size`), stderr);
    assert.match(stderr, /configure it with \.run\(\{ batchSize, lazy: true \}\)/);
  });

  it('resumes a run killed part-way without running its finished items again', async () => {
    const log = join(dir, 'items.log');
    const runId = 'pipeline-killed';
    const job = `${support}/pipeline-kill-job.ts`;
    // Batches 0 and 1 finish; batches 2 and 3 then hold two items each at the gate.
    const started = startWeft(['run', job, '--run-id', runId, '--store', store, '--no-progress'], {
      env: { WEFT_PIPELINE_LOG: log, WEFT_PIPELINE_GATE: '10' },
    });
    const inFlight = 4;
    await killAtLines(log, started.child, {
      count: 10 + inFlight,
      endedFirst: (code) => `weft ended (code ${code}) before the items reached the gate`,
    });
    const killed = await started.finished;
    assert.equal(killed.signal, 'SIGKILL');
    assert.deepEqual(
      lines(log)
        .map((line) => Number(line.split(' ')[0]))
        .sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16],
    );

    const resumed = await weft(['resume', runId, '--store', store, '--no-progress'], {
      env: { WEFT_PIPELINE_LOG: log, WEFT_PIPELINE_GATE: undefined },
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stdout.trim(), '{ batches: 4, items: 20 }');
    const runs = new Map<number, number>();
    for (const line of lines(log)) {
      const id = Number(line.split(' ')[0]);
      runs.set(id, (runs.get(id) ?? 0) + 1);
    }
    assert.deepEqual(
      [...runs.keys()].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, id) => id),
      'every item ran',
    );
    for (let id = 0; id < 10; id++) assert.equal(runs.get(id), 1, `item ${id} ran once`);
    assert.ok(
      lines(log).length <= 20 + inFlight,
      `${lines(log).length} executions: at most the items and those in flight at the kill`,
    );
  });
});
