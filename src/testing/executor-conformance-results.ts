/**
 * Executor conformance, results: ordered outputs of `map`, `dag`, `run` and `runBatch`,
 * and task errors across the boundary.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dag } from '../core/dag.ts';
import type { Settled } from '../core/executor.ts';
import { KeyScope } from '../core/keys.ts';
import { map } from '../core/map.ts';
import { transfer } from '../core/transfer.ts';
import * as tasks from './conformance-tasks.ts';
import {
  assertTaskError,
  type ConformanceSuite,
  caseOptions,
  codeOf,
  invocation,
  range,
  rejectionOf,
  runOne,
} from './executor-conformance-support.ts';

export function describeResults({ executor }: ConformanceSuite): void {
  describe('results', () => {
    it('map returns the outputs of a sync task in input order', caseOptions, async () => {
      const items = range(1, 20);
      assert.deepEqual(
        await map(items, tasks.double, { executor: executor() }),
        items.map((x) => x * 2),
      );
    });

    it(
      'a buffer moved with transfer() arrives whole, and one moved back too',
      caseOptions,
      async () => {
        const [result] = await map(
          [transfer(new Float64Array(64).fill(0.5))],
          tasks.sumAndMoveBack,
          { executor: executor() },
        );
        assert.equal(result!.sum, 32);
        assert.ok(result!.filled instanceof Float64Array, 'the output is a Float64Array');
        assert.deepEqual([...result!.filled], new Array(64).fill(32));
      },
    );

    it('map returns the outputs of an async task in input order', caseOptions, async () => {
      // Each item waits a different time, so they finish out of order.
      const items = range(1, 20);
      assert.deepEqual(
        await map(items, tasks.doubleLater, { executor: executor() }),
        items.map((x) => x * 2),
      );
    });

    it('map over 1,000 items returns every output, which sum correctly', caseOptions, async () => {
      const items = range(1, 1000);
      const outputs = await map(items, tasks.double, { executor: executor() });
      assert.equal(outputs.length, 1000);
      assert.deepEqual(
        outputs,
        items.map((x) => x * 2),
      );
      assert.equal(
        outputs.reduce((total, x) => total + x, 0),
        1_001_000,
      );
    });

    it('iterating a map streams the outputs in input order', caseOptions, async () => {
      const streamed: number[] = [];
      for await (const output of map(range(1, 30), tasks.doubleLater, {
        executor: executor(),
      })) {
        streamed.push(output);
      }
      assert.deepEqual(
        streamed,
        range(1, 30).map((x) => x * 2),
      );
    });

    it(
      'dag runs a node once its dependencies finish, with their outputs',
      caseOptions,
      async () => {
        const results = await dag(
          [
            { id: 'a', task: tasks.double, input: 1 },
            { id: 'b', task: tasks.double, input: 2 },
            {
              id: 'c',
              task: tasks.sum,
              dependencies: ['a', 'b'],
              input: (done) => [done.get('a'), done.get('b')],
            },
          ],
          { executor: executor() },
        );
        assert.deepEqual(
          results,
          new Map([
            ['a', 2],
            ['b', 4],
            ['c', 6],
          ]),
        );
      },
    );

    it('run returns the output of one invocation', caseOptions, async () => {
      const output = await runOne(executor(), invocation(tasks.double, 21, 'direct:run/0'));
      assert.equal(output, 42);
    });

    it(
      'runBatch returns Settled outcomes in order, with errors in place',
      caseOptions,
      async () => {
        const inputs = [2, 3, 4, 5, 6];
        const outcomes = await executor().runBatch(
          inputs.map((x, i) => invocation(tasks.failOdd, x, `direct:runBatch/${i}`)),
        );
        assert.equal(outcomes.length, inputs.length);
        outcomes.forEach((outcome: Settled, i) => {
          const x = inputs[i]!;
          if (x % 2 === 0) {
            assert.deepEqual(outcome, { ok: true, value: x * 2 }, `outcome ${i}`);
          } else {
            assert.equal(outcome.ok, false, `outcome ${i} fails`);
            assertTaskError(outcome.ok ? undefined : outcome.error, `odd ${x}`);
          }
        });
      },
    );
  });

  describe('errors', () => {
    it('a task error reaches the caller with its message, name and code', caseOptions, async () => {
      const error = await rejectionOf(
        map(['it broke'], tasks.fail, { executor: executor(), scope: new KeyScope() }),
        'map of a failing task',
      );
      assert.equal(codeOf(error), 'WEFT_TASK_FAILED');
      assert.equal((error as { key?: unknown }).key, 'map:conformance:fail/0');
      assertTaskError((error as Error).cause, 'it broke');

      const direct = await rejectionOf(
        runOne(executor(), invocation(tasks.fail, 'directly', 'direct:fail/0')),
        'run of a failing task',
      );
      assertTaskError(direct, 'directly');
    });

    it("onError 'collect' puts Error instances in place of failed items", caseOptions, async () => {
      const outputs = await map([1, 2, 3, 4], tasks.failOdd, {
        executor: executor(),
        onError: 'collect',
      });
      assert.equal(outputs.length, 4);
      assertTaskError(outputs[0], 'odd 1');
      assert.equal(outputs[1], 4);
      assertTaskError(outputs[2], 'odd 3');
      assert.equal(outputs[3], 8);
    });

    it('a failed dag node rejects the dag with the task error as cause', caseOptions, async () => {
      const error = await rejectionOf(
        dag([{ id: 'broken', task: tasks.fail, input: 'node broke' }], {
          executor: executor(),
        }),
        'dag with a failing node',
      );
      assert.equal(codeOf(error), 'WEFT_TASK_FAILED');
      assertTaskError((error as Error).cause, 'node broke');
    });
  });
}
