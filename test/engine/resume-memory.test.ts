/**
 * Resume in bounded memory: a resumed run reads no output up front; fan-outs look their
 * keys up in batches as they reach them, and hold each stored output only until it is
 * returned.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dag, MemoryStore, map, type Store, task, withRun } from 'weftjs';
import { lookahead, lookupBatch } from '../../src/core/resume.ts';

/** What a store was asked by a resume: whole reads, lookups and their sizes, outputs held. */
interface Reads {
  /** Calls of completedOutputs, which holds every output at once. */
  whole: number;
  /** Keys asked by each findCompleted call. */
  readonly lookups: number[];
  /** Outputs read from the store and not yet taken by the consumer. */
  held: number;
  /** The most outputs ever held at once. */
  mostHeld: number;
}

/** A store that counts what is read from it; call `taken()` as the consumer takes an output. */
function watched(store: Store): { store: Store; reads: Reads; taken(): void } {
  const reads: Reads = { whole: 0, lookups: [], held: 0, mostHeld: 0 };
  const hold = (count: number) => {
    reads.held += count;
    reads.mostHeld = Math.max(reads.mostHeld, reads.held);
  };
  const wrapped = Object.create(store) as Store;
  wrapped.completedOutputs = async (runId) => {
    reads.whole++;
    const outputs = await store.completedOutputs(runId);
    hold(outputs.size);
    return outputs;
  };
  wrapped.findCompleted = async (runId, keys) => {
    reads.lookups.push(keys.length);
    const found = await store.findCompleted(runId, keys);
    hold(found.size);
    return found;
  };
  return {
    store: wrapped,
    reads,
    taken: () => {
      reads.held--;
    },
  };
}

async function* numbers(count: number): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) yield i;
}

/** A turn of the event loop: a consumer slower than the fan-out it reads. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const executed: number[] = [];
let failing = (_: number) => false;
/** When set, each page takes a turn of the event loop, and how many run at once is counted. */
let paced = false;
let active = 0;
let mostActive = 0;
const page = task('resume-memory:page', (i: number): string | Promise<string> => {
  if (!paced) {
    executed.push(i);
    if (failing(i)) throw new Error(`item ${i} fails this time`);
    return `page ${i}`;
  }
  active++;
  mostActive = Math.max(mostActive, active);
  return nextTurn().then(() => {
    active--;
    executed.push(i);
    return `page ${i}`;
  });
});

describe('resume in bounded memory', () => {
  it('a streamed map resumes in batches of lookups, holding a bounded number of outputs', async () => {
    const count = 10_000;
    const concurrency = 16;
    const { store, reads, taken } = watched(new MemoryStore());
    const stream = async () => {
      const out: string[] = [];
      for await (const output of map(numbers(count), page, { concurrency })) {
        out.push(output);
        taken();
        await nextTurn();
      }
      return out;
    };
    executed.length = 0;
    const first = await withRun({ store, runId: 'streamed' }, stream);
    assert.equal(executed.length, count);
    // A run with nothing completed looks nothing up.
    assert.deepEqual(reads.lookups, []);
    reads.held = 0;
    executed.length = 0;
    const resumed = await withRun({ store, runId: 'streamed' }, async (run) => {
      assert.equal(run.resumable, count);
      return stream();
    });
    assert.deepEqual(resumed, first);
    assert.deepEqual(executed, []);
    assert.equal(reads.whole, 0, 'no read of every output');
    assert.ok(
      // The lookahead, the tasks in flight, as many being recorded, and the outputs not read.
      reads.mostHeld <= lookahead + 3 * concurrency,
      `held ${reads.mostHeld} outputs at once`,
    );
    assert.ok(Math.max(...reads.lookups) <= lookupBatch);
    assert.equal(
      reads.lookups.reduce((a, b) => a + b, 0),
      count,
    );
    assert.ok(
      reads.lookups.length <= 2 * Math.ceil(count / lookupBatch),
      `${reads.lookups.length} lookups for ${count} items`,
    );
  });

  it('resumes a partly completed map: in order, only the unfinished items run, within the concurrency', async () => {
    const count = 2_000;
    const concurrency = 4;
    const store = new MemoryStore();
    const items = Array.from({ length: count }, (_, i) => i);
    executed.length = 0;
    failing = (i) => i % 3 === 0;
    const settled = await withRun({ store, runId: 'partly' }, () =>
      map(items, page, { concurrency, onError: 'collect' }),
    );
    assert.equal(settled.filter((output) => output instanceof Error).length, 667);
    failing = () => false;
    executed.length = 0;
    paced = true;
    const { store: reading, reads } = watched(store);
    const resumed: string[] = [];
    try {
      await withRun({ store: reading, runId: 'partly' }, async () => {
        for await (const output of map(numbers(count), page, { concurrency })) resumed.push(output);
      });
    } finally {
      paced = false;
    }
    assert.deepEqual(
      resumed,
      items.map((i) => `page ${i}`),
    );
    assert.deepEqual(
      executed.sort((a, b) => a - b),
      items.filter((i) => i % 3 === 0),
    );
    assert.ok(mostActive <= concurrency, `${mostActive} tasks ran at once`);
    assert.equal(reads.whole, 0);
    assert.ok(reads.lookups.length <= 2 * Math.ceil(count / lookupBatch) + 2);
  });

  it('resumes an unordered map and a map keyed by itemKey whose items came back reordered', async () => {
    const store = new MemoryStore();
    const names = Array.from({ length: 600 }, (_, i) => `n${i}`);
    const upper = task('resume-memory:upper', (name: string) => {
      executed.push(Number(name.slice(1)));
      return name.toUpperCase();
    });
    executed.length = 0;
    await withRun({ store, runId: 'keyed' }, () => map(names, upper, { itemKey: (name) => name }));
    executed.length = 0;
    const reordered = [...names].reverse();
    const { store: reading } = watched(store);
    const out = await withRun({ store: reading, runId: 'keyed' }, async () => {
      const unordered: string[] = [];
      for await (const output of map(reordered, upper, {
        itemKey: (name) => name,
        ordered: false,
      })) {
        unordered.push(output);
      }
      return unordered;
    });
    assert.deepEqual(executed, []);
    assert.deepEqual(out.sort(), names.map((name) => name.toUpperCase()).sort());
  });

  it('resumes a dag: completed nodes are looked up, their dependents get their stored outputs', async () => {
    const store = new MemoryStore();
    let runs = 0;
    const add = task('resume-memory:add', (values: number[]) => {
      runs++;
      return values.reduce((a, b) => a + b, 1);
    });
    const nodes = () =>
      Array.from({ length: 300 }, (_, i) => ({
        id: `n${i}`,
        task: add,
        dependencies: i === 0 ? [] : [`n${Math.floor(i / 2)}`],
        input: (done: ReadonlyMap<string, unknown>) =>
          i === 0 ? [] : [done.get(`n${Math.floor(i / 2)}`) as number],
      }));
    const first = await withRun({ store, runId: 'tree' }, () => dag(nodes()));
    assert.equal(runs, 300);
    runs = 0;
    const { store: reading, reads } = watched(store);
    const resumed = await withRun({ store: reading, runId: 'tree' }, () => dag(nodes()));
    assert.equal(runs, 0);
    assert.deepEqual([...resumed], [...first]);
    assert.equal(reads.whole, 0);
    assert.ok(Math.max(...reads.lookups) <= lookupBatch);
  });

  it('resumes a chain of dag nodes with lookups started ahead, a batch at a time', async () => {
    const store = new MemoryStore();
    const length = 1_000;
    let runs = 0;
    let breakAt = 600;
    const step = task('resume-memory:step', (x: number) => {
      runs++;
      if (x === breakAt) throw new Error(`step ${x} fails this time`);
      return x + 1;
    });
    const chain = () =>
      Array.from({ length }, (_, i) => ({
        id: `s${i}`,
        task: step,
        dependencies: i === 0 ? [] : [`s${i - 1}`],
        input: (done: ReadonlyMap<string, unknown>) =>
          i === 0 ? 0 : (done.get(`s${i - 1}`) as number),
      }));
    const first = await withRun({ store, runId: 'chain' }, () =>
      dag(chain(), { onError: 'collect' }),
    );
    assert.ok(first.get('s999') instanceof Error, 'the nodes after the failed one failed');
    assert.equal(runs, 601);
    runs = 0;
    breakAt = -1;
    const { store: reading, reads } = watched(store);
    const resumed = await withRun({ store: reading, runId: 'chain' }, () => dag(chain()));
    assert.equal(resumed.get('s999'), 1000);
    assert.equal(runs, 400, 'only the failed node and those after it ran');
    assert.equal(reads.whole, 0);
    assert.ok(Math.max(...reads.lookups) <= lookupBatch);
    assert.ok(
      reads.lookups.length <= 2 * Math.ceil(length / lookupBatch) + 2,
      `${reads.lookups.length} lookups for a chain of ${length}`,
    );
  });

  it('a lookup that fails fails the fan-out with the store error, and the run is marked failed', async () => {
    const store = new MemoryStore();
    await withRun({ store, runId: 'broken-lookup' }, () => map([1, 2, 3], page));
    const broken = Object.create(store) as Store;
    broken.findCompleted = async () => {
      throw new Error('disk on fire');
    };
    executed.length = 0;
    await assert.rejects(
      withRun({ store: broken, runId: 'broken-lookup' }, () => map([1, 2, 3, 4], page)),
      /disk on fire/,
    );
    assert.deepEqual(executed, []);
    assert.equal((await store.getRun('broken-lookup'))?.status, 'failed');
  });

  it('an abort while keys are being looked up stops the map with the reason, running nothing', async () => {
    const store = new MemoryStore();
    await withRun({ store, runId: 'aborted-lookup' }, () => map([1, 2, 3], page));
    const controller = new AbortController();
    const slowed = Object.create(store) as Store;
    slowed.findCompleted = async (runId, keys) => {
      controller.abort(new Error('stop now'));
      return store.findCompleted(runId, keys);
    };
    executed.length = 0;
    await assert.rejects(
      withRun({ store: slowed, runId: 'aborted-lookup' }, () =>
        map([1, 2, 3, 4], page, { signal: controller.signal }),
      ),
      /stop now/,
    );
    assert.deepEqual(executed, []);
  });
});
