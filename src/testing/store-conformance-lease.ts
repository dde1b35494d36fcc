/**
 * Store conformance, the lease: a run has one live owner at a time. openRun takes the
 * lease atomically; another owner is refused with a RunBusyError while it lasts, and
 * admitted once it expired or when it takes over that very owner; renewLease, finishRun
 * and recordTasks (given an owner) act only for the owner holding the run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWeftError, type RunBusyError, toWire } from '../core/errors.ts';
import type { RunRecord, Store, TaskRecord } from '../core/store.ts';
import { type CaseOptions, freshId, rejectionOf } from './store-conformance-support.ts';

/** Options of {@link describeLeaseCases}. */
export interface LeaseCaseOptions extends CaseOptions {
  /** Whether two stores from `makeStore` share one database, so that they race for real. */
  readonly shared: boolean;
}

/** A lease that outlasts any case. */
const long = 600_000;

/** Declares the lease cases, on the suite's store and on stores from `makeStore`. */
export function describeLeaseCases(
  store: () => Store,
  makeStore: () => Promise<Store> | Store,
  options: LeaseCaseOptions,
): void {
  const caseOptions = { timeout: options.timeout };

  describe('lease', () => {
    it('openRun takes the lease: owner and expiry, as getRun reads them', caseOptions, async () => {
      const id = freshId('lease');
      const calledAt = Date.now();
      const opened = await store().openRun(id, {}, { owner: 'owner-a', leaseMs: 60_000 });
      assert.equal(opened.owner, 'owner-a');
      assertAbout(opened.leaseExpiresAt, calledAt + 60_000);
      assert.deepEqual(await store().getRun(id), opened);
      const listed = (await store().listRuns({ limit: 500 })).find((run) => run.id === id);
      assert.deepEqual(listed, opened);
      const unnamed = await store().openRun(freshId('lease-default'));
      assert.equal(
        typeof unnamed.owner,
        'string',
        'a default owner holds a run opened without one',
      );
      assertAbout(unnamed.leaseExpiresAt, calledAt + 30_000);
    });

    it(
      'a second owner is refused while the lease lasts; the run is unchanged',
      caseOptions,
      async () => {
        const id = freshId('busy');
        const opened = await store().openRun(id, { by: 'a' }, { owner: 'owner-a', leaseMs: long });
        const error = await rejectionOf(
          store().openRun(id, { by: 'b' }, { owner: 'owner-b', leaseMs: long }),
        );
        assertBusy(error, id, opened);
        assert.deepEqual(await store().getRun(id), opened);
      },
    );

    it('the owner holding the run may open it again: attempts + 1', caseOptions, async () => {
      const id = freshId('same-owner');
      await store().openRun(id, {}, { owner: 'owner-a', leaseMs: long });
      const again = await store().openRun(id, { more: 1 }, { owner: 'owner-a', leaseMs: long });
      assert.equal(again.attempts, 2);
      assert.equal(again.owner, 'owner-a');
      assert.deepEqual(again.meta, { more: 1 });
    });

    it('another owner may open the run once the lease expired', caseOptions, async () => {
      const id = freshId('expired');
      await store().openRun(id, {}, { owner: 'owner-a', leaseMs: 1 });
      // The store's clock (a database server's, perhaps) decides: ask it until it agrees.
      const reopened = await whenFree(() =>
        store().openRun(id, {}, { owner: 'owner-b', leaseMs: long }),
      );
      assert.equal(reopened.owner, 'owner-b');
      assert.equal(reopened.attempts, 2);
      assert.equal(reopened.status, 'running');
      assert.equal(await store().renewLease(id, 'owner-a', long), false, 'a lost its lease');
    });

    it(
      'takeOverFrom takes only that owner’s lease; the old owner can no longer renew',
      caseOptions,
      async () => {
        const id = freshId('take-over');
        const opened = await store().openRun(id, {}, { owner: 'owner-a', leaseMs: long });
        const wrong = await rejectionOf(
          store().openRun(id, {}, { owner: 'owner-c', leaseMs: long, takeOverFrom: 'owner-x' }),
        );
        assertBusy(wrong, id, opened);
        const taken = await store().openRun(
          id,
          {},
          { owner: 'owner-b', leaseMs: long, takeOverFrom: 'owner-a' },
        );
        assert.equal(taken.owner, 'owner-b');
        assert.equal(taken.attempts, 2);
        assert.equal(await store().renewLease(id, 'owner-a', long), false);
        // Once b holds the run, taking it over "from a" no longer works.
        const late = await rejectionOf(
          store().openRun(id, {}, { owner: 'owner-a', leaseMs: long, takeOverFrom: 'owner-a' }),
        );
        assertBusy(late, id, taken);
      },
    );

    it('renewLease extends the holder’s lease, and only the holder’s', caseOptions, async () => {
      const id = freshId('renew');
      const opened = await store().openRun(id, {}, { owner: 'owner-a', leaseMs: 1_000 });
      const calledAt = Date.now();
      assert.equal(await store().renewLease(id, 'owner-a', long), true);
      const renewed = await store().getRun(id);
      assertAbout(renewed?.leaseExpiresAt, calledAt + long);
      assert.ok((renewed?.leaseExpiresAt ?? 0) > (opened.leaseExpiresAt ?? 0), 'extended');
      assert.equal(await store().renewLease(id, 'owner-b', long), false);
      assert.equal(await store().renewLease(freshId('no-run'), 'owner-a', long), false);
      assert.equal((await store().getRun(id))?.owner, 'owner-a');
    });

    it('finishRun releases the lease: anyone may open the run after', caseOptions, async () => {
      const id = freshId('release');
      await store().openRun(id, {}, { owner: 'owner-a', leaseMs: long });
      await store().finishRun(id, 'completed', undefined, 'owner-a');
      const finished = await store().getRun(id);
      assert.equal(finished?.status, 'completed');
      assert.equal(finished?.owner, undefined);
      assert.equal(finished?.leaseExpiresAt, undefined);
      assert.equal(await store().renewLease(id, 'owner-a', long), false);
      const next = await store().openRun(id, {}, { owner: 'owner-b', leaseMs: long });
      assert.equal(next.attempts, 2);
      // Without an owner, finishRun finishes whoever holds the run.
      await store().finishRun(id, 'interrupted');
      assert.equal((await store().getRun(id))?.owner, undefined);
      assert.equal((await store().getRun(id))?.status, 'interrupted');
    });

    it('finishRun by a stale owner changes nothing', caseOptions, async () => {
      const id = freshId('stale');
      await store().openRun(id, {}, { owner: 'owner-a', leaseMs: long });
      const taken = await store().openRun(
        id,
        {},
        { owner: 'owner-b', leaseMs: long, takeOverFrom: 'owner-a' },
      );
      await store().finishRun(id, 'failed', toWire(new Error('a gave up')), 'owner-a');
      assert.deepEqual(await store().getRun(id), taken);
      await store().finishRun(id, 'completed', undefined, 'owner-b');
      // Released: a's late finish still changes nothing.
      await store().finishRun(id, 'failed', toWire(new Error('a, later')), 'owner-a');
      const done = await store().getRun(id);
      assert.equal(done?.status, 'completed');
      assert.equal(done?.error, undefined);
    });

    it(
      'recordTasks by a stale owner is refused, naming the holder, and changes nothing',
      caseOptions,
      async () => {
        const id = freshId('fence');
        await store().openRun(id, {}, { owner: 'owner-a', leaseMs: long });
        await store().recordTasks(id, [taskRecord(id, 'a', 'by a')], 'owner-a');
        const taken = await store().openRun(
          id,
          {},
          { owner: 'owner-b', leaseMs: long, takeOverFrom: 'owner-a' },
        );
        await store().recordTasks(id, [taskRecord(id, 'b', 'by b')], 'owner-b');
        const before = await store().listTasks(id);
        const late = [taskRecord(id, 'a', 'by a, late'), taskRecord(id, 'c', 'by a, new')];
        const error = await rejectionOf(store().recordTasks(id, late, 'owner-a'));
        assertBusy(error, id, taken);
        assert.match((error as Error).message, /owner-a.*taken over/);
        assert.deepEqual(await store().listTasks(id), before);
        // Once the run is finished, nobody holds it: a late write is refused all the same.
        await store().finishRun(id, 'completed', undefined, 'owner-b');
        const after = await rejectionOf(store().recordTasks(id, late, 'owner-b'));
        assert.ok(isWeftError(after, 'WEFT_RUN_BUSY'), `WEFT_RUN_BUSY, not ${after}`);
        assert.deepEqual(await store().listTasks(id), before);
        // Without an owner, recordTasks writes whoever holds the run, as ever.
        await store().recordTasks(id, late);
        assert.deepEqual(
          (await store().listTasks(id)).map((task) => [task.key, task.output]),
          [
            [`${id}/a`, 'by a, late'],
            [`${id}/b`, 'by b'],
            [`${id}/c`, 'by a, new'],
          ],
        );
      },
    );

    it(
      'recordTasks by a stale owner of a run that is gone fails as without owner',
      caseOptions,
      async () => {
        const error = await rejectionOf(
          store().recordTasks(freshId('fence-none'), [taskRecord('x', 'a', 1)], 'owner-a'),
        );
        assert.ok(isWeftError(error, 'WEFT_STORE'), `WEFT_STORE, not ${error}`);
      },
    );

    it('of two owners opening a run at once, exactly one wins', caseOptions, async () => {
      for (let round = 0; round < 10; round++) {
        const id = freshId(`race-${round}`);
        await assertOneWinner(id, [store(), store()]);
      }
    });

    if (options.shared) {
      it(
        'of two store objects on one database opening a run at once, exactly one wins',
        caseOptions,
        async () => {
          const stores = [await makeStore(), await makeStore()];
          try {
            for (let round = 0; round < 10; round++) {
              await assertOneWinner(freshId(`race-stores-${round}`), stores);
            }
            // A run that exists already, its lease expired: still one winner.
            const id = freshId('race-expired');
            await stores[0]!.openRun(id, {}, { owner: 'owner-old', leaseMs: 1 });
            const results = await whenFree(async () => {
              // Until the lease of owner-old expired, both are refused alike: ask again.
              const settled = await race(id, stores);
              if (settled.every((result) => result.status === 'rejected')) {
                throw settled[0]!.reason;
              }
              return settled;
            });
            // The loser may have asked before the old lease expired: then owner-old refused it.
            await assertOneOf(id, results, stores[0]!, 'owner-old');
          } finally {
            await Promise.all(stores.map((one) => one.close()));
          }
        },
      );
    }

    it(
      'a lease that is not a positive number, or an empty owner, is refused',
      caseOptions,
      async () => {
        for (const leaseMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown]) {
          const error = await rejectionOf(
            store().openRun(freshId('bad-lease'), {}, { leaseMs: leaseMs as number }),
          );
          assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `WEFT_VALIDATION: ${error}`);
        }
        const error = await rejectionOf(store().openRun(freshId('bad-owner'), {}, { owner: '' }));
        assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `WEFT_VALIDATION: ${error}`);
      },
    );
  });
}

/** A completed task record of the run `runId`, under the key `runId/name`. */
function taskRecord(runId: string, name: string, output: unknown): TaskRecord {
  return {
    key: `${runId}/${name}`,
    task: `fence:${name}`,
    status: 'completed',
    attempts: 1,
    startedAt: 1_700_000_000_000,
    durationMs: 1,
    output,
  };
}

/** Two owners open `id` at once, each through its own store: exactly one wins. */
async function assertOneWinner(id: string, stores: readonly Store[]): Promise<void> {
  await assertOneOf(id, await race(id, stores), stores[0]!);
}

async function assertOneOf(
  id: string,
  results: readonly PromiseSettledResult<RunRecord>[],
  store: Store,
  formerOwner?: string,
): Promise<void> {
  const won = results.filter((result) => result.status === 'fulfilled');
  const lost = results.filter((result) => result.status === 'rejected');
  assert.equal(won.length, 1, `one winner: ${results.map((result) => result.status)}`);
  const winner = (won[0] as PromiseFulfilledResult<RunRecord>).value;
  const reason = (lost[0] as PromiseRejectedResult).reason as RunBusyError;
  if (formerOwner !== undefined && reason.owner === formerOwner) {
    assert.ok(isWeftError(reason, 'WEFT_RUN_BUSY'), `WEFT_RUN_BUSY, not ${reason}`);
  } else {
    assertBusy(reason, id, winner);
  }
  assert.deepEqual(await store.getRun(id), winner);
}

function race(id: string, stores: readonly Store[]): Promise<PromiseSettledResult<RunRecord>[]> {
  return Promise.allSettled(
    stores.map((one, i) => one.openRun(id, { i }, { owner: `racer-${i}`, leaseMs: long })),
  );
}

/** `open` once it no longer fails with WEFT_RUN_BUSY (a lease expiring), within 10 s. */
async function whenFree<T>(open: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await open();
    } catch (error) {
      if (!isWeftError(error, 'WEFT_RUN_BUSY') || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

function assertBusy(error: unknown, id: string, holder: RunRecord): void {
  assert.ok(isWeftError(error, 'WEFT_RUN_BUSY'), `WEFT_RUN_BUSY, not ${error}`);
  const busy = error as RunBusyError;
  assert.equal(busy.name, 'RunBusyError');
  assert.equal(busy.runId, id);
  assert.equal(busy.owner, holder.owner);
  assert.equal(busy.leaseExpiresAt, holder.leaseExpiresAt);
  assert.ok(busy.message.includes(id), busy.message);
}

/**
 * A lease expiry near `expected`, the time of the call plus the lease: later by the time
 * the call took, earlier by no more than a database server's clock may differ.
 */
function assertAbout(time: number | undefined, expected: number): void {
  assert.equal(typeof time, 'number', 'a lease expiry');
  const late = (time as number) - expected;
  assert.ok(late > -1_000 && late < 10_000, `${time} is about ${expected}`);
}
