/**
 * weftjs/flow: accessors read many elements in batches. `toArray`, `slice` and `for await`
 * over a shard read it through a few `Store.getArtifacts` calls and no `getArtifact`,
 * `at(i)` through one `getArtifact`; a store without `getArtifacts` is read element by
 * element. An artifact missing or damaged in a batch fails the read as it fails `at(i)`:
 * the same error, and every damaged artifact's task marked to run again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { asyncPool, MemoryStore, openStore } from 'weftjs';
import { type Accessor, Flow, ForEach, Parameter } from 'weftjs/flow';

const executor = asyncPool({ concurrency: 8 });
after(() => executor.close());
const dir = mkdtempSync(join(tmpdir(), 'weft-flow-batched-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Elements of the shard read. */
const elements = 3_000;
/** Tasks of the ForEach layer. */
const tasks = 8;
let flowCount = 0;

/** A memory store counting artifact reads: calls of each kind, and keys asked. */
class CountingStore extends MemoryStore {
  one = 0;
  batches = 0;
  keys = 0;
  override async getArtifact(runId: string, key: string): Promise<Uint8Array | undefined> {
    this.one++;
    this.keys++;
    return super.getArtifact(runId, key);
  }
  override async getArtifacts(
    runId: string,
    keys: readonly string[],
  ): Promise<(Uint8Array | undefined)[]> {
    this.batches++;
    this.keys += keys.length;
    return super.getArtifacts(runId, keys);
  }
  /** The counts since the last call, which starts them again. */
  take(): { one: number; batches: number; keys: number } {
    const taken = { one: this.one, batches: this.batches, keys: this.keys };
    this.one = this.batches = this.keys = 0;
    return taken;
  }
}

/** A memory store without the optional batched read. */
class UnbatchedStore extends CountingStore {
  override getArtifacts = undefined as unknown as CountingStore['getArtifacts'];
}

/** Items (a shard of 3,000) → ForEach Process (8 tasks, each sets y), counting Process runs. */
function itemsFlow(label: string) {
  const name = `FlowBatched-${label}-${++flowCount}`;
  const ran: number[] = [];
  const flow = new Flow(name, { executor });
  const Items = flow.layer('Items', (self) => {
    self.shard({ items: Array.from({ length: elements }, (_, id) => ({ id })) });
    self.shard({ x: Array.from({ length: tasks }, (_, i) => i) });
  });
  const Process = flow.layer(
    'Process',
    { foreach: new ForEach({ parameters: [new Parameter({ layer: Items, attribute: 'x' })] }) },
    (self, item) => {
      ran.push(self.index);
      self.set({ y: item.x * 10 });
    },
    [Items],
  );
  return { flow, name, Items, Process, ran };
}

describe('accessors read in batches, counted at the store', () => {
  const store = new CountingStore();
  after(() => store.close());
  let items: Accessor<{ id: number }>;
  let ys: Accessor<number>;

  before(async () => {
    const { flow, Items, Process } = itemsFlow('counted');
    const result = await flow.run({ store });
    items = (await result.layer(Items)).items as Accessor<{ id: number }>;
    ys = (await result.layer(Process)).y as Accessor<number>;
    store.take();
  });

  it(`toArray over ${elements.toLocaleString('en')} elements: a few getArtifacts calls, no getArtifact`, async () => {
    const values = await items.toArray();
    assert.deepEqual(
      values.map((value) => value.id),
      Array.from({ length: elements }, (_, i) => i),
    );
    const counts = store.take();
    assert.equal(counts.one, 0);
    assert.ok(counts.batches >= 1 && counts.batches <= 6, `${counts.batches} getArtifacts calls`);
    assert.equal(counts.keys, elements, 'each element read once');
  });

  it('at(i) reads one element through one getArtifact call', async () => {
    assert.deepEqual(await items.at(1234), { id: 1234 });
    assert.deepEqual(store.take(), { one: 1, batches: 0, keys: 1 });
    assert.deepEqual(await items.at(-1), { id: elements - 1 });
    assert.deepEqual(store.take(), { one: 1, batches: 0, keys: 1 });
  });

  it('slice reads just its elements, in one batch', async () => {
    const values = await items.slice(100, 110);
    assert.deepEqual(
      values.map((value) => value.id),
      Array.from({ length: 10 }, (_, i) => 100 + i),
    );
    assert.deepEqual(store.take(), { one: 0, batches: 1, keys: 10 });
  });

  it('for await reads in batches, in order, and a loop that stops early reads little', async () => {
    let next = 0;
    for await (const value of items) assert.equal(value.id, next++);
    assert.equal(next, elements);
    const counts = store.take();
    assert.equal(counts.one, 0);
    assert.equal(counts.keys, elements);
    assert.ok(counts.batches <= 12, `${counts.batches} getArtifacts calls`);
    for await (const value of items) if (value.id === 2) break;
    const early = store.take();
    assert.ok(early.keys <= 100, `${early.keys} elements read to stop at the third`);
  });

  it("a ForEach layer's attribute reads each task's artifact in one batch", async () => {
    assert.deepEqual(
      await ys.toArray(),
      Array.from({ length: tasks }, (_, i) => i * 10),
    );
    assert.deepEqual(store.take(), { one: 0, batches: 1, keys: tasks });
  });
});

describe('a store without getArtifacts', () => {
  it('is read element by element, with the same values', async () => {
    const store = new UnbatchedStore();
    try {
      const { flow, Items } = itemsFlow('unbatched');
      const items = (await (await flow.run({ store })).layer(Items)).items as Accessor<{
        id: number;
      }>;
      store.take();
      const values = await items.slice(10, 2010);
      assert.equal(values.length, 2000);
      assert.ok(values.every((value, i) => value.id === 10 + i));
      assert.deepEqual(store.take(), { one: 2000, batches: 0, keys: 2000 });
      let next = 0;
      for await (const value of items) assert.equal(value.id, next++);
      assert.deepEqual(store.take(), { one: elements, batches: 0, keys: elements });
    } finally {
      await store.close();
    }
  });
});

describe('missing and damaged artifacts in a batch (SQLite)', () => {
  const file = join(dir, 'batched.db');
  /** Deletes an artifact's row, or writes other bytes in it, through a connection of its own. */
  function change(runId: string, key: string, data?: Buffer): void {
    const db = new Database(file);
    try {
      const where = 'WHERE run_id = ? AND key = ?';
      const changed =
        data === undefined
          ? db.prepare(`DELETE FROM artifacts ${where}`).run(runId, key)
          : db.prepare(`UPDATE artifacts SET data = ? ${where}`).run(data, runId, key);
      assert.equal(changed.changes, 1, key);
    } finally {
      db.close();
    }
  }
  /** The error a read rejects with. */
  async function rejection(reading: Promise<unknown>): Promise<Error & { code?: string }> {
    return reading.then(
      () => assert.fail('the read succeeded'),
      (error: Error) => error,
    );
  }

  it('a missing element fails the batch as at(i) fails', async () => {
    const store = await openStore(`sqlite:${file}`);
    try {
      const { flow, name, Items } = itemsFlow('missing');
      const runId = `missing-${flowCount}`;
      const items = (await (await flow.run({ store, runId })).layer(Items)).items as Accessor;
      change(runId, `${name}/Items/0/items/2345`);
      change(runId, `${name}/Items/0/items/2900`);
      const batched = await rejection(items.toArray());
      const one = await rejection(items.at(2345));
      assert.equal(batched.code, 'WEFT_ARTIFACT_MISSING');
      assert.equal(batched.message, one.message, 'the first missing one, as at(i) says');
      assert.match(batched.message, /Items\/0\/items\/2345' .* is missing/);
      await assert.rejects(items.slice(2346, 2950), { message: /items\/2900' .* is missing/ });
      assert.equal((await items.slice(0, 2345)).length, 2345, 'the rest still reads');
    } finally {
      await store.close();
    }
  });

  it("damaged artifacts in a batch: the first one's error, every one's task marked", async () => {
    const store = await openStore(`sqlite:${file}`);
    try {
      const made = itemsFlow('damaged');
      const runId = `damaged-${flowCount}`;
      const ys = (await (await made.flow.run({ store, runId })).layer(made.Process)).y as Accessor;
      made.ran.length = 0;
      const zeroed = Buffer.alloc(24);
      change(runId, `${made.name}/Process/2/y`, zeroed);
      change(runId, `${made.name}/Process/5/y`, zeroed);
      const batched = await rejection(ys.toArray());
      assert.equal(batched.code, 'WEFT_ARTIFACT_DAMAGED');
      assert.match(batched.message, /Process\/2\/y' .* is damaged/);
      assert.match(
        batched.message,
        /Task 2 of layer Process, which wrote it, is marked to run again/,
      );
      assert.equal(batched.message, (await rejection(ys.at(2))).message, 'as at(i) says');
      // Both tasks were marked by the one batch: the re-run recomputes them and no other.
      const again = (await (await made.flow.run({ store, runId })).layer(made.Process))
        .y as Accessor;
      assert.deepEqual(
        made.ran.sort((a, b) => a - b),
        [2, 5],
      );
      assert.deepEqual(
        await again.toArray(),
        Array.from({ length: tasks }, (_, i) => i * 10),
      );
    } finally {
      await store.close();
    }
  });
});
