/** dag: nodes that arrive from an async iterable while the graph runs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asyncPool, type DagNode, DependencyFailedError, dag, EventBus } from 'weftjs';
import {
  deferred,
  drainMicrotasks,
  failsOnThree,
  guard,
  isValidation,
  sleep,
  sleepThenReturn,
  square,
  sum,
} from '../fixtures/map-dag-tasks.ts';
import { gatedNode } from './support.ts';

describe('dag: nodes from an async iterable', () => {
  it('runs nodes arriving over time, with awaits between them', guard, async () => {
    async function* plan(): AsyncGenerator<DagNode> {
      yield { id: '1', task: sleepThenReturn, input: { ms: 2, value: 1 } };
      await sleep(1);
      yield { id: '2', task: sleepThenReturn, input: { ms: 1, value: 2 } };
      await sleep(3);
      yield {
        id: '3',
        task: sum,
        dependencies: ['1', '2'],
        input: (done) => [done.get('1') as number, done.get('2') as number],
      };
      await sleep(1);
      yield { id: '4', task: square, dependencies: ['3'], input: (done) => done.get('3') };
    }
    assert.deepEqual(
      await dag(plan()),
      new Map([
        ['1', 1],
        ['2', 2],
        ['3', 3],
        ['4', 9],
      ]),
    );
  });

  it('starts a node before the input has finished', guard, async () => {
    const log: string[] = [];
    const first = gatedNode('first', log);
    async function* plan(): AsyncGenerator<DagNode> {
      yield first.node;
      // The plan goes on only once the first node runs: it hangs if nodes wait for the end.
      await first.started.promise;
      log.push('planned second');
      first.gate.resolve();
      yield { id: 'second', task: square, input: 4, dependencies: ['first'] };
    }
    const results = await dag(plan(), { executor: asyncPool() });
    assert.deepEqual(log, ['start:first', 'planned second', 'end:first']);
    assert.equal(results.get('second'), 16);
  });

  it('makes a node wait for a dependency that arrives later', guard, async () => {
    const log: string[] = [];
    const askedForMore = deferred();
    const release = deferred();
    async function* plan(): AsyncGenerator<DagNode> {
      yield {
        id: 'late-user',
        task: (x: number) => {
          log.push('start:late-user');
          return x + 1;
        },
        dependencies: ['dep'],
        input: (done) => done.get('dep') as number,
      };
      askedForMore.resolve();
      await release.promise;
      yield {
        id: 'dep',
        task: (x: number) => {
          log.push('start:dep');
          return x;
        },
        input: 41,
      };
    }
    const all = dag(plan(), { executor: asyncPool() }).then((results) => results);
    await askedForMore.promise;
    await drainMicrotasks();
    assert.deepEqual(log, [], 'late-user waits for its dependency to arrive');
    release.resolve();
    const results = await all;
    assert.deepEqual(log, ['start:dep', 'start:late-user']);
    assert.equal(results.get('late-user'), 42);
  });

  it(
    'fails a streamed node at once when its dependency already failed (collect)',
    guard,
    async () => {
      const bus = new EventBus();
      const badFailed = deferred();
      bus.on('task:fail', () => badFailed.resolve());
      async function* plan(): AsyncGenerator<DagNode> {
        yield { id: 'bad', task: failsOnThree, input: 3 };
        await badFailed.promise;
        yield { id: 'child', task: square, input: 2, dependencies: ['bad'] };
      }
      const results = await dag(plan(), { onError: 'collect', events: bus });
      const child = results.get('child');
      assert.ok(child instanceof DependencyFailedError);
      assert.equal(child.rootCause, 'bad');
    },
  );

  it('rejects a dependency that never arrived, once the input ends', guard, async () => {
    async function* plan(): AsyncGenerator<DagNode> {
      yield { id: 'a', task: square, input: 2 };
      await sleep(1);
      yield { id: 'b', task: square, input: 3, dependencies: ['zzz'] };
    }
    await assert.rejects(
      Promise.resolve(dag(plan())),
      isValidation(/node 'b' depends on 'zzz', which is not a node/),
    );
  });

  it('rejects a cycle among streamed nodes instead of hanging', guard, async () => {
    let runs = 0;
    const task = () => {
      runs++;
      return 1;
    };
    async function* plan(): AsyncGenerator<DagNode> {
      yield { id: 'free', task };
      yield { id: 'a', task, dependencies: ['b'] };
      await sleep(1);
      yield { id: 'b', task, dependencies: ['a'] };
    }
    await assert.rejects(Promise.resolve(dag(plan())), isValidation(/a → b → a/));
    assert.equal(runs, 1, 'only the free node ran');
  });

  it('rejects a streamed duplicate id and a streamed self dependency', guard, async () => {
    async function* duplicate(): AsyncGenerator<DagNode> {
      yield { id: 'a', task: square, input: 1 };
      yield { id: 'a', task: square, input: 2 };
    }
    await assert.rejects(Promise.resolve(dag(duplicate())), isValidation(/two nodes have the id/));
    async function* selfish(): AsyncGenerator<DagNode> {
      yield { id: 'a', task: square, input: 1, dependencies: ['a'] };
    }
    await assert.rejects(Promise.resolve(dag(selfish())), isValidation(/depends on itself/));
  });

  it('rejects with the error of a failing input', guard, async () => {
    const boom = new Error('planner crashed');
    async function* plan(): AsyncGenerator<DagNode> {
      yield { id: 'a', task: square, input: 1 };
      throw boom;
    }
    await assert.rejects(Promise.resolve(dag(plan())), (error: unknown) => error === boom);
  });
});
