/**
 * The batch classes of BatchFlow's "within batch parallelism" page, in TypeScript. A
 * module of definitions only: worker threads and child processes import it to find the
 * classes and functions, so it does no work at its top level.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { task } from 'weftjs';
import { action, anyActionFailed, args, Batch, inbatchParallel } from 'weftjs/batch';

/** The seed's `mpc_fn(data, index, arg)`: runs in a child process, without `this`. */
export function mpcFn(data: ArrayLike<number>, index: number, arg: number): number {
  return data[index]! * arg;
}

/** The same as a weft task: its input is the item's argument list. */
export const mpcTask = task(
  'seed:mpcTask',
  ([data, index, arg]: [ArrayLike<number>, number, number]) => data[index]! + arg,
);

/** The seed's numba example: change one element of the data in place (shared memory). */
export function changeData(data: Float64Array, index: number): void {
  data[index] = -Math.exp(-Math.exp(data[index]!));
}

export class MyBatch extends Batch {
  // init='indices': one call per item id; post gets the results in init order.
  @action
  @inbatchParallel({ init: 'indices', post: 'postFn', target: 'threads' })
  someAction(itemId: number, arg1 = 1) {
    return (this.data[this.position(itemId)] as number) * arg1;
  }

  postFn(results: unknown[], ..._args: unknown[]) {
    if (anyActionFailed(results)) throw new Error('some items failed');
    this.data = Float64Array.from(results as number[]);
    return this;
  }

  // A custom init returning positional lists: some_action(self._data, index, another, one_more).
  initFn(..._args: unknown[]) {
    return this.indices.map((item) => [this.data, item, 10, 100]);
  }

  @action
  @inbatchParallel({ init: 'initFn', post: 'collect', target: 'for' })
  positional(data: ArrayLike<number>, item: number, another: number, oneMore: number) {
    return data[this.position(item)]! + another + oneMore;
  }

  // Named arguments: some_action(data=…, item=…, arg1=…, arg2=…).
  namedInit() {
    return this.indices.map((item) => ({ item, arg1: 2, arg2: 3 }));
  }

  @action
  @inbatchParallel({ init: 'namedInit', post: 'collect', target: 'async' })
  named({ item, arg1, arg2 }: { item: number; arg1: number; arg2: number }) {
    return `${item}:${arg1 * arg2}`;
  }

  // Both, as BatchFlow's 2-tuple: args(positional, named).
  bothInit() {
    return this.indices.map((item) => args([item], { scale: 10 }));
  }

  @action
  @inbatchParallel({ init: 'bothInit', post: 'collect', target: 'for' })
  both(item: number, { scale }: { scale: number }) {
    return item * scale;
  }

  // Extra decorator options reach init and post (clearData here), never the method.
  initDefault({ clearData }: { clearData: boolean }) {
    return this.indices.map((item) => [item, clearData]);
  }

  postDefault(results: unknown[], { clearData }: { clearData: boolean }) {
    this.data = clearData ? [] : results;
    return this;
  }

  @action
  @inbatchParallel({ init: 'initDefault', post: 'postDefault', target: 'for', clearData: false })
  someMethod(item: number, clearData: boolean) {
    return `${item} (clearData ${clearData})`;
  }

  // Changing data directly needs no post: the batch itself comes back.
  @action
  @inbatchParallel({ init: 'indices', target: 'for' })
  double(itemId: number) {
    const data = this.data as number[];
    data[this.position(itemId)]! *= 2;
  }

  // The numba example: each item changes the shared data in place, on worker threads.
  initNumba() {
    return this.indices.map((item) => [this.data, this.position(item)]);
  }

  @action
  @inbatchParallel({ init: 'initNumba', target: 'threads' })
  fastAction(data: Float64Array, position: number) {
    changeData(data, position);
  }

  // async: an async method needs no target.
  @action
  @inbatchParallel({ init: 'indices', post: 'collect' })
  async fetchAll(itemId: number) {
    await sleep(5);
    return `fetched ${itemId}`;
  }

  // run_once: one call, no init arguments, awaited in a pipeline like any action.
  @action
  @inbatchParallel({ init: 'run_once' })
  async readSomeData(src: string, { fmt = 'raw' }: { fmt?: string } = {}) {
    await sleep(5);
    this.data = [`${src} as ${fmt}`];
  }

  // mpc: the method returns a function, run once per item in child processes.
  @action
  @inbatchParallel({ init: 'initMpc', post: 'collect', target: 'mpc' })
  mpcAction(_arg: number) {
    return mpcFn;
  }

  initMpc(arg: number) {
    return this.indices.map((item) => [this.data, this.position(item), arg]);
  }

  // mpc with a weft task: it keeps its retries and timeout.
  @action
  @inbatchParallel({ init: 'initMpc', post: 'collect', target: 'mpc' })
  mpcWithTask(_arg: number) {
    return mpcTask;
  }

  // post that keeps every result, errors included.
  collect(results: unknown[]) {
    return results;
  }

  // An item that fails: post receives the error in its place.
  @action
  @inbatchParallel({ init: 'indices', post: 'report', target: 'for' })
  risky(itemId: number) {
    if (itemId === 1) throw new Error(`item ${itemId} is broken`);
    return itemId;
  }

  report(results: unknown[]) {
    return anyActionFailed(results)
      ? `failed: ${results.map((r) => (r instanceof Error ? r.message : String(r))).join(', ')}`
      : 'all fine';
  }
}

/** A batch with components: init 'images' gives each call the i-th image. */
export class ImagesBatch extends Batch {
  static override components = ['images', 'labels'];
  declare images: number[][];
  declare labels: string[];

  @action
  @inbatchParallel({ init: 'images', post: 'sums', target: 'for' })
  brightness(image: number[], factor = 1) {
    return image.reduce((a, b) => a + b, 0) * factor;
  }

  sums(results: number[]) {
    return results;
  }
}
