/**
 * A viewer of a running run (`weft ui`, reading the store from another connection) sees
 * what the run does while it does it: a fan-out's start is in the store while the run goes
 * (the engine writes within 300 ms), not only when the run ends or 256 events have piled
 * up, and so are the records of its tasks as they finish. The run is held open by tasks
 * that wait for the test, which is what proves "before the end"; the test polls the store
 * with a deadline generous enough for a loaded machine, since a timer's lateness is not
 * what it tests.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  map,
  openStore,
  type Store,
  type TaskRecord,
  type WeftEvents,
  type WeftEventType,
  withRun,
} from 'weftjs';
import { deferred } from '../fixtures/map-dag-tasks.ts';

let folder: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'weft-live-events-'));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

/**
 * Reads the store every few milliseconds until `read` finds something, or fails once
 * `deadline` (a `Date.now()` time) passed.
 */
async function pollUntil<T>(
  read: () => Promise<T | undefined>,
  deadline: number,
  what: string,
): Promise<T> {
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what} did not reach the store in time`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** How long a poll waits for what the engine writes within 300 ms. */
const liveDeadlineMs = 10_000;

/** The run's first event of `type`, once the viewer finds it in the store. */
function polledEvent<T extends WeftEventType>(
  viewer: Store,
  runId: string,
  type: T,
): Promise<WeftEvents[T]> {
  return pollUntil(
    async () =>
      (await viewer.listEvents(runId)).find((event): event is WeftEvents[T] => event.type === type),
    Date.now() + liveDeadlineMs,
    type,
  );
}

describe('a running run, seen from another connection to its store', () => {
  it("finds a map's start, and the records of finished tasks, while the run goes", async () => {
    const url = `sqlite:${join(folder, 'live.db')}`;
    const store = await openStore(url);
    const viewer: Store = await openStore(url);
    after(() => Promise.all([store.close(), viewer.close()]));
    const runId = 'live-events';
    const firstDone = deferred();
    const gate = deferred();
    let running = true;
    const run = withRun({ store, runId }, () =>
      map(
        [0, 1, 2],
        async (x: number) => {
          // Item 0 finishes at once; the others hold the run open until the test is done.
          if (x !== 0) await gate.promise;
          else firstDone.resolve();
          return x * 2;
        },
        { concurrency: 3 },
      ),
    ).finally(() => {
      running = false;
    });
    try {
      await firstDone.promise;
      const start = await polledEvent(viewer, runId, 'map:start');
      assert.equal(running, true, 'the run is still going');
      assert.equal(start.total, 3);
      assert.ok(start.scope.startsWith(`${runId}/`), start.scope);
      const record = await pollUntil<TaskRecord>(
        async () => {
          const tasks = await viewer.listTasks(runId);
          return tasks.find((task) => task.key === `${start.scope}/0`);
        },
        Date.now() + liveDeadlineMs,
        "the finished task's record",
      );
      assert.equal(running, true, 'the run is still going');
      assert.equal(record.status, 'completed');
      assert.equal(record.output, 0);
      assert.equal((await viewer.listTasks(runId)).length, 1, 'only the finished task');
    } finally {
      gate.resolve();
    }
    assert.deepEqual(await run, [0, 2, 4]);
    const types = (await viewer.listEvents(runId)).map((event) => event.type);
    assert.deepEqual(types, ['map:start', 'map:end']);
  });

  it("finds a streamed map's size once the map has read its input", async () => {
    const url = `sqlite:${join(folder, 'live-total.db')}`;
    const store = await openStore(url);
    const viewer: Store = await openStore(url);
    after(() => Promise.all([store.close(), viewer.close()]));
    const runId = 'live-total';
    const gate = deferred();
    let running = true;
    async function* items(): AsyncGenerator<number> {
      yield* [0, 1, 2];
    }
    const run = withRun({ store, runId }, () =>
      map(
        items(),
        async (x: number) => {
          await gate.promise;
          return x;
        },
        { concurrency: 4 },
      ),
    ).finally(() => {
      running = false;
    });
    try {
      const total = await polledEvent(viewer, runId, 'map:total');
      assert.equal(running, true, 'the run is still going');
      assert.equal(total.total, 3);
    } finally {
      gate.resolve();
    }
    assert.deepEqual(await run, [0, 1, 2]);
  });
});
