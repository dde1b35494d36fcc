/**
 * A BatchFlow pipeline: a dataset of 10 ids, actions chained lazily, run by `weft run` in
 * batches of 4 (the last one partial). Every parallel item is a recorded task, so a run
 * stopped part-way resumes where it stopped. Prints:
 *   batch 0,1,2,3: [ 0.33, 3.67, 7, 10.33 ]
 *   batch 4,5,6,7: [ 13.67, 17, 20.33, 23.67 ]
 *   batch 8,9: [ 27, 30.33 ]
 *   { batches: 3, items: 10 }
 *
 * The batch class is exported: worker threads import this module to rebuild its batches
 * (the pipeline made at the top level is only a description: nothing runs on import).
 *
 *   weft run examples/batch-pipeline.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { action, Batch, Dataset, inbatchParallel } from 'weftjs/batch';

export class Numbers extends Batch {
  /** A plain async action: pipelines await it, no run_once needed. */
  @action
  async load() {
    await sleep(1);
    this.data = this.indices.map((id) => Number(id) * 10);
    return this;
  }

  /** One item per number, on worker threads; post puts the results back. */
  @action
  @inbatchParallel({ init: 'indices', post: 'store' })
  plusOne(id: number) {
    return (this.data as number[])[this.position(id)]! + 1;
  }

  /** Named arguments from the call reach each item; nWorkers caps the items at once. */
  @action
  @inbatchParallel({ init: 'items', post: 'store', target: 'async' })
  async normalize(x: number, by: number) {
    await sleep(1);
    return x / by;
  }

  @action
  report() {
    console.log(
      `batch ${this.indices.join(',')}:`,
      (this.data as number[]).map((x) => Number(x.toFixed(2))),
    );
  }

  store(results: number[]) {
    this.data = results;
    return this;
  }
}

export default new Dataset(10, Numbers)
  .pipeline()
  .load()
  .plusOne()
  .normalize(3, { nWorkers: 2 })
  .report()
  .run({ batchSize: 4, lazy: true });
