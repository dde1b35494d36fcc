/**
 * Task operators in child processes: the same outputs as in this thread, and each chunk
 * sent only its own examples (a process cannot share memory, and a view would carry its
 * whole buffer).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isWeftError, processes } from 'weftjs';
import { CompositeOperator, ParallelStrategy, type Tensor, zeros } from 'weftjs/compose';
import { Recording } from '../batch/support/remote-executors.ts';
import { double, failsOnOne, noisy, triple, whereIsData } from './support/operators.ts';

const executor = processes({ workers: 2 });
after(() => executor.close());

function batchOf(size: number, width: number): Tensor {
  return zeros([size, width]).map((_, i) => i * 0.25 - 1);
}

describe('a composite of task operators in child processes', () => {
  it('gives the outputs the same operators give in this thread', async () => {
    const composite = new CompositeOperator({
      operators: [double, triple, noisy],
      strategy: new ParallelStrategy({ mergeStrategy: 'concat', mergeAxis: -1 }),
      examplesPerTask: 3,
    });
    const batch = batchOf(10, 2);
    const inline = (await composite.apply(batch, { seed: 11 })) as Tensor;
    const inProcesses = (await composite.apply(batch, { seed: 11, executor })) as Tensor;
    assert.deepEqual(inProcesses.shape, [10, 6]);
    assert.deepEqual(inProcesses.toArray(), inline.toArray());
  });

  it("sends each chunk its own examples only, copied out of the batch's buffer", async () => {
    const recording = new Recording(executor);
    const composite = new CompositeOperator({
      operators: [whereIsData],
      examplesPerTask: 4,
      executor: recording,
    });
    const width = 256;
    const result = await composite.run(batchOf(32, width));
    const chunkBytes = 4 * width * 4;
    for (const metadata of result.metadata[0] as { shared: boolean; bufferBytes: number }[]) {
      // The message a child process received holds the chunk: not the batch's 32 KiB.
      assert.equal(metadata.shared, false);
      assert.ok(metadata.bufferBytes >= chunkBytes && metadata.bufferBytes < chunkBytes + 2048);
    }
    assert.equal(recording.seen.length, 8);
    for (const { bytes } of recording.seen) {
      // Its 4 KiB of examples and a little more: not the batch's 32 KiB.
      assert.ok(bytes > chunkBytes && bytes < chunkBytes + 2048, `${bytes} bytes`);
    }
    assert.deepEqual(((result.data as Tensor).toArray() as number[][])[31]![width - 1], 2047.75);
  });

  it('names the operator and the example when one fails in a child process', async () => {
    const composite = new CompositeOperator({
      name: 'remote',
      operators: [double, failsOnOne],
      examplesPerTask: 1,
      executor,
    });
    await assert.rejects(composite.apply(batchOf(3, 1)), (error) => {
      assert.ok(isWeftError(error, 'WEFT_OPERATOR_FAILED'));
      assert.equal((error as unknown as { example: number }).example, 1);
      assert.match(
        error.message,
        /^Composite 'remote': operator_1 \('compose-test\/failsOnOne'\) failed on example 1: no example 1 here$/,
      );
      assert.equal((error.cause as Error).name, 'RangeError');
      return true;
    });
  });
});
