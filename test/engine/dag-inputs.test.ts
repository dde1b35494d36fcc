/** dag: input functions, which build a node's input from its dependencies' results. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DependencyFailedError, dag, type TaskContext, TaskFailedError } from 'weftjs';
import { call, sleep, square } from '../fixtures/map-dag-tasks.ts';

describe('dag: input functions', () => {
  it('awaits an input function that returns a promise', async () => {
    const results = await dag([
      { id: 'a', task: square, input: 3 },
      {
        id: 'b',
        task: square,
        dependencies: ['a'],
        input: async (done) => {
          await sleep(1);
          return (done.get('a') as number) + 1;
        },
      },
    ]);
    assert.equal(results.get('b'), 100);
  });

  it('passes a function as input when an input function returns it', async () => {
    const results = await dag([
      { id: 'a', task: call, input: () => (ctx: TaskContext) => ctx.key.endsWith('/a') },
    ]);
    assert.equal(results.get('a'), true);
  });

  it('fails the node when its input function throws (throw)', async () => {
    let ran = false;
    const boom = new Error('cannot build input');
    const error = await dag([
      {
        id: 'a',
        task: () => {
          ran = true;
        },
        input: () => {
          throw boom;
        },
      },
    ]).then(
      () => assert.fail('the dag should reject'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof TaskFailedError);
    assert.equal(error.cause, boom);
    assert.match(error.key, /\/a$/);
    assert.equal(ran, false);
  });

  it('fails the node and its dependents when its input function throws or rejects (collect)', async () => {
    const boom = new Error('sync input failure');
    const late = new Error('async input failure');
    const results = await dag(
      [
        {
          id: 'sync',
          task: square,
          input: () => {
            throw boom;
          },
        },
        {
          id: 'async',
          task: square,
          input: async () => {
            await sleep(1);
            throw late;
          },
        },
        { id: 'child', task: square, input: 1, dependencies: ['async'] },
        { id: 'fine', task: square, input: 4 },
      ],
      { onError: 'collect' },
    );
    assert.equal(results.get('sync'), boom);
    assert.equal(results.get('async'), late);
    const child = results.get('child');
    assert.ok(child instanceof DependencyFailedError);
    assert.equal(child.rootCause, 'async');
    assert.equal(results.get('fine'), 16);
  });
});
