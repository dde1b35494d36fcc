/**
 * Every front end on the bullmq executor with no other change: map, dag, a Burr-style
 * application's parallel step (weftjs/app), a laminar flow's layers (weftjs/flow), a
 * BatchFlow batch's parallel methods on targets mpc and threads (weftjs/batch), the
 * LLMCompiler loop's tools (weftjs/compiler) and a composite's operators (weftjs/compose),
 * each given `bullmq()` where it takes its executor, on two real `weft worker` processes.
 * Each gives what it gives on asyncPool, and each sent its leaves through the queue:
 * BullMQ counts every job added in the queue's `id` key.
 * (`weft run --executor bullmq`, the configuration-only path, is run by the
 * orchestrator and Redis tests of this folder.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { asyncPool, dag, type Executor, MemoryStore, map } from 'weftjs';
import { parallel } from 'weftjs/batch';
import { bullmq } from 'weftjs/bullmq';
import { LLMCompiler } from 'weftjs/compiler';
import { CompositeOperator, ParallelStrategy, type Tensor, tensor } from 'weftjs/compose';
import { ActionsOverNumbers, inputs3, outputsOf, parentApp } from '../app/support/parallel.ts';
import { counted, countedInputs } from '../fixtures/bullmq-counted.ts';
import { freshQueue, redisUrl } from '../fixtures/services.ts';
import { readExecutions } from './support/executions.ts';
import {
  combine,
  difference,
  doubled,
  flow,
  joiner,
  left,
  planner,
  right,
  Scaled,
  seed,
  shifted,
  weather,
} from './support/front-ends.ts';
import { startWorkers } from './support/workers.ts';

const queue = freshQueue('front');
const dir = mkdtempSync(join(tmpdir(), 'weft-bullmq-front-'));

// Started here, not in a hook: what they register to stop them runs when the file is done.
const workers = await startWorkers(2, { queue, concurrency: 8 });
const counter = await jobCounter();

describe('every front end through bullmq, unchanged', { timeout: 60_000 }, () => {
  const local = asyncPool({ concurrency: 16 });
  const remote = bullmq({ connection: redisUrl, queue });
  after(async () => {
    await remote.close();
    await local.close();
    counter.close();
  });

  /** Runs `fn` on both executors: returns both results and how many jobs the bullmq run added. */
  async function onBoth<T>(fn: (executor: Executor) => Promise<T>) {
    const expected = await fn(local);
    const before = await counter.jobsAdded();
    const actual = await fn(remote);
    return { expected, actual, jobs: (await counter.jobsAdded()) - before };
  }

  it('map', async () => {
    const log = join(dir, 'map.log');
    const { expected, actual, jobs } = await onBoth((executor) =>
      map(countedInputs(50, executor === remote ? log : undefined), counted, { executor }),
    );
    assert.deepEqual(actual, expected);
    assert.equal(jobs, 50);
    const pids = new Set(readExecutions(log).map((execution) => execution.pid));
    assert.ok(
      [...pids].every((pid) => workers.all.some((worker) => worker.pid === pid)),
      'the tasks ran in the weft workers',
    );
  });

  it('dag', async () => {
    const { expected, actual, jobs } = await onBoth(async (executor) =>
      Object.fromEntries(
        await dag(
          [
            { id: 'seed', task: seed, input: 4 },
            { id: 'left', task: left, dependencies: ['seed'], input: (done) => done.get('seed') },
            { id: 'right', task: right, dependencies: ['seed'], input: (done) => done.get('seed') },
            {
              id: 'combine',
              task: combine,
              dependencies: ['left', 'right'],
              input: (done) => ({ a: done.get('left') as number, b: done.get('right') as number }),
            },
          ],
          { executor },
        ),
      ),
    );
    assert.deepEqual(actual, expected);
    assert.deepEqual(actual.combine, [13, 144, 1872]);
    assert.equal(jobs, 4);
  });

  it('weftjs/app: the sub-applications of a parallel step', async () => {
    const { expected, actual, jobs } = await onBoth((executor) =>
      outputsOf(parentApp(new ActionsOverNumbers(), { executor }), inputs3),
    );
    assert.deepEqual(actual, expected);
    // Per input number: a function action, a class action and a 4-action sub-graph.
    assert.equal(jobs, 3 * (1 + 1 + 4), 'one job per step of each sub-application');
  });

  it('weftjs/flow: the tasks of its layers, a ForEach grid among them', async () => {
    const { expected, actual, jobs } = await onBoth(async (executor) => {
      const store = new MemoryStore();
      try {
        const result = await flow.run({ store, executor });
        const multiply = await result.layer('Multiply');
        return {
          total: (await result.layer('Sum')).total as number,
          products: (await multiply.product.toArray()) as number[],
          indices: (await multiply.index.toArray()) as number[],
        };
      } finally {
        await store.close();
      }
    });
    assert.deepEqual(actual, expected);
    assert.equal(actual.total, 2 * (1 + 2 + 3 + 4) * (10 + 20 + 30));
    assert.equal(jobs, 14, 'one job per task: Shard, the 4 × 3 grid of Multiply, and Sum');
  });

  it('weftjs/batch: a parallel method on target mpc (the task it returns runs per item)', async () => {
    const { expected, actual, jobs } = await onBoth((executor) =>
      parallel(new Scaled([1, 2, 3, 4, 5])).cubed({ executor }),
    );
    assert.deepEqual(actual, expected);
    assert.deepEqual(actual, [1, 8, 27, 64, 125]);
    assert.equal(jobs, 5, 'one job per item');
  });

  it('weftjs/batch: a parallel method on target threads (the method runs per item on the rebuilt batch)', async () => {
    const { expected, actual, jobs } = await onBoth((executor) =>
      parallel(new Scaled([1, 2, 3, 4, 5])).scaled(10, { executor }),
    );
    assert.deepEqual(actual, expected);
    assert.deepEqual(
      (actual as { value: number }[]).map((result) => result.value),
      [10, 20, 30, 40, 50],
    );
    assert.equal(jobs, 5, 'one job per item');
  });

  it('weftjs/compiler: the tools of two rounds', async () => {
    const { expected, actual, jobs } = await onBoth(async (executor) => {
      const compiler = new LLMCompiler({
        planner,
        joiner,
        tools: { weather, difference },
        maxReplans: 1,
        executor,
      });
      const { answer, observations, rounds } = await compiler.invoke('Which city is warmer?');
      return { answer, observations: Object.fromEntries(observations), rounds };
    });
    assert.deepEqual(actual, expected);
    assert.equal(actual.answer, '1=18 2=11 3=7 4=14 5=3');
    assert.equal(jobs, 5, 'one job per tool call');
  });

  it('weftjs/compose: the operators of a composite', async () => {
    const batch = tensor(Array.from({ length: 8 }, (_, i) => [i, i + 0.5, -i]));
    const { expected, actual, jobs } = await onBoth(async (executor) => {
      const composite = new CompositeOperator({
        name: 'bullmq-front',
        operators: [doubled, shifted],
        strategy: new ParallelStrategy({ mergeStrategy: 'stack' }),
      });
      const { data, states, metadata } = await composite.run(batch, { seed: 7, executor });
      const merged = data as Tensor;
      return { shape: merged.shape, values: Array.from(merged.data), states, metadata };
    });
    assert.deepEqual(actual, expected);
    assert.deepEqual(actual.shape, [8, 2, 3]);
    // By default a chunk is an eighth of the batch: here one example.
    assert.equal(jobs, 2 * 8, 'one job per operator and chunk');
  });
});

/**
 * Reads how many jobs were added to the queue: BullMQ's add script increments the queue's
 * `id` key on every add, whether it makes a job or finds one with that id already.
 */
async function jobCounter() {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  return {
    jobsAdded: async () => Number((await redis.get(`bull:${queue}:id`)) ?? 0),
    close: () => redis.disconnect(),
  };
}
