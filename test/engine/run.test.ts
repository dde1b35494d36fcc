/** Runs: every task recorded under its key, and a run resumed by id skips what completed. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dag,
  EventBus,
  isWeftError,
  MemoryStore,
  map,
  type Store,
  type TaskRecord,
  task,
  withRun,
} from 'weftjs';

const executed: number[] = [];
let failFrom = Number.POSITIVE_INFINITY;

const square = task('run-test:square', (x: number) => {
  executed.push(x);
  if (x >= failFrom) throw new Error(`item ${x} fails this time`);
  return x * x;
});

const returnsFunction = task('run-test:returnsFunction', (x: number) => (x === 2 ? () => x : x));

/** A store that counts its writes, to see that records are written in groups. */
function counting(store: Store): { store: Store; writes: number[] } {
  const writes: number[] = [];
  const wrapped = Object.create(store) as Store;
  wrapped.recordTasks = (runId: string, records: readonly TaskRecord[]) => {
    writes.push(records.length);
    return store.recordTasks(runId, records);
  };
  return { store: wrapped, writes };
}

describe('withRun', () => {
  it('records every task under a key that starts with the run id, in groups', async () => {
    const { store, writes } = counting(new MemoryStore());
    const out = await withRun({ store, runId: 'r1' }, () => map([1, 2, 3, 4], square));
    assert.deepEqual(out, [1, 4, 9, 16]);
    const records = await store.listTasks('r1');
    assert.deepEqual(
      records.map((r) => [r.key, r.status, r.output, r.attempts, r.task]),
      [1, 2, 3, 4].map((x, i) => [
        `r1/map:run-test:square/${i}`,
        'completed',
        x * x,
        1,
        'run-test:square',
      ]),
    );
    assert.ok(writes.length < 4, `4 records in ${writes.length} writes`);
    assert.equal((await store.getRun('r1'))?.status, 'completed');
  });

  it('resumes: completed tasks are not executed again and their stored outputs are returned', async () => {
    const store = new MemoryStore();
    const items = Array.from({ length: 20 }, (_, i) => i);
    executed.length = 0;
    failFrom = 12;
    await assert.rejects(
      withRun({ store, runId: 'resume-1' }, () => map(items, square, { concurrency: 1 })),
      { code: 'WEFT_TASK_FAILED' },
    );
    assert.equal((await store.getRun('resume-1'))?.status, 'failed');
    assert.deepEqual(executed, items.slice(0, 13));

    executed.length = 0;
    failFrom = Number.POSITIVE_INFINITY;
    const bus = new EventBus();
    let resumed = 0;
    bus.on('task:end', (event) => {
      if (event.resumed) resumed++;
    });
    const out = await withRun({ store, runId: 'resume-1', events: bus }, () => map(items, square));
    assert.deepEqual(
      out,
      items.map((x) => x * x),
    );
    assert.deepEqual(executed, items.slice(12), 'only the failed and unstarted items ran');
    assert.equal(resumed, 12);
    const run = await store.getRun('resume-1');
    assert.equal(run?.status, 'completed');
    assert.equal(run?.attempts, 2);
  });

  it('re-runs failed tasks on resume, in collect mode too', async () => {
    const store = new MemoryStore();
    executed.length = 0;
    failFrom = 3;
    const first = await withRun({ store, runId: 'collect' }, () =>
      map([1, 2, 3, 4], square, { onError: 'collect' }),
    );
    assert.ok(first[2] instanceof Error && first[3] instanceof Error);
    const failed = (await store.listTasks('collect')).filter((r) => r.status === 'failed');
    assert.deepEqual(
      failed.map((r) => [r.key, r.error?.message]),
      [
        ['collect/map:run-test:square/2', 'item 3 fails this time'],
        ['collect/map:run-test:square/3', 'item 4 fails this time'],
      ],
    );
    executed.length = 0;
    failFrom = Number.POSITIVE_INFINITY;
    assert.deepEqual(
      await withRun({ store, runId: 'collect' }, () => map([1, 2, 3, 4], square)),
      [1, 4, 9, 16],
    );
    assert.deepEqual(executed, [3, 4]);
  });

  it('fails only the task whose output cannot be stored, naming its key', async () => {
    const store = new MemoryStore();
    const out = await withRun({ store, runId: 'unstorable' }, () =>
      map([1, 2, 3], returnsFunction, { onError: 'collect' }),
    );
    assert.equal(out[0], 1);
    assert.equal(out[2], 3);
    assert.ok(isWeftError(out[1], 'WEFT_SERIALIZATION'), String(out[1]));
    assert.match((out[1] as Error).message, /unstorable\/map:run-test:returnsFunction\/1/);
  });

  it('resumes a dag: finished nodes are not run again', async () => {
    const store = new MemoryStore();
    let cRuns = 0;
    let failC = true;
    const nodes = () => [
      { id: 'a', task: square, input: 2 },
      { id: 'b', task: square, input: 3 },
      {
        id: 'c',
        task: square,
        dependencies: ['a', 'b'],
        input: (done: ReadonlyMap<string, unknown>) => {
          cRuns++;
          if (failC) throw new Error('c cannot start yet');
          return (done.get('a') as number) + (done.get('b') as number);
        },
      },
    ];
    failFrom = Number.POSITIVE_INFINITY;
    await assert.rejects(withRun({ store, runId: 'dag-1' }, () => dag(nodes())));
    executed.length = 0;
    failC = false;
    const results = await withRun({ store, runId: 'dag-1' }, () => dag(nodes()));
    assert.deepEqual(
      [...results],
      [
        ['a', 4],
        ['b', 9],
        ['c', 169],
      ],
    );
    assert.deepEqual(executed, [13], 'only c ran');
    assert.equal(cRuns, 2);
  });

  it('gives nested fan-outs keys under the task that started them', async () => {
    const store = new MemoryStore();
    const outer = task('run-test:outer', async (x: number, ctx) => {
      const inner = await map([x, x + 1], square, { scope: ctx.scope });
      return inner.reduce((a, b) => a + b, 0);
    });
    await withRun({ store, runId: 'nested' }, () => map([1], outer));
    const keys = (await store.listTasks('nested')).map((r) => r.key).sort();
    assert.deepEqual(keys, [
      'nested/map:run-test:outer/0',
      'nested/map:run-test:outer/0/map:run-test:square/0',
      'nested/map:run-test:outer/0/map:run-test:square/1',
    ]);
  });

  it('rejects a bad run id and a missing store before anything runs', async () => {
    await assert.rejects(
      withRun({ store: new MemoryStore(), runId: 'has space' }, () => 1),
      {
        code: 'WEFT_VALIDATION',
      },
    );
    await assert.rejects(
      withRun({ store: undefined as unknown as Store }, () => 1),
      {
        code: 'WEFT_VALIDATION',
        message: /openStore/,
      },
    );
  });
});

describe('run events', () => {
  it('keeps fan-out starts and ends, retries and failures with the run', async () => {
    const store = new MemoryStore();
    executed.length = 0;
    failFrom = 2;
    await withRun({ store, runId: 'events-1' }, () => map([1, 2], square, { onError: 'collect' }));
    failFrom = Number.POSITIVE_INFINITY;
    const kept = await store.listEvents('events-1');
    assert.deepEqual(
      kept.map((event) => event.type),
      ['map:start', 'task:fail', 'map:end'],
    );
    assert.equal(kept[0]?.scope, 'events-1/map:run-test:square');
    const failure = kept[1] as { error: Error };
    assert.match(failure.error.message, /item 2 fails this time/);
  });
});

class Refusal {
  readonly reason = 'a class instance, not an Error';
}
const throwsInstance = task('run-test:throwsInstance', () => {
  throw new Refusal();
});
let openGate: () => void = () => {};
const gate = new Promise<void>((resolve) => {
  openGate = resolve;
});
let returned = 0;
let allReturned: () => void = () => {};
const bothReturned = new Promise<void>((resolve) => {
  allReturned = resolve;
});
/** Item 0 fails at once; the others wait for the gate, ignoring their signal, then return. */
const gated = task('run-test:gated', async (x: number) => {
  if (x === 0) throw new Error('first fails');
  await gate;
  if (++returned === 2) allReturned();
  return x;
});

describe('run edge cases', () => {
  it('resumes a long dag without recursing once per node', async () => {
    const store = new MemoryStore();
    const chain = () =>
      Array.from({ length: 3000 }, (_, i) => ({
        id: `n${i}`,
        task: (x: number) => x + 1,
        dependencies: i === 0 ? [] : [`n${i - 1}`],
        input: (done: ReadonlyMap<string, unknown>) => (i === 0 ? 0 : done.get(`n${i - 1}`)),
      }));
    const first = await withRun({ store, runId: 'chain' }, () =>
      dag(chain(), { executor: undefined }),
    );
    assert.equal(first.get('n2999'), 3000);
    const again = await withRun({ store, runId: 'chain' }, () => dag(chain()));
    assert.equal(again.get('n2999'), 3000);
  });

  it('refuses two items with one itemKey, and keeps names with ~ and / apart', async () => {
    const store = new MemoryStore();
    await assert.rejects(
      withRun({ store, runId: 'dup-keys' }, () =>
        map([1, 2, 3], square, { itemKey: () => 'same' }),
      ),
      { code: 'WEFT_VALIDATION', message: /two items have the key/ },
    );
    const outputs = await withRun({ store, runId: 'names' }, async () => [
      await map([1], square, { name: 'x' }),
      await map([2], square, { name: 'x~2' }),
      await map([3], square, { name: 'x' }),
      await map([4], square, { name: 'a/b' }),
    ]);
    assert.deepEqual(outputs, [[1], [4], [9], [16]]);
    const keys = (await store.listTasks('names')).map((r) => r.key);
    assert.equal(new Set(keys).size, 4, keys.join(', '));
    const resumed = await withRun({ store, runId: 'names' }, async () => [
      await map([1], square, { name: 'x' }),
      await map([2], square, { name: 'x~2' }),
      await map([3], square, { name: 'x' }),
      await map([4], square, { name: 'a/b' }),
    ]);
    assert.deepEqual(resumed, outputs);
  });

  it('marks the run failed when reading its completed tasks fails', async () => {
    const store = new MemoryStore();
    const broken = Object.create(store) as Store;
    broken.countCompleted = async () => {
      throw new Error('disk on fire');
    };
    await assert.rejects(
      withRun({ store: broken, runId: 'cannot-read' }, () => 1),
      /disk on fire/,
    );
    assert.equal((await store.getRun('cannot-read'))?.status, 'failed');
  });

  it('keeps failure events whose error is not an Error', async () => {
    const store = new MemoryStore();
    await withRun({ store, runId: 'odd-error' }, () =>
      map([1], throwsInstance, { onError: 'collect' }),
    );
    const kept = await store.listEvents('odd-error');
    assert.deepEqual(
      kept.map((event) => event.type),
      ['map:start', 'task:fail', 'map:end'],
    );
  });

  it('records tasks that finish after a sibling failed, so a resume does not run them again', async () => {
    const store = new MemoryStore();
    await withRun({ store, runId: 'late' }, async () => {
      await assert.rejects(map([0, 1, 2], gated), { code: 'WEFT_TASK_FAILED' });
      // The map gave up on items 1 and 2; they finish anyway while the run is open.
      openGate();
      await bothReturned;
    });
    const records = await store.listTasks('late');
    assert.deepEqual(records.map((r) => [r.key, r.status]).sort(), [
      ['late/map:run-test:gated/0', 'failed'],
      ['late/map:run-test:gated/1', 'completed'],
      ['late/map:run-test:gated/2', 'completed'],
    ]);
  });

  it('records a task whose output cannot be stored as failed', async () => {
    const store = new MemoryStore();
    await withRun({ store, runId: 'unstorable-record' }, () =>
      map([1, 2], returnsFunction, { onError: 'collect' }),
    );
    const records = await store.listTasks('unstorable-record');
    const second = records.find((r) => r.key.endsWith('/1'));
    assert.equal(second?.status, 'failed');
    assert.equal(second?.error?.code, 'WEFT_SERIALIZATION');
  });
});
