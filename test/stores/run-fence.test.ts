/**
 * A process whose run was taken over writes no more of its tasks: a task it had running
 * when the run changed hands, finishing after, is refused by the store (which fences
 * task writes by the run's owner), so the new owner's record of the same key stays. In
 * every store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isWeftError, map, openStore, type Store, type TaskRecord, task, withRun } from 'weftjs';
import { freshPostgresSchema } from '../fixtures/services.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-fence-'));
const postgres = freshPostgresSchema('fence');
const stores: Record<string, () => Promise<Store>> = {
  memory: () => openStore('memory:'),
  sqlite: () => openStore(`sqlite:${join(dir, 'weft.db')}`),
  postgres: () => openStore(postgres.url),
};

/** A deferred: a promise and the function that resolves it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The calls to recordTasks of a store, as they settle: the owner passed and the outcome. */
interface RecordCall {
  readonly owner: string | undefined;
  readonly outcome: PromiseSettledResult<void>;
}

/** `store`, telling each settled recordTasks call to `onCall`. */
function watched(store: Store, onCall: (call: RecordCall) => void): Store {
  return new Proxy(store, {
    get(target, name) {
      if (name === 'recordTasks') {
        return async (runId: string, records: readonly TaskRecord[], owner?: string) => {
          const [outcome] = await Promise.allSettled([target.recordTasks(runId, records, owner)]);
          onCall({ owner, outcome: outcome! });
          if (outcome!.status === 'rejected') throw outcome!.reason;
        };
      }
      const value = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Opens `runId` with a task that waits until released, takes the run over from it once
 * the task runs, records the new owner's result for the task's key; returns what the test
 * needs to go on.
 */
async function takenOverMidTask(store: Store, runId: string, leaseMs: number) {
  const started = deferred();
  const release = deferred();
  const calls: RecordCall[] = [];
  const recorded = deferred<RecordCall>();
  const slow = task(`fence:slow-${runId}`, async (x: number) => {
    started.resolve();
    await release.promise;
    return `old owner's ${x}`;
  });
  const old = withRun(
    {
      store: watched(store, (call) => {
        calls.push(call);
        recorded.resolve(call);
      }),
      runId,
      leaseMs,
    },
    () => map([1], slow),
  );
  old.catch(() => {});
  // A run stopped before its task started fails here rather than waiting for good.
  await Promise.race([started.promise, old]);
  const holder = (await store.getRun(runId))?.owner;
  assert.ok(holder, 'the old process holds the run');
  await store.openRun(runId, {}, { owner: 'new-owner', leaseMs: 600_000, takeOverFrom: holder });
  const key = `${runId}/map:${slow.name}/0`;
  const mine: TaskRecord = {
    key,
    task: slow.name,
    status: 'completed',
    attempts: 1,
    startedAt: Date.now(),
    durationMs: 1,
    output: "new owner's 1",
  };
  await store.recordTasks(runId, [mine], 'new-owner');
  return { old, release, recorded: recorded.promise, calls, holder, key };
}

const busy = (error: unknown) => isWeftError(error, 'WEFT_RUN_BUSY');

for (const [kind, open] of Object.entries(stores)) {
  describe(`run fence (${kind})`, () => {
    let store: Store;
    after(async () => store?.close());

    it('a task finishing after its run was taken over does not overwrite the new owner’s record', async () => {
      store ??= await open();
      const runId = `${kind}-late`;
      // The old process sees the takeover at its next renewal (a third of the lease) and
      // stops. A lease of tens of milliseconds would have it stop on its own, before its
      // task starts, whenever a renewal is a little late.
      const { old, release, recorded, holder, key } = await takenOverMidTask(store, runId, 1_500);
      // The heartbeat does not keep the process alive, and the task only waits: this does.
      const alive = setInterval(() => {}, 1_000);
      await assert.rejects(old, busy).finally(() => clearInterval(alive));
      release.resolve();
      // The task ran to its end all the same; its record was refused.
      const call = await recorded;
      assert.equal(call.owner, holder, 'the old process wrote as the owner it was');
      assert.equal(call.outcome.status, 'rejected');
      assert.ok(busy((call.outcome as PromiseRejectedResult).reason));
      const tasks = await store.listTasks(runId);
      assert.deepEqual(
        tasks.map((one) => [one.key, one.output]),
        [[key, "new owner's 1"]],
      );
      assert.equal((await store.getRun(runId))?.owner, 'new-owner');
    });

    it('a write refused before the takeover is noticed stops the run as a lost lease', async () => {
      store ??= await open();
      const runId = `${kind}-unnoticed`;
      // A lease that outlasts the case: only the refused write tells the old process.
      const { old, release, calls, key } = await takenOverMidTask(store, runId, 600_000);
      release.resolve();
      await assert.rejects(old, (error: unknown) => {
        assert.ok(busy(error), `WEFT_RUN_BUSY, not ${error}`);
        assert.match((error as Error).message, new RegExp(`'${runId}'.*new-owner`));
        return true;
      });
      assert.equal(calls.length, 1, 'refused once, not tried again record by record');
      const tasks = await store.listTasks(runId);
      assert.deepEqual(
        tasks.map((one) => [one.key, one.output]),
        [[key, "new owner's 1"]],
      );
      const run = await store.getRun(runId);
      assert.equal(run?.owner, 'new-owner', 'the run is still the new owner’s');
      assert.equal(run?.status, 'running');
    });
  });
}
