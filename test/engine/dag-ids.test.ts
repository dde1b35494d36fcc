/**
 * dag node ids that are numbers (LLMCompiler numbers its tasks): results keyed by the id
 * as given, `1` and `'1'` two different nodes (as Map keys are), messages that name
 * numeric ids plainly, keys that keep `1` and `'1'` apart, and resume of a numbered dag.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type DagId,
  type DagNode,
  type DagOutcome,
  DependencyFailedError,
  dag,
  EventBus,
  openStore,
  task,
  type WeftEvent,
  withRun,
} from 'weftjs';
import { streamOf } from '../fixtures/compiler-helpers.ts';
import { isValidation, records } from '../fixtures/map-dag-tasks.ts';

const echo = task('dagIds.echo', (x: unknown) => x);
const add = task('dagIds.add', ([a, b]: [number, number]) => a + b);
const fails = task('dagIds.fails', () => {
  throw new Error('broken on purpose');
});

/** How many times each input was run by `counted`, for the resume test. */
const runs = new Map<string, number>();
let failing = new Set<string>();
const counted = task('dagIds.counted', (name: string) => {
  runs.set(name, (runs.get(name) ?? 0) + 1);
  if (failing.has(name)) throw new Error(`${name} fails this time`);
  return `${name}!`;
});

describe('dag: numeric ids', () => {
  it('keys results by the number, and a dependency on 1 waits for node 1', async () => {
    const results = await dag([
      { id: 1, task: echo, input: 2 },
      { id: 2, task: echo, input: 3 },
      {
        id: 3,
        task: add,
        dependencies: [1, 2],
        input: (done) => [done.get(1), done.get(2)],
      },
    ]);
    // Typed by the ids given: a numbered dag's results are keyed by numbers.
    const typed: Map<number, unknown> = results;
    assert.deepEqual(
      [...typed],
      [
        [1, 2],
        [2, 3],
        [3, 5],
      ],
    );
    assert.equal(results.get(3), 5);
  });

  it("treats 1 and '1' as two nodes, each dependency meaning the one it names", async () => {
    const nodes: DagNode<never, unknown, DagId>[] = [
      { id: 1, task: echo, input: 'number one' },
      { id: '1', task: echo, input: 'string one' },
      { id: 'after number', task: echo, dependencies: [1], input: (done) => done.get(1) },
      { id: 'after string', task: echo, dependencies: ['1'], input: (done) => done.get('1') },
    ];
    const results = await dag(nodes);
    assert.equal(results.size, 4);
    assert.equal(results.get(1), 'number one');
    assert.equal(results.get('1'), 'string one');
    assert.equal(results.get('after number'), 'number one');
    assert.equal(results.get('after string'), 'string one');
  });

  it('streams outcomes with the ids as given, also from an async iterable', async () => {
    const seen: DagOutcome[] = [];
    const nodes: DagNode<never, unknown, number>[] = [
      // Listed before its dependency: it waits for node 1 to arrive.
      { id: 2, task: echo, dependencies: [1], input: (done) => `after ${done.get(1)}` },
      { id: 1, task: echo, input: 'first' },
    ];
    for await (const outcome of dag(streamOf(nodes))) seen.push(outcome);
    assert.deepEqual(seen, [
      { id: 1, ok: true, value: 'first' },
      { id: 2, ok: true, value: 'after first' },
    ]);
  });

  it('gives events the id as the item, and keys that keep 1, "1" and "~1" apart', async () => {
    const bus = new EventBus();
    const events = records(bus);
    const nodes: DagNode<never, unknown, DagId>[] = [
      { id: 1, task: echo, input: 'a' },
      { id: '1', task: echo, input: 'b' },
      { id: '~1', task: echo, input: 'c' },
      { id: 1.5, task: echo, input: 'd' },
    ];
    await dag(nodes, { events: bus, name: 'plan' });
    const ends = events.filter(
      (event): event is Extract<WeftEvent, { type: 'task:end' }> => event.type === 'task:end',
    );
    assert.deepEqual(
      ends.map((event) => [event.item, event.key]),
      [
        [1, 'plan/~1'],
        ['1', 'plan/1'],
        ['~1', 'plan/%7E1'],
        [1.5, 'plan/~1.5'],
      ],
    );
  });

  it('fails the dependents of a failed numbered node (collect)', async () => {
    const results = await dag(
      [
        { id: 1, task: fails },
        { id: 2, task: echo, dependencies: [1], input: 'never' },
        { id: 3, task: echo, input: 'independent' },
      ],
      { onError: 'collect' },
    );
    assert.equal((results.get(1) as Error).message, 'broken on purpose');
    const dependent = results.get(2);
    assert.ok(dependent instanceof DependencyFailedError);
    assert.equal(dependent.node, 2);
    assert.equal(dependent.rootCause, 1);
    assert.equal(results.get(3), 'independent');
  });
});

describe('dag: numeric ids in validation messages', () => {
  const cases: readonly (readonly [string, DagNode<never, unknown, DagId>[], RegExp])[] = [
    [
      'a duplicate numeric id, named plainly',
      [
        { id: 7, task: echo },
        { id: 7, task: echo },
      ],
      /two nodes have the id 7\. /,
    ],
    [
      'an unknown numeric dependency',
      [
        { id: 1, task: echo },
        { id: 2, task: echo, dependencies: [4] },
      ],
      /node 2 depends on 4, which is not a node/,
    ],
    [
      "a dependency on '1' where only 1 exists",
      [
        { id: 1, task: echo },
        { id: 2, task: echo, dependencies: ['1'] },
      ],
      /node 2 depends on '1', which is not a node/,
    ],
    [
      'a numeric self dependency',
      [{ id: 2, task: echo, dependencies: [2] }],
      /node 2 depends on itself/,
    ],
    [
      'a cycle of numbered nodes',
      [
        { id: 1, task: echo, dependencies: [2] },
        { id: 2, task: echo, dependencies: [1] },
      ],
      /cycle 1 → 2 → 1/,
    ],
    ['an id that is not a finite number', [{ id: Number.NaN, task: echo }], /node #0 needs/],
    ['an infinite id', [{ id: Number.POSITIVE_INFINITY, task: echo }], /finite number id/],
    [
      'an id that is neither a string nor a number',
      [{ id: true as unknown as number, task: echo }],
      /node #0 needs a non-empty string id or a finite number id/,
    ],
  ];
  for (const [label, nodes, message] of cases) {
    it(`rejects ${label}`, async () => {
      await assert.rejects(Promise.resolve(dag(nodes)), isValidation(message));
    });
  }

  it("does not take 1 and '1' for a duplicate", async () => {
    const nodes: DagNode<never, unknown, DagId>[] = [
      { id: 1, task: echo, input: 1 },
      { id: '1', task: echo, input: '1' },
    ];
    assert.equal((await dag(nodes)).size, 2);
  });

  it('names streamed numbered nodes that can never start plainly', async () => {
    const nodes: DagNode<never, unknown, number>[] = [
      { id: 1, task: echo, dependencies: [2] },
      { id: 2, task: echo, dependencies: [1] },
    ];
    await assert.rejects(
      Promise.resolve(dag(streamOf(nodes))),
      isValidation(/nodes 1, 2 can never start: cycle 1 → 2 → 1/),
    );
  });
});

describe('dag: numeric ids in a recorded run', () => {
  let folder: string | undefined;
  after(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('resumes a numbered dag on SQLite: same results, completed nodes not run again', async () => {
    folder = await mkdtemp(join(tmpdir(), 'weft-dag-ids-'));
    const url = `sqlite:${join(folder, 'weft.db')}`;
    const nodes = (): DagNode<never, unknown, DagId>[] => [
      { id: 1, task: counted, input: 'one' },
      { id: '1', task: counted, input: 'string one' },
      { id: 2, task: counted, input: 'two' },
      {
        id: 3,
        task: counted,
        dependencies: [1, '1', 2],
        input: (done) => `three after ${done.get(1)} ${done.get('1')} ${done.get(2)}`,
      },
    ];
    runs.clear();
    failing = new Set(['three after one! string one! two!']);
    const first = await openStore(url);
    try {
      await assert.rejects(
        withRun({ store: first, runId: 'numbered' }, () => dag(nodes(), { name: 'plan' })),
        /fails this time/,
      );
      const recorded = await first.listTasks('numbered');
      assert.deepEqual(recorded.map((record) => [record.key, record.status]).sort(), [
        ['numbered/plan/1', 'completed'],
        ['numbered/plan/~1', 'completed'],
        ['numbered/plan/~2', 'completed'],
        ['numbered/plan/~3', 'failed'],
      ]);
    } finally {
      await first.close();
    }

    failing = new Set();
    const expected = [
      [1, 'one!'],
      ['1', 'string one!'],
      [2, 'two!'],
      [3, 'three after one! string one! two!!'],
    ];
    const second = await openStore(url);
    try {
      const resumed = await withRun({ store: second, runId: 'numbered' }, () =>
        dag(nodes(), { name: 'plan' }),
      );
      assert.deepEqual([...resumed], expected);
      // Only the failed node ran again.
      assert.deepEqual(Object.fromEntries(runs), {
        one: 1,
        'string one': 1,
        two: 1,
        'three after one! string one! two!': 2,
      });
      // Once more: everything comes from the store, with the same results.
      const again = await withRun({ store: second, runId: 'numbered' }, () =>
        dag(nodes(), { name: 'plan' }),
      );
      assert.deepEqual([...again], expected);
      assert.equal(runs.get('three after one! string one! two!'), 2);
    } finally {
      await second.close();
    }
  });
});
