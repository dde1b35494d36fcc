/**
 * A job for `weft run` killed part-way: a pipeline of 20 items in batches of 5, two
 * batches at once, two items of each at once. Each item appends `<id> <pid>` to the file
 * named by WEFT_PIPELINE_LOG as it starts; with WEFT_PIPELINE_GATE=<id>, the items from
 * that id on wait until the process is killed, which holds the run at a known point.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as wait } from 'node:timers/promises';
import { action, Batch, Dataset, inbatchParallel } from 'weftjs/batch';

const log = process.env.WEFT_PIPELINE_LOG;
const gate = process.env.WEFT_PIPELINE_GATE;

export class Logged extends Batch {
  @action
  // With a post the results are what the call keeps, so its items are recorded and a
  // resumed run skips the finished ones.
  @inbatchParallel({ init: 'indices', target: 'async', post: 'keep' })
  async logged(id: number): Promise<number> {
    if (log) appendFileSync(log, `${id} ${process.pid}\n`);
    // The longest timer there is: it keeps the process alive until the kill.
    if (gate !== undefined && id >= Number(gate)) await wait(2 ** 31 - 1);
    return id;
  }

  keep(ids: number[]) {
    this.data = ids;
    return this;
  }
}

export default new Dataset(20, Logged)
  .pipeline()
  .logged({ nWorkers: 2 })
  .run({ batchSize: 5, prefetch: 2, lazy: true });
