/**
 * withRun owns its run through a lease in the store. A second opening is refused while the
 * lease lasts; an owner known dead (a gone process of this machine) is taken over at once;
 * one on another machine, or naming a live process of this machine that may not be weft's,
 * holds the run until its lease expires; `takeOver` takes the run from a live owner, which
 * stops and leaves the run to it. In every store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isWeftError, map, openStore, type Store, task, withRun } from 'weftjs';
import { machineIdentity } from '../../src/core/lease.ts';
import { freshPostgresSchema } from '../fixtures/services.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-lease-'));
const postgres = freshPostgresSchema('lease');
const stores: Record<string, () => Promise<Store>> = {
  memory: () => openStore('memory:'),
  sqlite: () => openStore(`sqlite:${join(dir, 'weft.db')}`),
  postgres: () => openStore(postgres.url),
};

const double = task('lease:double', (x: number) => x * 2);

/** A deferred: a promise and the function that resolves it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Waits until the store's clock has passed the run's lease, which the test set to end now. */
async function pastLease(store: Store, runId: string): Promise<void> {
  const until = (await store.getRun(runId))?.leaseExpiresAt ?? 0;
  await sleep(Math.max(0, until - Date.now()) + 5);
}

/** The pid of a process that has ended. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  assert.ok(pid);
  return pid;
}

const busy = (pattern: RegExp) => (error: unknown) =>
  isWeftError(error, 'WEFT_RUN_BUSY') && pattern.test((error as Error).message);

for (const [kind, open] of Object.entries(stores)) {
  describe(`run lease (${kind})`, () => {
    let store: Store;
    after(async () => store?.close());

    it('refuses a second opening while the run works, and frees the run at the end', async () => {
      store ??= await open();
      const holding = deferred();
      const release = deferred();
      const first = withRun({ store, runId: `${kind}-busy` }, async () => {
        holding.resolve();
        await release.promise;
        return map([1, 2], double);
      });
      await holding.promise;
      let ran = false;
      await assert.rejects(
        withRun({ store, runId: `${kind}-busy` }, () => {
          ran = true;
        }),
        busy(
          new RegExp(
            `^Run '${kind}-busy' is owned by process ${process.pid} on this machine \\(.*\\), whose lease lasts until .*takeOver`,
          ),
        ),
      );
      assert.equal(ran, false, 'the refused call ran nothing');
      release.resolve();
      assert.deepEqual(await first, [2, 4]);
      const done = await store.getRun(`${kind}-busy`);
      assert.equal(done?.status, 'completed');
      assert.equal(done?.owner, undefined, 'the lease is released');
      // Free again: it opens at once.
      assert.deepEqual(await withRun({ store, runId: `${kind}-busy` }, () => 'again'), 'again');
    });

    it('releases the lease of a failed run, which opens again at once', async () => {
      store ??= await open();
      await assert.rejects(
        withRun({ store, runId: `${kind}-failed` }, () => {
          throw new Error('boom');
        }),
        /boom/,
      );
      const failed = await store.getRun(`${kind}-failed`);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.owner, undefined);
      assert.equal(await withRun({ store, runId: `${kind}-failed` }, () => 'resumed'), 'resumed');
    });

    it('renews the lease while the run works', async () => {
      store ??= await open();
      const runId = `${kind}-renewed`;
      await withRun({ store, runId, leaseMs: 1_200 }, async () => {
        const first = (await store.getRun(runId))?.leaseExpiresAt ?? 0;
        await sleep(Math.max(0, first - Date.now()) + 100);
        // Past the first lease: renewed, so still this run's and refused to others.
        const now = await store.getRun(runId);
        assert.ok((now?.leaseExpiresAt ?? 0) > first, 'the heartbeat extended the lease');
        await assert.rejects(
          withRun({ store, runId }, () => {}),
          busy(/is owned by/),
        );
      });
    });

    it('takes the run over at once from a dead process of this machine', async () => {
      store ??= await open();
      const runId = `${kind}-dead`;
      const dead = `${hostname()}:${deadPid()}:x:${machineIdentity()}`;
      await store.openRun(runId, {}, { owner: dead, leaseMs: 600_000 });
      assert.equal(await withRun({ store, runId }, () => 'mine'), 'mine');
      assert.equal((await store.getRun(runId))?.status, 'completed');
    });

    // Containers sharing the host's network, and cloned machines, share its hostname: a
    // pid there says nothing about the processes here.
    for (const [what, identity] of [
      ['another kernel or pid namespace of the same hostname', ':0123456789ab'],
      ['an older weft, which did not say its kernel and pid namespace', ''],
    ]) {
      it(`waits for the lease of a dead pid of ${what}`, async () => {
        store ??= await open();
        const runId = `${kind}-dead-elsewhere${identity}`;
        const elsewhere = `${hostname()}:${deadPid()}:x${identity}`;
        await store.openRun(runId, {}, { owner: elsewhere, leaseMs: 600_000 });
        await assert.rejects(
          withRun({ store, runId }, () => {}),
          busy(/is owned by process \d+ on this machine/),
        );
        assert.equal(await store.renewLease(runId, elsewhere, 1), true);
        await pastLease(store, runId);
        assert.equal(await withRun({ store, runId }, () => 'resumed'), 'resumed');
      });
    }

    it('leaves a run held from another machine alone until its lease expires', async () => {
      store ??= await open();
      const runId = `${kind}-foreign`;
      const foreign = 'otherhost:1:x';
      await store.openRun(runId, {}, { owner: foreign, leaseMs: 600_000 });
      await assert.rejects(
        withRun({ store, runId }, () => {}),
        busy(/^Run '.*-foreign' is owned by process 1 on otherhost, whose lease lasts until/),
      );
      // Its machine died: the lease runs out.
      assert.equal(await store.renewLease(runId, foreign, 1), true);
      await pastLease(store, runId);
      assert.equal(await withRun({ store, runId }, () => 'resumed'), 'resumed');
    });

    it('waits for the lease of a live pid of this machine, which may not be weft (a reused pid)', async () => {
      store ??= await open();
      const runId = `${kind}-reused`;
      const reused = `${hostname()}:${process.ppid}:x`;
      await store.openRun(runId, {}, { owner: reused, leaseMs: 600_000 });
      await assert.rejects(
        withRun({ store, runId }, () => {}),
        busy(/is owned by/),
      );
      assert.equal(await store.renewLease(runId, reused, 1), true);
      await pastLease(store, runId);
      assert.equal(await withRun({ store, runId }, () => 'resumed'), 'resumed');
    });

    it('takeOver takes a live run; its old owner stops without finishing the run', async () => {
      store ??= await open();
      const runId = `${kind}-taken`;
      const holding = deferred<AbortSignal>();
      let firstFinished = false;
      // Work that ignores the signal (the old owner stops all the same), and keeps the
      // process alive, as work does: the heartbeat alone does not.
      const alive = setInterval(() => {}, 60_000);
      // The old owner sees the takeover at its next renewal, a third of the lease on; a
      // lease long enough that a late renewal does not stop the run on its own first.
      const first = withRun({ store, runId, leaseMs: 1_500 }, async (run) => {
        holding.resolve(run.signal);
        await new Promise(() => {});
      }).finally(() => {
        firstFinished = true;
        clearInterval(alive);
      });
      first.catch(() => {});
      const firstSignal = await Promise.race([holding.promise, first.then(() => undefined)]);
      assert.ok(firstSignal, 'the first run holds the run');
      const second = await withRun({ store, runId, takeOver: true }, async () => {
        await assert.rejects(
          first,
          busy(
            new RegExp(
              `^Run '${runId}' was taken over by process ${process.pid} on this machine .*: this process no longer owns it`,
            ),
          ),
        );
        assert.ok(firstSignal.aborted, "the old owner's run.signal is aborted");
        const now = await store.getRun(runId);
        assert.equal(now?.status, 'running', 'the old owner did not finish the run');
        assert.equal(now?.attempts, 2);
        return 'second';
      });
      assert.equal(firstFinished, true);
      assert.equal(second, 'second');
      assert.equal((await store.getRun(runId))?.status, 'completed');
    });

    it('the fan-outs of a run taken over stop starting tasks', async () => {
      store ??= await open();
      const runId = `${kind}-taken-map`;
      const firstStarted = deferred();
      const gate = deferred();
      let started = 0;
      const gated = task(`lease:gated:${kind}`, async (x: number) => {
        started++;
        firstStarted.resolve();
        await gate.promise;
        return x;
      });
      let mapped: Promise<number[]> | undefined;
      // Keeps the process alive while the task waits, as work does: the heartbeat does not.
      const alive = setInterval(() => {}, 60_000);
      const first = withRun({ store, runId, leaseMs: 1_500 }, async () => {
        mapped = map(
          Array.from({ length: 100 }, (_, i) => i),
          gated,
          { concurrency: 1 },
        );
        return mapped;
      });
      first.catch(() => {});
      try {
        // A run stopped before its first task started fails here rather than waiting for good.
        await Promise.race([firstStarted.promise, first]);
        await withRun({ store, runId, takeOver: true }, async () => {
          await assert.rejects(first, busy(/was taken over/));
          // The map itself stops: releasing its running task starts no other.
          gate.resolve();
          await assert.rejects(mapped!, busy(/was taken over/));
        });
      } finally {
        gate.resolve();
        clearInterval(alive);
      }
      assert.equal(started, 1);
      // Only the task that was running may be recorded, with its own output.
      for (const record of await store.listTasks(runId)) {
        assert.match(record.key, /\/0$/);
        assert.equal(record.output, 0);
      }
    });

    it('refuses a leaseMs that is not a whole number of milliseconds, 3 or more', async () => {
      store ??= await open();
      for (const leaseMs of [0, 2, 1.5, Number.NaN, -1]) {
        await assert.rejects(
          withRun({ store, runId: `${kind}-bad-lease`, leaseMs }, () => {}),
          /leaseMs must be a whole number of milliseconds, 3 or more/,
        );
      }
      assert.equal(await store.getRun(`${kind}-bad-lease`), undefined, 'nothing was opened');
    });
  });
}
