/** map: the keys of items, nested maps included. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inline, KeyScope, map, type TaskContext } from 'weftjs';
import { innerKey, keyOfA, keyOfB } from '../fixtures/map-dag-tasks.ts';

describe('map: keys', () => {
  it('keys items map:<task>/<index>, with ~2 for a second map in the same scope', async () => {
    assert.deepEqual(await map(['a', 'b', 'c'], keyOfA), [
      'map:mapDag.keyOfA/0',
      'map:mapDag.keyOfA/1',
      'map:mapDag.keyOfA/2',
    ]);
    assert.deepEqual(await map(['a'], keyOfA), ['map:mapDag.keyOfA~2/0']);
    assert.deepEqual(await map(['a'], keyOfA, { executor: inline() }), ['map:mapDag.keyOfA~3/0']);
  });

  it('uses the name and itemKey options', async () => {
    assert.deepEqual(
      await map(['x.txt', 'y.txt'], keyOfB, {
        name: 'files',
        itemKey: (item: string, index: number) => `${index}-${item}`,
      }),
      ['files/0-x.txt', 'files/1-y.txt'],
    );
    assert.deepEqual(await map([7], keyOfB, { name: 'files' }), ['files~2/0']);
  });

  it('prefixes keys with a given scope', async () => {
    const scope = new KeyScope('run-7');
    assert.deepEqual(await map([1, 2], keyOfB, { scope }), [
      'run-7/map:mapDag.keyOfB/0',
      'run-7/map:mapDag.keyOfB/1',
    ]);
    assert.deepEqual(await map([1], keyOfB, { scope }), ['run-7/map:mapDag.keyOfB~2/0']);
  });

  it('nests the keys of maps started with scope: ctx.scope under the parent key', async () => {
    const outer = await map(['p', 'q'], nestedOuter);
    assert.deepEqual(outer, [
      {
        key: 'map:nestedOuter/0',
        inner: [
          'map:nestedOuter/0/map:mapDag.innerKey/0',
          'map:nestedOuter/0/map:mapDag.innerKey/1',
        ],
      },
      {
        key: 'map:nestedOuter/1',
        inner: [
          'map:nestedOuter/1/map:mapDag.innerKey/0',
          'map:nestedOuter/1/map:mapDag.innerKey/1',
        ],
      },
    ]);
  });

  it('gives a second nested map of the same task in one task a ~2 key', async () => {
    const keys = await map(['p'], nestedTwice);
    assert.deepEqual(keys, [
      ['map:nestedTwice/0/map:mapDag.innerKey/0', 'map:nestedTwice/0/map:mapDag.innerKey~2/0'],
    ]);
  });
});

// Plain functions used as tasks; their names are the task names in keys.
async function nestedOuter(_: string, ctx: TaskContext) {
  return { key: ctx.key, inner: await map([0, 1], innerKey, { scope: ctx.scope }) };
}

async function nestedTwice(_: string, ctx: TaskContext) {
  const [first] = await map([0], innerKey, { scope: ctx.scope });
  const [second] = await map([0], innerKey, { scope: ctx.scope });
  return [first, second];
}
