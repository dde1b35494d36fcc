/**
 * Batch classes of the pipeline tests: actions that change their data, sync and async,
 * one that returns a batch of another class, a parallel one, and a method that is no
 * action. No top-level work.
 */
import { action, Batch, inbatchParallel } from 'weftjs/batch';

/** Batches of numbers. */
export class Numbers extends Batch<number[]> {
  @action
  plusOne(): void {
    this.data = this.data.map((x) => x + 1);
  }

  @action
  async times(factor: number): Promise<this> {
    await Promise.resolve();
    this.data = this.data.map((x) => x * factor);
    return this;
  }

  /** A batch of another class: the pipeline goes on with it. */
  @action
  labelled(prefix: string): Labels {
    return new Labels(
      this.data.map((x) => `${prefix}${x}`),
      { index: this.indices },
    );
  }

  /** Calls `gate.enter` with the batch and waits for what it returns. */
  @action
  async held(gate: { enter(batch: Batch): Promise<void> }): Promise<void> {
    await gate.enter(this);
  }

  /** Appends the batch's ids to `log` (a whole batch skipped on resume never does). */
  @action
  noted(log: number[]): void {
    log.push(...(this.indices as number[]));
  }

  /** Throws on the batch holding item `id`. */
  @action
  failsAt(id: number): void {
    if (this.indices.includes(id)) throw new RangeError(`item ${id} fails`);
  }

  /** Each item squared, one call per item; each call appends its id to `log`. */
  @action
  @inbatchParallel({ init: 'indices', post: 'storeAll', target: 'async' })
  async square(id: number, log: number[], failing?: number): Promise<number> {
    log.push(id);
    if (id === failing) throw new RangeError(`item ${id} fails`);
    return (this.get(id) as number) ** 2;
  }

  storeAll(results: unknown[]): this {
    const failed = results.find((result) => result instanceof Error);
    if (failed) throw failed;
    this.data = results as number[];
    return this;
  }

  /** Not an action: a pipeline refuses to call it. */
  helper(): this {
    return this;
  }
}

/** Batches of strings. */
export class Labels extends Batch<string[]> {
  @action
  shout(): void {
    this.data = this.data.map((text) => text.toUpperCase());
  }
}

/** A batch with an action named `then`: a pipeline of it must still not be awaitable. */
export class Thenable extends Batch {
  @action
  // biome-ignore lint/suspicious/noThenProperty: the case under test
  then(): never {
    throw new Error('then was called');
  }
}

/** Batches of shared numbers, doubled in place on worker threads. */
export class SharedNumbers extends Batch<Float64Array> {
  @action
  @inbatchParallel({ init: 'indices', target: 'threads' })
  doubled(id: number): void {
    // Ids are the dataset's: a batch's own positions are found from them.
    this.data[this.position(id)]! *= 2;
  }
}

/** Batches of a dataset of ids only, whose items an action loads (BatchFlow's run_once). */
export class Loaded extends Batch<number[]> {
  @action
  @inbatchParallel({ init: 'run_once' })
  async load(scale: number): Promise<void> {
    await Promise.resolve();
    this.data = this.indices.map((id) => (id as number) * scale);
  }
}
