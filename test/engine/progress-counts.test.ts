/**
 * What the progress display counts after a fan-out stops early matches what the run
 * store holds: a task whose record was still being written when the map failed fast or
 * was aborted is in the store, so it is counted; a task stopped before it finished is in
 * neither. The store holds back its writes until the test lets them through, so the
 * order of events is fixed, not left to timing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asyncPool,
  EventBus,
  isWeftError,
  MemoryStore,
  map,
  type TaskContext,
  type TaskRecord,
  task,
  withRun,
} from 'weftjs';
import { ProgressModel } from '../../src/cli/progress.ts';
import { type Deferred, deferred, whenAborted } from '../fixtures/app-parallel-sync.ts';

/** A memory store whose task writes wait for `open`, and which says when one arrives. */
class HeldStore extends MemoryStore {
  readonly #open = deferred();
  readonly #arrived: Deferred[] = [deferred(), deferred(), deferred()];
  #calls = 0;

  /** Resolves once the `n`-th write of task records (from 1) has arrived. */
  arrived(n: number): Promise<void> {
    return this.#arrived[n - 1]!.promise;
  }

  open(): void {
    this.#open.resolve();
  }

  override async recordTasks(runId: string, records: readonly TaskRecord[]): Promise<void> {
    this.#arrived[this.#calls++]?.resolve();
    await this.#open.promise;
    return super.recordTasks(runId, records);
  }
}

const release = deferred();
/** Item 0 fails at once; item 1 finishes when the test releases it. */
const failFirst = task('progress-counts:failFirst', async (item: number) => {
  if (item === 0) throw new Error('item 0 is bad');
  await release.promise;
  return item;
});

/** Item 0 finishes at once; item 1 waits until it is aborted. */
const waitForAbort = task(
  'progress-counts:waitForAbort',
  async (item: number, ctx: TaskContext) => {
    if (item === 0) return item;
    throw await whenAborted(ctx.signal);
  },
);

/** Every callback queued so far has run: promise chains settle within one turn. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function counted(store: MemoryStore, runId: string) {
  const records = await store.listTasks(runId);
  return {
    completed: records.filter((r) => r.status === 'completed').length,
    failed: records.filter((r) => r.status === 'failed').length,
  };
}

describe('progress counts after an early stop match the store', () => {
  it('fail-fast: a task recorded while the failure was being written is counted', async () => {
    const store = new HeldStore();
    const bus = new EventBus();
    const model = new ProgressModel();
    bus.on((event) => model.apply(event));
    const running = withRun({ store, runId: 'fail-fast', events: bus }, () =>
      map([0, 1], failFirst, { executor: asyncPool(), events: bus }),
    );
    // Item 0's failure is being written; item 1 finishes meanwhile, for the next write.
    await store.arrived(1);
    release.resolve();
    await turn();
    store.open();
    await assert.rejects(running, (error) => isWeftError(error, 'WEFT_TASK_FAILED'));
    assert.deepEqual(await counted(store, 'fail-fast'), { completed: 1, failed: 1 });
    assert.deepEqual({ completed: model.done, failed: model.failed }, { completed: 1, failed: 1 });
    const [fanOut] = model.fanOuts.values();
    assert.deepEqual({ done: fanOut?.done, failed: fanOut?.failed }, { done: 1, failed: 1 });
    assert.equal(fanOut?.stopped, true);
  });

  it('abort: a task whose record was being written is counted; the aborted one is not', async () => {
    const store = new HeldStore();
    const bus = new EventBus();
    const model = new ProgressModel();
    bus.on((event) => model.apply(event));
    const controller = new AbortController();
    const running = withRun({ store, runId: 'abort', events: bus }, () =>
      map([0, 1], waitForAbort, { executor: asyncPool(), events: bus, signal: controller.signal }),
    );
    await store.arrived(1);
    controller.abort(new DOMException('stopped by the test', 'AbortError'));
    store.open();
    await assert.rejects(running, { name: 'AbortError' });
    assert.deepEqual(await counted(store, 'abort'), { completed: 1, failed: 0 });
    assert.deepEqual({ completed: model.done, failed: model.failed }, { completed: 1, failed: 0 });
    assert.match(model.summary(1), /^tasks: 1 done, 0 failed/);
  });
});
