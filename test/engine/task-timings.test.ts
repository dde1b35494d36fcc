/**
 * Task timings measure the task, not its wait: with one worker (or one slot) and several
 * tasks handed over at once, each record's duration is that task's own work, and the
 * time it waited for the worker is recorded apart, in `queuedMs`, growing with its place
 * in the queue. The task events say the same as the records. Assertions compare measured
 * values with each other, never with a fixed time.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  asyncPool,
  EventBus,
  type Executor,
  map,
  openStore,
  processes,
  type Task,
  type TaskEndEvent,
  type TaskRecord,
  threads,
  withRun,
} from 'weftjs';
import { busy, busyTimed, pause } from '../fixtures/timing-tasks.ts';

const tasks = 6;
const workMs = 30;

interface Timings {
  readonly records: TaskRecord[];
  readonly events: Map<string, TaskEndEvent>;
}

/** Runs `tasks` tasks of `workMs` each at once on `executor`, recorded in a memory store. */
async function timed(executor: Executor, task: Task<number, number>): Promise<Timings> {
  const store = await openStore('memory:');
  const bus = new EventBus();
  const events = new Map<string, TaskEndEvent>();
  bus.on('task:end', (event) => events.set(event.key, event));
  try {
    await withRun({ store, runId: 'timings', events: bus }, () =>
      map(
        Array.from({ length: tasks }, () => workMs),
        task,
        { executor, concurrency: tasks },
      ),
    );
    const records = await store.listTasks('timings');
    // In the order the tasks were handed over (the item number ends the key).
    records.sort((a, b) => Number(a.key.split('/').at(-1)) - Number(b.key.split('/').at(-1)));
    return { records, events };
  } finally {
    await store.close();
  }
}

function assertOwnTimes({ records, events }: Timings): void {
  assert.equal(records.length, tasks);
  const durations = records.map((r) => r.durationMs);
  const waits = records.map((r) => r.queuedMs ?? Number.NaN);
  const first = records[0]!;
  const last = records.at(-1)!;
  // One worker runs one task at a time: durations that leave out the wait cannot add up
  // to more than the time from the first start to the last end (the margin is for the
  // conversion between the worker's clock and this thread's, not for speed).
  const span = last.startedAt + last.durationMs - first.startedAt;
  const total = durations.reduce((a, b) => a + b, 0);
  assert.ok(total < 1.25 * span, `durations add up to ${total} ms, the tasks spanned ${span} ms`);
  // The wait is recorded apart, and grows with the place in the queue.
  assert.ok(last.queuedMs! > first.queuedMs!, `waits ${waits}`);
  for (let i = 1; i < waits.length; i++) assert.ok(waits[i]! > waits[i - 1]!, `waits ${waits}`);
  // Each task starts when the one before it ended, not when it was handed over.
  for (let i = 1; i < records.length; i++) {
    assert.ok(records[i]!.startedAt > records[i - 1]!.startedAt, 'starts in queue order');
  }
  // The events carry what the records hold.
  for (const record of records) {
    const event = events.get(record.key);
    assert.equal(event?.durationMs, record.durationMs, `${record.key}: event duration`);
    assert.equal(event?.queuedMs, record.queuedMs, `${record.key}: event queuedMs`);
  }
}

describe('task timings measure the task, not its wait', () => {
  const one = threads({ workers: 1 });
  const child = processes({ workers: 1 });
  after(() => Promise.all([one.close(), child.close()]));

  it('threads, one worker: durations are the work, waits are recorded apart', async () => {
    assertOwnTimes(await timed(one, busy));
  });

  it('threads, one worker, tasks with a timeout (sent one by one)', async () => {
    assertOwnTimes(await timed(one, busyTimed));
  });

  it('processes, one worker', async () => {
    assertOwnTimes(await timed(child, busy));
  });

  it('asyncPool with one slot: a task waiting for the slot starts when it gets it', async () => {
    assertOwnTimes(await timed(asyncPool({ concurrency: 1 }), pause));
  });
});
