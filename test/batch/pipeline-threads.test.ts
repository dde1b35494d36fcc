/** Pipelines whose actions run on worker threads, over data in shared memory. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dataset } from 'weftjs/batch';
import { SharedNumbers } from './support/pipeline-batches.ts';

describe('Pipeline: threads', () => {
  it('writes through batches into the dataset’s shared memory, two batches at once', async () => {
    const data = new Float64Array(new SharedArrayBuffer(8 * 8));
    data.set([0, 1, 2, 3, 4, 5, 6, 7]);
    const pipeline = new Dataset(data, SharedNumbers).pipeline().doubled({ nWorkers: 2 });
    assert.deepEqual(await pipeline.run({ batchSize: 3, prefetch: 2 }), { batches: 3, items: 8 });
    assert.deepEqual([...data], [0, 2, 4, 6, 8, 10, 12, 14]);
  });
});
