/**
 * Batch sizes of the threads and processes executors: what ran before, tiny tasks of
 * another name or tiny inputs of the same task, never sends a fan-out of long tasks to
 * one worker.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type Executor, map, processes, threads } from 'weftjs';
import { type Gate, inStep, quick } from '../fixtures/pool-batch-size-tasks.ts';

const WORKERS = 2;
const TINY = 10_000;
const LONG = 20;

/** Runs LONG gated tasks and returns how many each worker ran; fails if they got stuck on one. */
async function shares(executor: Executor): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-batch-'));
  try {
    const gates: Gate[] = Array.from({ length: LONG }, () => ({ dir, total: LONG }));
    const results = await map(gates, inStep, { executor });
    assert.deepEqual(
      results.filter((r) => r.stuck),
      [],
      'the fan-out was batched onto one worker',
    );
    const byWorker = new Map<string, number>();
    for (const { worker } of results) byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
    return [...byWorker.values()];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every worker ran about half: in step, no worker is more than one task ahead. */
function assertFair(counts: number[]): void {
  assert.equal(counts.length, WORKERS, `ran on ${counts.length} workers: ${counts}`);
  for (const count of counts) assert.ok(count >= LONG / WORKERS - 2, `shares ${counts}`);
}

for (const [name, make] of [
  ['threads', () => threads({ workers: WORKERS })],
  ['processes', () => processes({ workers: WORKERS })],
] as const) {
  describe(`${name}: batch sizes`, () => {
    it('spreads a fan-out of a new task over every worker after many tiny tasks of another', async (t) => {
      const executor = make();
      t.after(() => executor.close());
      const tiny = await map(
        Array.from({ length: TINY }, (_, i) => i),
        quick,
        { executor },
      );
      assert.equal(tiny[TINY - 1], TINY);
      assertFair(await shares(executor));
    });

    it('spreads a fan-out over every worker when the same task ran tiny before', async (t) => {
      const executor = make();
      t.after(() => executor.close());
      const tiny = await map(
        Array.from({ length: TINY }, (_, i) => i),
        inStep,
        { executor },
      );
      assert.equal(tiny.length, TINY);
      assertFair(await shares(executor));
    });
  });
}
