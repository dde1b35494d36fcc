/**
 * Random streams: a seed gives each operator its own stream and each example its own,
 * so the same seed gives the same output however the batch is cut into tasks and
 * wherever they run.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemoryStore, threads, withRun } from 'weftjs';
import {
  CompositeOperator,
  type OperatorContext,
  ParallelStrategy,
  type Tensor,
  zeros,
} from 'weftjs/compose';
import { noisy } from './support/operators.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

const draw = (x: Tensor, { random }: OperatorContext) =>
  x.map(() => random() + random.normal() + random.int(0, 10) + (random.bool() ? 1 : 0));

function composite(options: { examplesPerTask?: number } = {}): CompositeOperator {
  return new CompositeOperator({
    operators: [draw, draw, noisy],
    strategy: new ParallelStrategy({ mergeStrategy: 'stack' }),
    ...options,
  });
}

const batch = zeros([24, 3]);

async function values(c: CompositeOperator, options = {}): Promise<number[][][]> {
  return ((await c.apply(batch, options)) as Tensor).toArray() as number[][][];
}

describe('seeded random streams', () => {
  it('the same seed gives the same output; another seed another', async () => {
    const first = await values(composite(), { seed: 42 });
    assert.deepEqual(await values(composite(), { seed: 42 }), first);
    assert.notDeepEqual(await values(composite(), { seed: 43 }), first);
    // Seeds past 2^32 keep both halves.
    assert.notDeepEqual(
      await values(composite(), { seed: 2 ** 40 + 42 }),
      await values(composite(), { seed: 42 }),
    );
  });

  it('each operator draws from its own stream, each example from its own', async () => {
    const out = await values(composite(), { seed: 1 });
    // The two operators are the same function: only their streams differ.
    assert.notDeepEqual(
      out.map((example) => example[0]),
      out.map((example) => example[1]),
    );
    assert.notDeepEqual(out[0]![0], out[1]![0]);
  });

  it('examplesPerTask 1, the default and threads give the same output', async () => {
    const reference = await values(composite({ examplesPerTask: 1 }), { seed: 9 });
    assert.deepEqual(await values(composite(), { seed: 9 }), reference);
    assert.deepEqual(await values(composite({ examplesPerTask: 24 }), { seed: 9 }), reference);
    const threaded = new CompositeOperator({
      operators: [draw, draw, noisy],
      strategy: new ParallelStrategy({ mergeStrategy: 'stack' }),
      examplesPerTask: 5,
    });
    // Functions stay in this thread; the task operator runs on the workers.
    assert.deepEqual(await values(threaded, { seed: 9, executor }), reference);
  });

  it('without a seed: random outside a run, derived from the run inside one', async () => {
    assert.notDeepEqual(await values(composite()), await values(composite()));
    const store = new MemoryStore();
    // A fresh store for the same run id: it holds no record of the first apply's chunks,
    // so only a seed derived from the run can draw the same numbers again.
    const fresh = new MemoryStore();
    try {
      const inRun = (on: MemoryStore, runId: string) =>
        withRun({ store: on, runId }, () => values(composite()));
      const first = await inRun(store, 'seeds-a');
      assert.deepEqual(await inRun(fresh, 'seeds-a'), first);
      assert.notDeepEqual(await inRun(store, 'seeds-b'), first);
    } finally {
      await store.close();
      await fresh.close();
    }
  });

  it('normal draws have about mean 0 and variance 1; ints stay in range', async () => {
    const samples: number[] = [];
    const ints = new Set<number>();
    const c = new CompositeOperator({
      operators: [
        (x: Tensor, { random }: OperatorContext) =>
          x.map(() => {
            samples.push(random.normal());
            ints.add(random.int(-2, 3));
            return random.uniform(5, 6);
          }),
      ],
    });
    const out = (await c.apply(zeros([50, 100]), { seed: 3 })) as Tensor;
    for (const value of out.data) assert.ok(value >= 5 && value < 6);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length;
    assert.ok(Math.abs(mean) < 0.05, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
    assert.deepEqual(
      [...ints].sort((a, b) => a - b),
      [-2, -1, 0, 1, 2],
    );
  });
});
