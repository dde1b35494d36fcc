/** dag: a graph that cannot run is refused before any node runs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DagNode, dag } from 'weftjs';
import { isValidation } from '../fixtures/map-dag-tasks.ts';

describe('dag: validation before anything runs', () => {
  const cases: readonly (readonly [string, (task: DagNode['task']) => DagNode[], RegExp])[] = [
    [
      'duplicate ids',
      (task) => [
        { id: 'a', task },
        { id: 'a', task },
      ],
      /two nodes have the id 'a'/,
    ],
    [
      'an unknown dependency',
      (task) => [
        { id: 'a', task },
        { id: 'b', task, dependencies: ['nope'] },
      ],
      /node 'b' depends on 'nope', which is not a node/,
    ],
    [
      'a self dependency',
      (task) => [
        { id: 'a', task },
        { id: 'b', task, dependencies: ['b'] },
      ],
      /node 'b' depends on itself/,
    ],
    [
      'a cycle of two nodes',
      (task) => [
        { id: 'a', task, dependencies: ['b'] },
        { id: 'b', task, dependencies: ['a'] },
      ],
      /cycle a → b → a/,
    ],
    [
      'a longer cycle behind a runnable node',
      (task) => [
        { id: 'x', task },
        { id: 'a', task, dependencies: ['x', 'c'] },
        { id: 'b', task, dependencies: ['a'] },
        { id: 'c', task, dependencies: ['b'] },
      ],
      /cycle a → c → b → a/,
    ],
    ['a node that is not an object', (task) => [{ id: 'a', task }, 42 as unknown as DagNode], /#1/],
    ['an empty id', (task) => [{ id: '', task }], /non-empty string id/],
    [
      'dependencies that are not an array',
      (task) => [{ id: 'a', task, dependencies: 'b' as unknown as string[] }],
      /not an array/,
    ],
  ];

  for (const [label, build, message] of cases) {
    it(`rejects ${label} with a ValidationError`, async () => {
      let runs = 0;
      const task = () => {
        runs++;
        return 1;
      };
      await assert.rejects(Promise.resolve(dag(build(task))), isValidation(message));
      assert.throws(() => dag(build(task))[Symbol.asyncIterator](), isValidation(message));
      assert.equal(runs, 0, 'no node ran');
    });
  }

  it('rejects nodes that are not iterable, and an unknown onError policy', async () => {
    await assert.rejects(
      Promise.resolve(dag(42 as unknown as DagNode[])),
      isValidation(/nodes must be/),
    );
    let runs = 0;
    await assert.rejects(
      Promise.resolve(
        dag(
          [
            {
              id: 'a',
              task: () => {
                runs++;
              },
            },
          ],
          { onError: 'bogus' as 'throw' },
        ),
      ),
      isValidation(/onError/),
    );
    assert.equal(runs, 0);
  });
});
