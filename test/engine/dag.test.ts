/** dag: results, scheduling of nodes as their dependencies finish, and keys. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asyncPool, type DagNode, dag, EventBus, inline, KeyScope, type WeftEvent } from 'weftjs';
import {
  ConcurrencyProbe,
  deferred,
  drainMicrotasks,
  type FlakyInput,
  flaky,
  guard,
  keyOfB,
  records,
  sleep,
  sleepThenReturn,
  square,
  sum,
} from '../fixtures/map-dag-tasks.ts';
import { executors, gatedNode } from './support.ts';

/** Position in `events` of the first event of `type` for node `id`. */
function indexOf(events: readonly WeftEvent[], type: WeftEvent['type'], id: string): number {
  const index = events.findIndex((e) => e.type === type && 'item' in e && e.item === id);
  assert.notEqual(index, -1, `no ${type} for node '${id}'`);
  return index;
}

/** The seed example: 1 and 2 sleep ~10 and ~20 ms and return their value; 3 sums them. */
function seedNodes(): DagNode[] {
  return [
    { id: '1', task: sleepThenReturn, input: { ms: 10, value: 1 } },
    { id: '2', task: sleepThenReturn, input: { ms: 20, value: 2 } },
    {
      id: '3',
      task: sum,
      dependencies: ['1', '2'],
      input: (done) => [done.get('1') as number, done.get('2') as number],
    },
  ];
}

describe('dag: results', () => {
  for (const [label, make] of executors) {
    it(`runs the seed example: 3 sums 1 and 2, and starts after both (${label})`, async () => {
      const bus = new EventBus();
      const seen = records(bus);
      const results = await dag(seedNodes(), { executor: make(), events: bus });
      assert.ok(results instanceof Map);
      assert.deepEqual(
        results,
        new Map([
          ['1', 1],
          ['2', 2],
          ['3', 3],
        ]),
      );
      const start3 = indexOf(seen, 'task:start', '3');
      assert.ok(start3 > indexOf(seen, 'task:end', '1'), '3 started after 1 finished');
      assert.ok(start3 > indexOf(seen, 'task:end', '2'), '3 started after 2 finished');
    });
  }

  it('runs independent nodes in parallel (asyncPool)', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    await dag(seedNodes(), { executor: asyncPool(), events: bus });
    assert.ok(
      indexOf(seen, 'task:start', '2') < indexOf(seen, 'task:end', '1'),
      '2 started before 1 finished',
    );
  });

  it('resolves an empty dag to an empty Map', async () => {
    const results = await dag([]);
    assert.ok(results instanceof Map);
    assert.equal(results.size, 0);
    const streamed = await dag((async function* () {})());
    assert.equal(streamed.size, 0);
  });

  it('accepts nodes listed before their dependencies, plain values and no input', async () => {
    const results = await dag([
      { id: 'total', task: sum, dependencies: ['x', 'y'], input: (done) => [...done.values()] },
      { id: 'x', task: square, input: 3 },
      { id: 'y', task: (input: undefined) => (input === undefined ? 1 : -1) },
    ]);
    assert.deepEqual(
      results,
      new Map([
        ['x', 9],
        ['y', 1],
        ['total', 10],
      ]),
    );
  });

  it('gives the same Map when awaited twice, running each node once', async () => {
    let runs = 0;
    const result = dag([
      {
        id: 'a',
        task: () => {
          runs++;
          return 'A';
        },
      },
    ]);
    const first = await result;
    assert.equal(await result, first);
    assert.equal(runs, 1);
  });

  it('retries a node with retries', async () => {
    const input: FlakyInput = { failTimes: 2, value: 'node', attempts: [] };
    const results = await dag([{ id: 'a', task: flaky, input }]);
    assert.equal(results.get('a'), 'node@3');
    assert.deepEqual(input.attempts, [1, 2, 3]);
  });
});

describe('dag: scheduling', () => {
  it('starts a node the moment its last dependency finishes', guard, async () => {
    const log: string[] = [];
    const a = gatedNode('a', log);
    const b = gatedNode('b', log);
    const cStarted = deferred();
    const nodes: DagNode[] = [
      a.node,
      b.node,
      {
        id: 'c',
        dependencies: ['a'],
        task: () => {
          log.push('start:c');
          cStarted.resolve();
          return 'C';
        },
      },
      {
        id: 'd',
        dependencies: ['a', 'b'],
        task: () => {
          log.push('start:d');
          return 'D';
        },
      },
    ];
    const all = dag(nodes, { executor: asyncPool() }).then((results) => results);
    await Promise.all([a.started.promise, b.started.promise]);
    a.gate.resolve();
    await cStarted.promise;
    assert.deepEqual(log, ['start:a', 'start:b', 'end:a', 'start:c'], 'c ran while b still runs');
    await drainMicrotasks();
    assert.ok(!log.includes('start:d'), 'd waits for b');
    b.gate.resolve();
    const results = await all;
    assert.deepEqual(log, ['start:a', 'start:b', 'end:a', 'start:c', 'end:b', 'start:d']);
    assert.deepEqual([...results.keys()].sort(), ['a', 'b', 'c', 'd']);
  });

  it('never runs more than `concurrency` nodes at once, and reaches it', async () => {
    const probe = new ConcurrencyProbe();
    const work = (x: number) => probe.track(() => sleep(1).then(() => x));
    const nodes: DagNode[] = [
      ...Array.from({ length: 8 }, (_, i) => ({ id: `n${i}`, task: work, input: i })),
      ...Array.from({ length: 4 }, (_, i) => ({
        id: `m${i}`,
        task: work,
        dependencies: [`n${i}`, `n${i + 4}`],
        input: (done: ReadonlyMap<string, unknown>) => (done.get(`n${i}`) as number) * 10,
      })),
    ];
    const results = await dag(nodes, { executor: asyncPool(), concurrency: 3 });
    assert.equal(results.size, 12);
    assert.equal(results.get('m2'), 20);
    assert.equal(probe.started, 12);
    assert.equal(probe.max, 3);
  });

  it('counts nodes preparing an async input against the concurrency', async () => {
    const probe = new ConcurrencyProbe();
    const nodes: DagNode[] = Array.from({ length: 6 }, (_, i) => ({
      id: `n${i}`,
      task: (x: number) => probe.track(() => sleep(1).then(() => x)),
      input: () => probe.track(() => sleep(1).then(() => i)),
    }));
    const results = await dag(nodes, { executor: asyncPool(), concurrency: 2 });
    assert.equal(results.get('n5'), 5);
    assert.equal(probe.max, 2);
  });

  it('runs one node at a time on inline', async () => {
    const probe = new ConcurrencyProbe();
    const work = () => probe.track(() => sleep(1));
    await dag(
      [
        { id: 'a', task: work },
        { id: 'b', task: work },
        { id: 'c', task: work, dependencies: ['a'] },
      ],
      { executor: inline(), concurrency: 4 },
    );
    assert.equal(probe.max, 1);
    assert.equal(probe.started, 3);
  });

  it('defaults to the executor concurrency', async () => {
    const probe = new ConcurrencyProbe();
    const work = () => probe.track(() => sleep(1));
    await dag(
      Array.from({ length: 6 }, (_, i) => ({ id: String(i), task: work })),
      { executor: asyncPool({ concurrency: 2 }) },
    );
    assert.equal(probe.max, 2);
  });
});

describe('dag: keys', () => {
  it('keys nodes <scope>/<name>/<id>, with ~2 for a second dag of that name', async () => {
    const scope = new KeyScope('run-1');
    const first = await dag([{ id: 'compile', task: keyOfB }], { scope });
    assert.equal(first.get('compile'), 'run-1/dag/compile');
    const named = await dag([{ id: 'compile', task: keyOfB }], { scope, name: 'build' });
    assert.equal(named.get('compile'), 'run-1/build/compile');
    const again = await dag([{ id: 'compile', task: keyOfB }], { scope, name: 'build' });
    assert.equal(again.get('compile'), 'run-1/build~2/compile');
  });
});
