/**
 * withRun checks up front that its store has every method a run calls: a store written
 * for an earlier weft, lacking the methods added since, is refused with a message naming
 * them, before the run is opened, rather than failing midway with "is not a function".
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isWeftError, map, openStore, type Store, task, withRun } from 'weftjs';

const double = task('store-methods:double', (x: number) => x * 2);

/** `store` as a store of an earlier weft, without the methods `lacking`. */
function without(store: Store, lacking: readonly string[]): Store {
  const methods: Record<string, unknown> = { kind: 'custom', location: 'custom store' };
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(store))) {
    const value = (store as unknown as Record<string, unknown>)[name];
    if (name !== 'constructor' && typeof value === 'function' && !lacking.includes(name)) {
      methods[name] = value.bind(store);
    }
  }
  return methods as unknown as Store;
}

it('a store lacking methods a run calls is refused up front, naming them', async () => {
  const store = await openStore('memory:');
  const earlier = without(store, ['renewLease', 'countCompleted', 'findCompleted']);
  let ran = false;
  await assert.rejects(
    withRun({ store: earlier, runId: 'earlier' }, () => {
      ran = true;
    }),
    (error: unknown) => {
      assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `WEFT_VALIDATION, not ${error}`);
      assert.equal(
        (error as Error).message,
        'This store (custom) was written for an earlier weft: implement renewLease, ' +
          'findCompleted, countCompleted (see the Store interface) to run with it.',
      );
      return true;
    },
  );
  assert.equal(ran, false, 'nothing ran');
  assert.equal(await store.getRun('earlier'), undefined, 'the run was not opened');
});

it('a store with every method a run calls runs', async () => {
  const store = await openStore('memory:');
  const whole = without(store, []);
  assert.deepEqual(
    await withRun({ store: whole, runId: 'whole' }, () => map([1, 2], double)),
    [2, 4],
  );
  assert.equal((await store.getRun('whole'))?.status, 'completed');
});
