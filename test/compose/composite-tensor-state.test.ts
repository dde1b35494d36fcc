/**
 * Tensors anywhere in what an operator is given (`extraParams`, its state, metadata) and in
 * the state and metadata it reports: they reach a worker thread or a child process as
 * tensors, come back as tensors, and are recorded and read back by a run as tensors. An
 * object merely shaped like a tensor stays what it is.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Executor, inline, processes, threads, withRun } from 'weftjs';
import {
  CompositeOperator,
  type CompositeResult,
  isTensor,
  type Tensor,
  tensor,
  withState,
} from 'weftjs/compose';
import { SqliteStore } from 'weftjs/sqlite';
import { tensorsAround } from './support/operators.ts';
import { Workdir } from './support/workdir.ts';

const onThreads = threads({ workers: 2 });
const inProcesses = processes({ workers: 2 });
after(() => Promise.all([onThreads.close(), inProcesses.close()]));

const batch = tensor([[1], [2], [3]]);
const given = () => ({
  extraParams: { cfg: { k: tensor([10]) } },
  state: { offset: tensor([100]) },
});

function composite(executor: Executor): CompositeOperator {
  return new CompositeOperator({ operators: [tensorsAround], examplesPerTask: 2, executor });
}

/** The outputs, and every state and metadata holding tensors where the operator put them. */
function check(result: CompositeResult): void {
  assert.deepEqual((result.data as Tensor).toArray(), [[111], [112], [113]]);
  const states = result.states[0] as { offset: Tensor; seen: Tensor[]; lookalike: unknown }[];
  const metadata = result.metadata[0] as { input: Tensor }[];
  states.forEach((state, example) => {
    assert.ok(
      isTensor(state.offset) && isTensor(state.seen[0]) && isTensor(metadata[example]!.input),
    );
    assert.deepEqual(state.offset.toArray(), [100]);
    assert.deepEqual(state.seen[0]!.toArray(), [example + 1]);
    assert.deepEqual(metadata[example]!.input.toArray(), [example + 1]);
    // Only the tensors' own places are rebuilt: this object stays a plain one.
    assert.ok(!isTensor(state.lookalike));
    assert.deepEqual(Object.keys(state.lookalike as object), ['shape', 'dtype', 'data']);
  });
}

describe('tensors in what an operator is given and reports', () => {
  for (const [name, executor] of [
    ['in this thread', inline()],
    ['on threads', onThreads],
    ['in child processes', inProcesses],
  ] as const) {
    it(`travel as tensors ${name}`, async () => {
      check(await composite(executor).run(batch, given()));
    });
  }

  it('are recorded by a run on SQLite and read back as tensors', async () => {
    const work = new Workdir();
    const store = await SqliteStore.open(join(work.dir, 'tensors.db'));
    try {
      for (const [runId, executor] of [
        ['on-threads', onThreads],
        ['in-this-thread', inline()],
      ] as const) {
        const count = new Int32Array(new SharedArrayBuffer(4));
        const options = () => ({ ...given(), extraParams: { ...given().extraParams, count } });
        const apply = () =>
          withRun({ store, runId }, () => composite(executor).run(batch, options()));
        check(await apply());
        assert.equal(Atomics.load(count, 0), 3);
        // Every chunk recorded: the second apply reads them all back, running nothing.
        const again = await apply();
        assert.equal(Atomics.load(count, 0), 3, runId);
        check(again);
      }
    } finally {
      await store.close();
      work.remove();
    }
  });

  it('a tensor under an odd key is recorded and read back there, with no prototype change', async () => {
    const work = new Workdir();
    const store = await SqliteStore.open(join(work.dir, 'odd.db'));
    const odd = new CompositeOperator({
      operators: [
        (x: Tensor) => {
          const state: Record<string, unknown> = {};
          for (const key of ['__proto__', 'a\u0000b', '\ud800']) {
            Object.defineProperty(state, key, { value: [x], enumerable: true, writable: true });
          }
          return withState(x, { state });
        },
      ],
    });
    const apply = () => withRun({ store, runId: 'odd-keys' }, () => odd.run(batch));
    try {
      await apply();
      const again = await apply();
      for (const [example, state] of (again.states[0] as Record<string, Tensor[]>[]).entries()) {
        assert.equal(Object.getPrototypeOf(state), Object.prototype);
        for (const key of ['__proto__', 'a\u0000b', '\ud800']) {
          const value = Object.getOwnPropertyDescriptor(state, key)!.value as Tensor[];
          assert.ok(isTensor(value[0]));
          assert.deepEqual(value[0]!.toArray(), [example + 1]);
        }
      }
    } finally {
      await store.close();
      work.remove();
    }
  });
});
