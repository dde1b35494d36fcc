/**
 * Task operators on worker threads: the same outputs as in this thread, the batch read
 * from one shared copy (never sent per chunk), outputs moved back, and an operator's
 * retries applied per chunk.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isTransfer, isWeftError, threads } from 'weftjs';
import { CompositeOperator, ParallelStrategy, type Tensor, tensor, zeros } from 'weftjs/compose';
import { Recording } from '../batch/support/remote-executors.ts';
import { RawOutputs } from './support/executors.ts';
import {
  double,
  flaky,
  keepsInput,
  noisy,
  oddKeys,
  triple,
  whereIsData,
} from './support/operators.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

/** A [size, width] batch of distinct values. */
function batchOf(size: number, width: number): Tensor {
  return zeros([size, width]).map((_, i) => i * 0.5 - 3);
}

describe('a composite of task operators on threads', () => {
  it('gives the outputs the same operators give in this thread', async () => {
    const composite = new CompositeOperator({
      operators: [double, triple, noisy],
      strategy: new ParallelStrategy({ mergeStrategy: 'stack' }),
    });
    const batch = batchOf(20, 3);
    const inline = (await composite.apply(batch, { seed: 5 })) as Tensor;
    const onThreads = (await composite.apply(batch, { seed: 5, executor })) as Tensor;
    assert.deepEqual(onThreads.shape, [20, 3, 3]);
    assert.deepEqual(onThreads.toArray(), inline.toArray());
    assert.deepEqual((onThreads.toArray() as number[][][])[1]![0], [-3, -2, -1]);
  });

  it("reads the batch from shared memory: each chunk's input carries no copy of it", async () => {
    const recording = new Recording(executor);
    const composite = new CompositeOperator({
      operators: [whereIsData, whereIsData],
      examplesPerTask: 4,
      executor: recording,
    });
    const batch = batchOf(64, 256); // 64 KiB of float32
    const result = await composite.run(batch);
    for (const perOperator of result.metadata as unknown[][]) {
      assert.equal(perOperator.length, 64);
      for (const metadata of perOperator) {
        // Every example views the one shared copy of the whole batch.
        assert.deepEqual(metadata, { shared: true, bufferBytes: 64 * 256 * 4 });
      }
    }
    const chunks = recording.seen.filter((seen) => seen.task === 'weft:compose/applyOperator');
    assert.equal(chunks.length, 32);
    for (const { bytes } of chunks) assert.ok(bytes < 2048, `a chunk's input took ${bytes} bytes`);
    assert.deepEqual(((result.data as Tensor).toArray() as number[][])[0]!.slice(0, 2), [-2, -1.5]);
  });

  it('keeps data already in shared memory where it is', async () => {
    const shared = new Float32Array(new SharedArrayBuffer(4 * 8 * 2)).fill(1);
    const recording = new Recording(executor);
    const composite = new CompositeOperator({ operators: [whereIsData], executor: recording });
    await composite.apply(tensor(shared, { shape: [8, 2] }));
    const input = recording.seen[0]!.input as { batch: { data: Float32Array } };
    assert.equal(input.batch.data, shared);
  });

  it("moves each chunk's output buffers back rather than copying them", async () => {
    const raw = new RawOutputs();
    const composite = new CompositeOperator({
      operators: [oddKeys, oddKeys],
      strategy: new ParallelStrategy({ mergeStrategy: 'dict' }),
      examplesPerTask: 3,
      executor: raw,
    });
    await composite.apply(batchOf(6, 2));
    assert.equal(raw.outputs.length, 4);
    for (const output of raw.outputs) {
      assert.ok(isTransfer(output));
      const { data } = output.value as { data: Record<string, { data: Float32Array }> };
      const leaves = Object.keys(data).map((key) => data[key]!.data.buffer);
      assert.equal(leaves.length, 4);
      // Every leaf's buffer is listed: transfer's own search stops two levels down.
      assert.deepEqual(new Set(output.list), new Set(leaves));
    }
  });

  it('writes outputs shaped like the batch straight into shared memory, outside a run', async () => {
    const raw = new RawOutputs();
    const shaped = new CompositeOperator({
      operators: [double, triple],
      strategy: new ParallelStrategy({ mergeStrategy: 'stack' }),
      examplesPerTask: 2,
      executor: raw,
    });
    const out = (await shaped.apply(batchOf(8, 3))) as Tensor;
    assert.equal(raw.outputs.length, 8);
    for (const output of raw.outputs) {
      // Written in place: nothing comes back but the chunk's report.
      assert.ok(isTransfer(output));
      assert.equal(output.list.length, 0);
    }
    const rows = batchOf(8, 3).toArray() as number[][];
    assert.deepEqual(
      out.toArray(),
      rows.map((row) => [row.map((v) => v * 2), row.map((v) => v * 3)]),
    );
    // Outputs of another shape come back in buffers of their own, moved, and joined here.
    const rawOther = new RawOutputs();
    const other = new CompositeOperator({
      operators: [oddKeys],
      examplesPerTask: 2,
      executor: rawOther,
    });
    const own = (await other.apply(batchOf(8, 1))) as unknown as Record<string, Tensor>;
    for (const output of rawOther.outputs) {
      assert.ok(isTransfer(output));
      assert.ok(output.list.length > 0);
    }
    const doubled = Object.getOwnPropertyDescriptor(own, 'a\u0000b')!.value as Tensor;
    assert.deepEqual(doubled.shape, [8, 1]);
  });

  it('an output of one apply is never overwritten by the next, whatever the merge keeps', async () => {
    const merges = [
      { mergeStrategy: 'sum' },
      { mergeStrategy: 'dict' },
      // Called per example, its result (the first operator's output) copied into a batch.
      { mergeFn: (outputs: unknown[]) => outputs[0] as Tensor },
    ] as const;
    for (const merge of merges) {
      const composite = new CompositeOperator({
        operators: [double, triple],
        strategy: new ParallelStrategy(merge),
        examplesPerTask: 2,
        executor,
      });
      const first = await composite.apply(batchOf(8, 4));
      const kept = JSON.stringify(first);
      const second = await composite.apply(batchOf(8, 4).map((v) => v + 1000));
      assert.equal(JSON.stringify(first), kept, JSON.stringify(merge));
      assert.notEqual(JSON.stringify(second), kept);
    }
  });

  it("an apply's states and metadata are never overwritten by the next, though they view its batch", async () => {
    const composite = new CompositeOperator({
      operators: [keepsInput, double],
      strategy: new ParallelStrategy({ mergeStrategy: 'sum' }),
      examplesPerTask: 2,
      executor,
    });
    const first = await composite.run(batchOf(8, 4));
    const states = first.states[0] as Float32Array[];
    // On threads they view the batch's shared copy: the memory must stay this apply's.
    assert.ok(states[0]!.buffer instanceof SharedArrayBuffer);
    const kept = JSON.stringify([first.states, first.metadata]);
    await composite.run(batchOf(8, 4).map((v) => v + 1000));
    assert.equal(JSON.stringify([first.states, first.metadata]), kept);
    assert.deepEqual([...states[1]!], [-1, -0.5, 0, 0.5]);
  });

  it("applies an operator task's retries per chunk", async () => {
    const size = 8;
    const seen = new Int32Array(new SharedArrayBuffer(4 * size));
    const composite = new CompositeOperator({ operators: [flaky], examplesPerTask: 2, executor });
    const out = (await composite.apply(batchOf(size, 1), {
      extraParams: { seen, failOnce: [0, 2, 4, 6] },
    })) as Tensor;
    assert.deepEqual(
      out.toArray(),
      (batchOf(size, 1).toArray() as number[][]).map(([v]) => [v! + 100]),
    );
    // Each chunk failed once on its first example, and ran again from its start.
    assert.deepEqual([...seen], [2, 1, 2, 1, 2, 1, 2, 1]);
  });

  it('a chunk that fails all its attempts fails the apply, naming operator and example', async () => {
    const seen = new Int32Array(new SharedArrayBuffer(4 * 4));
    const composite = new CompositeOperator({
      name: 'retrying',
      operators: [double, flaky],
      examplesPerTask: 4,
      executor,
    });
    const extraParams = { seen, failAlways: [2] };
    await assert.rejects(composite.apply(batchOf(4, 1), { extraParams }), (error) => {
      assert.ok(isWeftError(error, 'WEFT_OPERATOR_FAILED'));
      assert.match(
        error.message,
        /Composite 'retrying': operator_1 \('compose-test\/flaky'\) failed on example 2 after 2 attempts: example 2 failed on sight 2/,
      );
      return true;
    });
  });
});
