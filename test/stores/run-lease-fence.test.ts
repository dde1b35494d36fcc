/**
 * An owner stops its work on a run in time: when it cannot renew its lease, before the
 * lease expires (past that, another process may take the run and run the same tasks),
 * though a renewal that fails once and then succeeds in time keeps the run; when the run
 * was taken over, at once, without waiting to read who took it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isWeftError, MemoryStore, map, type Store, task, withRun } from 'weftjs';

/** `store`, with some of its methods replaced. */
function replacing(store: Store, methods: Partial<Store>): Store {
  return new Proxy(store, {
    get(target, name) {
      if (Object.hasOwn(methods, name)) return methods[name as keyof Store];
      const value = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A deferred: a promise and the function that resolves it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves once the wall clock has passed `until` (milliseconds since the epoch). */
function past(until: number): Promise<void> {
  return sleep(Math.max(0, until - Date.now()) + 5);
}

describe('run lease: stopping in time', () => {
  it('stops the run before its lease expires, so that no other owner overlaps it', async () => {
    const store = new MemoryStore();
    const flaky = replacing(store, {
      renewLease: async () => {
        throw new Error('connect ECONNRESET');
      },
    });
    const runId = 'fenced';
    const gate = deferred();
    const firstStarted = deferred();
    let started = 0;
    const gated = task('fence:gated', async (x: number) => {
      started++;
      firstStarted.resolve();
      await gate.promise;
      return x;
    });
    // Keeps the process alive while the tasks wait, as work does: the heartbeat does not.
    const alive = setInterval(() => {}, 60_000);
    try {
      let mapped: Promise<number[]> | undefined;
      const first = withRun({ store: flaky, runId, leaseMs: 600 }, () => {
        mapped = map(
          Array.from({ length: 10 }, (_, i) => i),
          gated,
          { concurrency: 2 },
        );
        return mapped;
      });
      await firstStarted.promise;
      const expiresAt = (await store.getRun(runId))?.leaseExpiresAt ?? 0;
      const outcome = await Promise.race([
        first.then(
          () => 'finished',
          (error: unknown) => error,
        ),
        past(expiresAt).then(() => 'still running when its lease expired'),
      ]);
      assert.ok(isWeftError(outcome, 'WEFT_RUN_BUSY'), String(outcome));
      assert.match(
        (outcome as Error).message,
        /^This process could not renew its lease on run 'fenced' for \d+ ms \(connect ECONNRESET\): .*stopped its work on the run/,
      );
      // The map itself stops: releasing its running tasks starts no other.
      gate.resolve();
      await assert.rejects(mapped!, (error) => error === outcome);
      assert.equal(started, 2);
      // Its lease expired, the run is another owner's to resume.
      await past(expiresAt);
      assert.equal(await withRun({ store, runId }, () => 'resumed'), 'resumed');
    } finally {
      clearInterval(alive);
    }
  });

  it('keeps the run when a renewal fails once and the next one succeeds in time', async () => {
    const store = new MemoryStore();
    const runId = 'flaky-once';
    let renewals = 0;
    const renewed = deferred();
    const flaky = replacing(store, {
      renewLease: async (id, owner, leaseMs) => {
        renewals++;
        if (renewals === 1) throw new Error('connect ECONNRESET');
        const held = await store.renewLease(id, owner, leaseMs);
        renewed.resolve();
        return held;
      },
    });
    // Keeps the process alive until the renewal, as work does: the heartbeat does not.
    const alive = setInterval(() => {}, 60_000);
    const result = await withRun({ store: flaky, runId, leaseMs: 3_000 }, async (run) => {
      const firstExpiry = (await store.getRun(runId))?.leaseExpiresAt ?? 0;
      await renewed.promise;
      await past(firstExpiry);
      assert.equal(run.signal.aborted, false, String(run.signal.reason));
      return 'kept';
    }).finally(() => clearInterval(alive));
    assert.equal(result, 'kept');
    assert.equal((await store.getRun(runId))?.status, 'completed');
  });

  it('a run taken over stops at once, before the store says who took it', async () => {
    const store = new MemoryStore();
    const runId = 'taken-slow';
    const holding = deferred<AbortSignal>();
    let readingStalls = false;
    const slow = replacing(store, {
      // Once the run is taken over, reading it never answers.
      getRun: (id) => (readingStalls ? new Promise(() => {}) : store.getRun(id)),
    });
    const alive = setInterval(() => {}, 60_000);
    try {
      void withRun({ store: slow, runId, leaseMs: 1_500 }, async (run) => {
        holding.resolve(run.signal);
        await new Promise(() => {});
      }).catch(() => {});
      const signal = await holding.promise;
      const holder = (await store.getRun(runId))?.owner ?? '';
      readingStalls = true;
      await store.openRun(
        runId,
        {},
        { owner: 'elsewhere:1:x', leaseMs: 60_000, takeOverFrom: holder },
      );
      const aborted = new Promise<unknown>((resolve) =>
        signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
      );
      const reason = await Promise.race([
        aborted,
        past(Date.now() + 2_000).then(() => 'not aborted'),
      ]);
      assert.ok(isWeftError(reason, 'WEFT_RUN_BUSY'), String(reason));
      assert.match(
        (reason as Error).message,
        /^Run 'taken-slow' was taken over: this process no longer owns it/,
      );
    } finally {
      clearInterval(alive);
    }
  });
});
