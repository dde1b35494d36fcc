/**
 * A composite in a recorded run (on SQLite): each chunk of each operator is recorded, so
 * running again with the same run id skips the chunks that finished, and the seed derived
 * from the run draws what the first attempt drew.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isWeftError, threads, withRun } from 'weftjs';
import {
  CompositeOperator,
  type OperatorContext,
  ParallelStrategy,
  type Tensor,
  zeros,
} from 'weftjs/compose';
import { SqliteStore } from 'weftjs/sqlite';
import { double, logged } from './support/operators.ts';
import { Workdir } from './support/workdir.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

const batch = zeros([8, 2]).map((_, i) => i);

/** Chunk keys of `runId` its store holds, as `<operator>/<start>-<end>`. */
async function recorded(store: SqliteStore, runId: string): Promise<string[]> {
  const keys = [...(await store.completedOutputs(runId)).keys()];
  return keys.map((key) => key.split('/').slice(-2).join('/')).sort();
}

describe('a composite in a recorded run', () => {
  it('resumes: finished chunks are not run again, and the result is an uninterrupted run’s', async () => {
    const work = new Workdir();
    const ran: string[] = [];
    let failing = true;
    const composite = new CompositeOperator({
      name: 'augment',
      operators: [
        function jitter(x: Tensor, { random, index }: OperatorContext) {
          ran.push(`jitter:${index}`);
          return x.map((v) => v + random());
        },
        function picky(x: Tensor, { random, index }: OperatorContext) {
          if (failing && index === 5) throw new Error('not example 5, not yet');
          ran.push(`picky:${index}`);
          return x.map((v) => v * random.uniform(1, 2));
        },
      ],
      strategy: new ParallelStrategy({ mergeStrategy: 'stack' }),
      examplesPerTask: 2,
    });
    const apply = (store: SqliteStore, runId: string) =>
      withRun({ store, runId }, () => composite.apply(batch) as Promise<Tensor>);
    const store = await SqliteStore.open(join(work.dir, 'resume.db'));
    const fresh = await SqliteStore.open(join(work.dir, 'fresh.db'));
    try {
      await assert.rejects(apply(store, 'compose-resume'), (error) => {
        assert.ok(isWeftError(error, 'WEFT_OPERATOR_FAILED'));
        assert.match(error.message, /operator_1 \('picky'\) failed on example 5/);
        return true;
      });
      const first = await recorded(store, 'compose-resume');
      assert.ok(first.includes('operator_0/0-2'));
      assert.ok(!first.includes('operator_1/4-6'));
      const ranFirst = ran.splice(0);

      failing = false;
      const resumed = await apply(store, 'compose-resume');
      // Exactly the chunks not recorded the first time ran again.
      const chunksRun = new Set(
        ran.map((entry) => {
          const [name, index] = entry.split(':');
          const start = Number(index) - (Number(index) % 2);
          return `operator_${name === 'jitter' ? 0 : 1}/${start}-${start + 2}`;
        }),
      );
      assert.deepEqual(
        [...chunksRun].sort(),
        allChunks().filter((chunk) => !first.includes(chunk)),
      );
      assert.ok(ranFirst.length + ran.length < 2 * 8 + 2);
      assert.deepEqual(await recorded(store, 'compose-resume'), allChunks());

      // The same run id on a store that never failed: the same seed, the same output.
      const uninterrupted = await apply(fresh, 'compose-resume');
      assert.deepEqual(resumed.toArray(), uninterrupted.toArray());
      assert.deepEqual(resumed.shape, [8, 2, 2]);
    } finally {
      await store.close();
      await fresh.close();
      work.remove();
    }
  });

  it('on threads: a chunk recorded before the failure is not run again', async () => {
    const work = new Workdir([6]);
    const store = await SqliteStore.open(join(work.dir, 'threads.db'));
    const composite = new CompositeOperator({
      name: 'logged',
      operators: [double, logged],
      examplesPerTask: 2,
      executor,
    });
    const apply = () =>
      withRun({ store, runId: 'compose-threads-resume' }, () =>
        composite.apply(batch, { extraParams: { dir: work.dir } }),
      );
    try {
      await assert.rejects(apply(), /operator_1 \('compose-test\/logged'\) failed on example 6/);
      const first = await recorded(store, 'compose-threads-resume');
      const before = work.executions();
      work.heal(6);
      const out = (await apply()) as Tensor;
      assert.deepEqual(out.shape, [8, 4]);
      const after = work.executions();
      for (let example = 0; example < 8; example++) {
        const chunk = `operator_1/${example - (example % 2)}-${example - (example % 2) + 2}`;
        const again = (after.get(example) ?? 0) - (before.get(example) ?? 0);
        assert.equal(again, first.includes(chunk) ? 0 : 1, `example ${example} (${chunk})`);
      }
      assert.deepEqual(await recorded(store, 'compose-threads-resume'), allChunks());
    } finally {
      await store.close();
      work.remove();
    }
  });
});

function allChunks(): string[] {
  return [0, 1]
    .flatMap((operator) =>
      [0, 2, 4, 6].map((start) => `operator_${operator}/${start}-${start + 2}`),
    )
    .sort();
}
