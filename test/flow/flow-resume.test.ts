/**
 * weftjs/flow: a re-run with the same run id re-runs only the failed ForEach tasks, on
 * memory, SQLite and PostgreSQL stores (reopened between the runs).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { asyncPool, isWeftError, MemoryStore, openStore, type Store } from 'weftjs';
import { type Accessor, Flow, LayerFailedError } from 'weftjs/flow';
import { freshPostgresSchema } from '../fixtures/services.ts';
import { flowName, foreachOver, range } from './support.ts';

const executor = asyncPool({ concurrency: 16 });
after(() => executor.close());

/**
 * Runs a 1,000-task ForEach whose tasks 10, 500 and 999 fail on the first run, then
 * again with the same run id on the store `openSecond` gives (the same store, or the same
 * database reopened). Returns the first run's error, checked by its own test.
 */
async function resumeScenario(
  label: string,
  first: Store,
  openSecond: () => Promise<Store>,
): Promise<unknown> {
  const failing = new Set([10, 500, 999]);
  const state = { fail: true, shardRuns: 0, joinRuns: 0, executed: [] as number[] };
  let joined: unknown[] = [];
  const flow = new Flow(flowName(`Resume-${label}`), { executor });
  const Shard = flow.layer('Shard', (self) => {
    state.shardRuns++;
    self.shard({ x: range(1000) });
  });
  const Process = flow.layer(
    'Process',
    { foreach: foreachOver(Shard, 'x') },
    (self, shard) => {
      state.executed.push(self.index);
      if (state.fail && failing.has(self.index)) throw new Error(`task ${self.index} broke`);
      self.set({ y: shard.x * 2 });
    },
    [Shard],
  );
  flow.layer(
    'Join',
    async (self, process) => {
      state.joinRuns++;
      joined = await process.y.toArray();
      self.set({ count: process.y.length });
    },
    [Process],
  );
  const runId = `resume-${label}-${process.pid}`;

  let firstError: unknown;
  await assert.rejects(flow.run({ store: first, runId }), (error: unknown) => {
    firstError = error;
    assert.ok(error instanceof LayerFailedError, `got ${error}`);
    return true;
  });
  assert.equal(state.executed.length, 1000);
  assert.equal(state.shardRuns, 1);
  assert.equal(state.joinRuns, 0);

  state.fail = false;
  state.executed = [];
  const second = await openSecond();
  try {
    const result = await flow.run({ store: second, runId });
    assert.equal(result.runId, runId);
    assert.deepEqual(
      state.executed.sort((a, b) => a - b),
      [10, 500, 999],
    );
    assert.equal(state.shardRuns, 1, 'the completed Shard layer is not run again');
    assert.equal(state.joinRuns, 1);
    assert.deepEqual(
      joined,
      range(1000).map((x) => x * 2),
    );
    assert.equal((await result.layer('Join')).count, 1000);
    assert.equal(result.info(Process).tasks, 1000);

    // A third run finds everything done.
    state.executed = [];
    const again = await flow.run({ store: second, runId });
    assert.deepEqual(state.executed, []);
    assert.equal(state.shardRuns, 1);
    assert.equal(state.joinRuns, 1);
    assert.equal((await again.layer('Join')).count, 1000);
  } finally {
    if (second !== first) await second.close();
  }
  return firstError;
}

/** What the first run of {@link resumeScenario} must have rejected with. */
function assertFirstRunError(error: unknown): void {
  assert.ok(error instanceof LayerFailedError, `got ${error}`);
  assert.equal(error.code, 'WEFT_LAYER_FAILED');
  assert.equal(error.name, 'LayerFailedError');
  assert.ok(isWeftError(error, 'WEFT_LAYER_FAILED'));
  assert.match((error.cause as Error).message, /task (10|500|999) broke/);
  assert.deepEqual(error.failedTasks, [10, 500, 999]);
  assert.match(error.message, /Process: 3 of 1,000 ForEach tasks failed \(tasks 10, 500, 999\)/);
}

describe('resume re-runs only the failed ForEach tasks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-flow-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('on a memory store', () => {
    let firstError: unknown;

    it('the second run executes tasks 10, 500 and 999 alone; the join sees 1,000 values', async () => {
      const store = new MemoryStore();
      try {
        firstError = await resumeScenario('memory', store, async () => store);
      } finally {
        await store.close();
      }
    });

    it('the first run rejects with LayerFailedError, failedTasks [10, 500, 999]', () => {
      assertFirstRunError(firstError);
    });
  });

  describe('on SQLite, reopened between the runs', () => {
    let firstError: unknown;

    it('the second run executes tasks 10, 500 and 999 alone; the join sees 1,000 values', async () => {
      const url = 'sqlite:' + join(dir, 'resume.db');
      const store = await openStore(url);
      let closed = false;
      try {
        firstError = await resumeScenario('sqlite', store, async () => {
          await store.close();
          closed = true;
          return openStore(url);
        });
      } finally {
        if (!closed) await store.close();
      }
    });

    it('the first run rejects with LayerFailedError, failedTasks [10, 500, 999]', () => {
      assertFirstRunError(firstError);
    });
  });

  describe('on PostgreSQL, reopened between the runs', () => {
    const schema = freshPostgresSchema('flow');
    let firstError: unknown;

    it('the second run executes tasks 10, 500 and 999 alone; the join sees 1,000 values', async () => {
      const store = await openStore(schema.url);
      let closed = false;
      try {
        firstError = await resumeScenario('postgres', store, async () => {
          await store.close();
          closed = true;
          return openStore(schema.url);
        });
      } finally {
        if (!closed) await store.close();
      }
    });

    it('the first run rejects with LayerFailedError, failedTasks [10, 500, 999]', () => {
      assertFirstRunError(firstError);
    });

    it('runs the seed join flow', async () => {
      const store = await openStore(schema.url);
      try {
        const flow = new Flow(flowName('PostgresJoin'), { store, executor });
        const Shard = flow.layer('Shard', (self) => {
          self.shard({ foo: [1, 2] });
        });
        const Process = flow.layer(
          'Process',
          { foreach: foreachOver(Shard, 'foo') },
          (self, shard) => {
            self.set({ foo: shard.foo });
          },
          [Shard],
        );
        const result = await flow.run();
        const foo = (await result.layer(Process)).foo as Accessor<number>;
        assert.deepEqual(await foo.toArray(), [1, 2]);
        assert.equal(await foo.at(1), 2);
      } finally {
        await store.close();
      }
    });
  });
});
