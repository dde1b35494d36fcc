import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asyncPool,
  type DagNode,
  type DagOutcome,
  DependencyFailedError,
  dag,
  EventBus,
  type Executor,
  inline,
  KeyScope,
  type TaskContext,
  TaskFailedError,
  type WeftEvent,
} from 'weftjs';
import {
  ConcurrencyProbe,
  call,
  deferred,
  drainMicrotasks,
  type FlakyInput,
  failsOnThree,
  flaky,
  guard,
  isValidation,
  keyOfB,
  records,
  sleep,
  sleepThenReturn,
  square,
  sum,
  waitForAbort,
} from '../fixtures/map-dag-tasks.ts';

/** Position in `events` of the first event of `type` for node `id`. */
function indexOf(events: readonly WeftEvent[], type: WeftEvent['type'], id: string): number {
  const index = events.findIndex((e) => e.type === type && 'item' in e && e.item === id);
  assert.notEqual(index, -1, `no ${type} for node '${id}'`);
  return index;
}

/** Reads every outcome of an iterated dag. */
async function outcomes(nodes: Parameters<typeof dag>[0], options: Parameters<typeof dag>[1]) {
  const seen: DagOutcome[] = [];
  for await (const outcome of dag(nodes, options)) seen.push(outcome);
  return seen;
}

/**
 * A node task controlled from the test: it reports its start, waits for its gate, and
 * returns `value`. `log` records `start:<id>` and `end:<id>` in the order they happen.
 */
function gatedNode(id: string, log: string[], dependencies: string[] = []) {
  const started = deferred();
  const gate = deferred();
  const node: DagNode = {
    id,
    dependencies,
    task: async () => {
      log.push(`start:${id}`);
      started.resolve();
      await gate.promise;
      log.push(`end:${id}`);
      return id.toUpperCase();
    },
  };
  return { node, started, gate };
}

const executors: readonly (readonly [string, () => Executor | undefined])[] = [
  ['asyncPool', () => asyncPool()],
  ['inline', () => inline()],
  ['the default executor', () => undefined],
];

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

describe('dag: validation before anything runs', () => {
  const cases: readonly (readonly [string, (task: DagNode['task']) => DagNode[], RegExp])[] = [
    [
      'duplicate ids',
      (task) => [
        { id: 'a', task },
        { id: 'a', task },
      ],
      /two nodes have the id 'a'/,
    ],
    [
      'an unknown dependency',
      (task) => [
        { id: 'a', task },
        { id: 'b', task, dependencies: ['nope'] },
      ],
      /node 'b' depends on 'nope', which is not a node/,
    ],
    [
      'a self dependency',
      (task) => [
        { id: 'a', task },
        { id: 'b', task, dependencies: ['b'] },
      ],
      /node 'b' depends on itself/,
    ],
    [
      'a cycle of two nodes',
      (task) => [
        { id: 'a', task, dependencies: ['b'] },
        { id: 'b', task, dependencies: ['a'] },
      ],
      /cycle a → b → a/,
    ],
    [
      'a longer cycle behind a runnable node',
      (task) => [
        { id: 'x', task },
        { id: 'a', task, dependencies: ['x', 'c'] },
        { id: 'b', task, dependencies: ['a'] },
        { id: 'c', task, dependencies: ['b'] },
      ],
      /cycle a → c → b → a/,
    ],
    ['a node that is not an object', (task) => [{ id: 'a', task }, 42 as unknown as DagNode], /#1/],
    ['an empty id', (task) => [{ id: '', task }], /non-empty string id/],
    [
      'dependencies that are not an array',
      (task) => [{ id: 'a', task, dependencies: 'b' as unknown as string[] }],
      /not an array/,
    ],
  ];

  for (const [label, build, message] of cases) {
    it(`rejects ${label} with a ValidationError`, async () => {
      let runs = 0;
      const task = () => {
        runs++;
        return 1;
      };
      await assert.rejects(Promise.resolve(dag(build(task))), isValidation(message));
      assert.throws(() => dag(build(task))[Symbol.asyncIterator](), isValidation(message));
      assert.equal(runs, 0, 'no node ran');
    });
  }

  it('rejects nodes that are not iterable, and an unknown onError policy', async () => {
    await assert.rejects(
      Promise.resolve(dag(42 as unknown as DagNode[])),
      isValidation(/nodes must be/),
    );
    let runs = 0;
    await assert.rejects(
      Promise.resolve(
        dag(
          [
            {
              id: 'a',
              task: () => {
                runs++;
              },
            },
          ],
          { onError: 'bogus' as 'throw' },
        ),
      ),
      isValidation(/onError/),
    );
    assert.equal(runs, 0);
  });
});

describe("dag: onError 'throw' (the default)", () => {
  it(
    'rejects with a TaskFailedError naming the failed node, and aborts the others',
    guard,
    async () => {
      const cAborted = deferred<unknown>();
      let bRan = false;
      const scope = new KeyScope('throw-test');
      const error = await dag(
        [
          {
            id: 'c',
            task: (_: unknown, ctx: TaskContext) =>
              waitForAbort(ctx.signal).catch((reason: unknown) => {
                cAborted.resolve(reason);
                throw reason;
              }),
          },
          { id: 'a', task: failsOnThree, input: 3 },
          {
            id: 'b',
            task: () => {
              bRan = true;
            },
            dependencies: ['a'],
          },
        ],
        { executor: asyncPool(), scope },
      ).then(
        () => assert.fail('the dag should reject'),
        (reason: unknown) => reason,
      );
      assert.ok(error instanceof TaskFailedError);
      assert.equal(error.code, 'WEFT_TASK_FAILED');
      assert.equal(error.task, 'mapDag.failsOnThree');
      assert.equal(error.key, 'throw-test/dag/a');
      assert.equal((error.cause as Error).message, 'bad item 3');
      assert.equal(await cAborted.promise, error, 'running node aborted with the failure');
      assert.equal(bRan, false);
    },
  );

  it('throws from an iterated dag after the outcomes before the failure', async () => {
    const seen: DagOutcome[] = [];
    await assert.rejects(
      (async () => {
        for await (const outcome of dag(
          [
            { id: 'ok', task: square, input: 2 },
            { id: 'bad', task: failsOnThree, input: 3, dependencies: ['ok'] },
          ],
          { executor: inline() },
        ))
          seen.push(outcome);
      })(),
      (error: unknown) => error instanceof TaskFailedError && error.task === 'mapDag.failsOnThree',
    );
    assert.deepEqual(seen, [{ id: 'ok', ok: true, value: 4 }]);
  });
});

describe("dag: onError 'collect'", () => {
  it(
    'fails dependents transitively with DependencyFailedError; independent nodes succeed',
    guard,
    async () => {
      const ran: string[] = [];
      const track =
        (id: string) =>
        (x: unknown): unknown => {
          ran.push(id);
          return x;
        };
      const results = await dag(
        [
          { id: 'a', task: failsOnThree, input: 3 },
          { id: 'b', task: track('b'), dependencies: ['a'] },
          { id: 'c', task: track('c'), dependencies: ['b'] },
          { id: 'd', task: slowDoubleNode, input: 5 },
          { id: 'e', task: track('e'), dependencies: ['d', 'c'] },
          { id: 'f', task: track('f'), dependencies: ['d'], input: (done) => done.get('d') },
        ],
        { onError: 'collect', executor: asyncPool() },
      );
      const a = results.get('a');
      assert.ok(a instanceof Error);
      assert.equal(a.message, 'bad item 3');
      assert.equal(results.get('d'), 10);
      assert.equal(results.get('f'), 10);
      assert.deepEqual(ran, ['f'], 'dependents of the failure never ran');
      const expectations: [string, RegExp][] = [
        ['b', /^Node 'b' did not run: its dependency 'a' failed: bad item 3$/],
        ['c', /^Node 'c' did not run: its dependency 'a' failed \(via 'b'\): bad item 3$/],
        ['e', /^Node 'e' did not run: its dependency 'a' failed \(via 'c'\): bad item 3$/],
      ];
      for (const [id, message] of expectations) {
        const error = results.get(id);
        assert.ok(error instanceof DependencyFailedError, `${id} got ${String(error)}`);
        assert.equal(error.code, 'WEFT_DEPENDENCY_FAILED');
        assert.equal(error.node, id);
        assert.equal(error.rootCause, 'a');
        assert.equal(error.cause, a);
        assert.match(error.message, message);
      }
    },
  );

  it('fails a dependent at once, without waiting for its other dependencies', guard, async () => {
    const log: string[] = [];
    const slow = gatedNode('slow', log);
    const iterator = dag(
      [
        slow.node,
        { id: 'bad', task: failsOnThree, input: 3 },
        { id: 'after', task: () => 'never', dependencies: ['slow', 'bad'] },
      ],
      { onError: 'collect', executor: asyncPool() },
    )[Symbol.asyncIterator]();
    const first = await iterator.next();
    const second = await iterator.next();
    assert.equal(slow.gate.settled, false, 'slow is still running');
    assert.deepEqual(
      [first.value?.id, first.value?.ok, second.value?.id, second.value?.ok],
      ['bad', false, 'after', false],
    );
    slow.gate.resolve();
    assert.deepEqual((await iterator.next()).value, { id: 'slow', ok: true, value: 'SLOW' });
    assert.equal((await iterator.next()).done, true);
  });

  it('reports completed and failed counts in dag:end', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    await dag(
      [
        { id: 'ok', task: square, input: 2 },
        { id: 'bad', task: failsOnThree, input: 3 },
        { id: 'dependent', task: square, input: 1, dependencies: ['bad'] },
      ],
      { onError: 'collect', events: bus, scope: new KeyScope('counts') },
    );
    const start = seen[0]!;
    assert.ok(start.type === 'dag:start');
    assert.equal(start.total, 3);
    assert.equal(start.scope, 'counts/dag');
    const end = seen.at(-1)!;
    assert.ok(end.type === 'dag:end');
    assert.equal(end.completed, 1);
    assert.equal(end.failed, 2);
    assert.equal(end.error, undefined);
  });

  it('counts a node whose input function threw as failed in dag:end', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    await dag(
      [
        {
          id: 'bad-input',
          task: square,
          input: () => {
            throw new Error('no input');
          },
        },
        { id: 'bad-task', task: failsOnThree, input: 3 },
      ],
      { onError: 'collect', events: bus },
    );
    const end = seen.at(-1)!;
    assert.ok(end.type === 'dag:end');
    assert.equal(end.completed, 0);
    assert.equal(end.failed, 2);
  });
});

describe('dag: nodes from an async iterable', () => {
  it('runs nodes arriving over time, with awaits between them', guard, async () => {
    async function* plan(): AsyncGenerator<DagNode> {
      yield { id: '1', task: sleepThenReturn, input: { ms: 2, value: 1 } };
      await sleep(1);
      yield { id: '2', task: sleepThenReturn, input: { ms: 1, value: 2 } };
      await sleep(3);
      yield {
        id: '3',
        task: sum,
        dependencies: ['1', '2'],
        input: (done) => [done.get('1') as number, done.get('2') as number],
      };
      await sleep(1);
      yield { id: '4', task: square, dependencies: ['3'], input: (done) => done.get('3') };
    }
    assert.deepEqual(
      await dag(plan()),
      new Map([
        ['1', 1],
        ['2', 2],
        ['3', 3],
        ['4', 9],
      ]),
    );
  });

  it('starts a node before the input has finished', guard, async () => {
    const log: string[] = [];
    const first = gatedNode('first', log);
    async function* plan(): AsyncGenerator<DagNode> {
      yield first.node;
      // The plan goes on only once the first node runs: it hangs if nodes wait for the end.
      await first.started.promise;
      log.push('planned second');
      first.gate.resolve();
      yield { id: 'second', task: square, input: 4, dependencies: ['first'] };
    }
    const results = await dag(plan(), { executor: asyncPool() });
    assert.deepEqual(log, ['start:first', 'planned second', 'end:first']);
    assert.equal(results.get('second'), 16);
  });

  it('makes a node wait for a dependency that arrives later', guard, async () => {
    const log: string[] = [];
    const askedForMore = deferred();
    const release = deferred();
    async function* plan(): AsyncGenerator<DagNode> {
      yield {
        id: 'late-user',
        task: (x: number) => {
          log.push('start:late-user');
          return x + 1;
        },
        dependencies: ['dep'],
        input: (done) => done.get('dep') as number,
      };
      askedForMore.resolve();
      await release.promise;
      yield {
        id: 'dep',
        task: (x: number) => {
          log.push('start:dep');
          return x;
        },
        input: 41,
      };
    }
    const all = dag(plan(), { executor: asyncPool() }).then((results) => results);
    await askedForMore.promise;
    await drainMicrotasks();
    assert.deepEqual(log, [], 'late-user waits for its dependency to arrive');
    release.resolve();
    const results = await all;
    assert.deepEqual(log, ['start:dep', 'start:late-user']);
    assert.equal(results.get('late-user'), 42);
  });

  it(
    'fails a streamed node at once when its dependency already failed (collect)',
    guard,
    async () => {
      const bus = new EventBus();
      const badFailed = deferred();
      bus.on('task:fail', () => badFailed.resolve());
      async function* plan(): AsyncGenerator<DagNode> {
        yield { id: 'bad', task: failsOnThree, input: 3 };
        await badFailed.promise;
        yield { id: 'child', task: square, input: 2, dependencies: ['bad'] };
      }
      const results = await dag(plan(), { onError: 'collect', events: bus });
      const child = results.get('child');
      assert.ok(child instanceof DependencyFailedError);
      assert.equal(child.rootCause, 'bad');
    },
  );

  it('rejects a dependency that never arrived, once the input ends', guard, async () => {
    async function* plan(): AsyncGenerator<DagNode> {
      yield { id: 'a', task: square, input: 2 };
      await sleep(1);
      yield { id: 'b', task: square, input: 3, dependencies: ['zzz'] };
    }
    await assert.rejects(
      Promise.resolve(dag(plan())),
      isValidation(/node 'b' depends on 'zzz', which is not a node/),
    );
  });

  it('rejects a cycle among streamed nodes instead of hanging', guard, async () => {
    let runs = 0;
    const task = () => {
      runs++;
      return 1;
    };
    async function* plan(): AsyncGenerator<DagNode> {
      yield { id: 'free', task };
      yield { id: 'a', task, dependencies: ['b'] };
      await sleep(1);
      yield { id: 'b', task, dependencies: ['a'] };
    }
    await assert.rejects(Promise.resolve(dag(plan())), isValidation(/a → b → a/));
    assert.equal(runs, 1, 'only the free node ran');
  });

  it('rejects a streamed duplicate id and a streamed self dependency', guard, async () => {
    async function* duplicate(): AsyncGenerator<DagNode> {
      yield { id: 'a', task: square, input: 1 };
      yield { id: 'a', task: square, input: 2 };
    }
    await assert.rejects(Promise.resolve(dag(duplicate())), isValidation(/two nodes have the id/));
    async function* selfish(): AsyncGenerator<DagNode> {
      yield { id: 'a', task: square, input: 1, dependencies: ['a'] };
    }
    await assert.rejects(Promise.resolve(dag(selfish())), isValidation(/depends on itself/));
  });

  it('rejects with the error of a failing input', guard, async () => {
    const boom = new Error('planner crashed');
    async function* plan(): AsyncGenerator<DagNode> {
      yield { id: 'a', task: square, input: 1 };
      throw boom;
    }
    await assert.rejects(Promise.resolve(dag(plan())), (error: unknown) => error === boom);
  });
});

describe('dag: iterating', () => {
  it('yields { id, ok, value | error } in completion order', guard, async () => {
    const log: string[] = [];
    const a = gatedNode('a', log);
    const b = gatedNode('b', log);
    const iterator = dag(
      [
        a.node,
        b.node,
        { id: 'bad', task: failsOnThree, input: 3 },
        { id: 'after-a', task: square, input: 5, dependencies: ['a'] },
      ],
      { onError: 'collect', executor: asyncPool() },
    )[Symbol.asyncIterator]();
    const seen: DagOutcome[] = [];
    const next = async () => {
      const result = await iterator.next();
      assert.equal(result.done, false);
      seen.push(result.value as DagOutcome);
    };
    await next(); // 'bad' fails at once
    b.gate.resolve();
    await next();
    a.gate.resolve();
    await next();
    await next();
    assert.deepEqual((await iterator.next()).done, true);
    assert.deepEqual(
      seen.map((o) => [o.id, o.ok]),
      [
        ['bad', false],
        ['b', true],
        ['a', true],
        ['after-a', true],
      ],
    );
    const [bad, bOutcome, , afterA] = seen;
    assert.ok(bad && !bad.ok && bad.error.message === 'bad item 3');
    assert.deepEqual(bOutcome, { id: 'b', ok: true, value: 'B' });
    assert.deepEqual(afterA, { id: 'after-a', ok: true, value: 25 });
  });

  it('yields a DependencyFailedError outcome for a failed dependent', async () => {
    const seen = await outcomes(
      [
        { id: 'bad', task: failsOnThree, input: 3 },
        { id: 'child', task: square, input: 1, dependencies: ['bad'] },
      ],
      { onError: 'collect', executor: inline() },
    );
    assert.deepEqual(
      seen.map((o) => o.id),
      ['bad', 'child'],
    );
    const child = seen[1]!;
    assert.ok(!child.ok && child.error instanceof DependencyFailedError);
  });

  it('stops the dag and aborts running nodes when the loop breaks', guard, async () => {
    const log: string[] = [];
    const gated = gatedNode('gated', log);
    const aborted = deferred<unknown>();
    let laterRan = false;
    const seen: string[] = [];
    for await (const outcome of dag(
      [
        { id: 'fast', task: square, input: 3 },
        gated.node,
        {
          id: 'hangs',
          task: (_: unknown, ctx: TaskContext) =>
            waitForAbort(ctx.signal).catch((reason: unknown) => {
              aborted.resolve(reason);
              throw reason;
            }),
        },
        {
          id: 'later',
          task: () => {
            laterRan = true;
          },
          dependencies: ['gated'],
        },
      ],
      { executor: asyncPool() },
    )) {
      seen.push(outcome.id);
      break;
    }
    assert.deepEqual(seen, ['fast']);
    assert.equal(((await aborted.promise) as Error).name, 'AbortError');
    // The dependency of 'later' finishes only after the loop stopped: 'later' must not start.
    gated.gate.resolve();
    await drainMicrotasks();
    assert.deepEqual(log, ['start:gated', 'end:gated']);
    assert.equal(laterRan, false);
  });

  it('cannot be iterated after being awaited', async () => {
    const result = dag([{ id: 'a', task: square, input: 2 }]);
    await result;
    assert.throws(() => result[Symbol.asyncIterator](), isValidation(/already being consumed/));
  });
});

describe('dag: input functions', () => {
  it('awaits an input function that returns a promise', async () => {
    const results = await dag([
      { id: 'a', task: square, input: 3 },
      {
        id: 'b',
        task: square,
        dependencies: ['a'],
        input: async (done) => {
          await sleep(1);
          return (done.get('a') as number) + 1;
        },
      },
    ]);
    assert.equal(results.get('b'), 100);
  });

  it('passes a function as input when an input function returns it', async () => {
    const results = await dag([
      { id: 'a', task: call, input: () => (ctx: TaskContext) => ctx.key.endsWith('/a') },
    ]);
    assert.equal(results.get('a'), true);
  });

  it('fails the node when its input function throws (throw)', async () => {
    let ran = false;
    const boom = new Error('cannot build input');
    const error = await dag([
      {
        id: 'a',
        task: () => {
          ran = true;
        },
        input: () => {
          throw boom;
        },
      },
    ]).then(
      () => assert.fail('the dag should reject'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof TaskFailedError);
    assert.equal(error.cause, boom);
    assert.match(error.key, /\/a$/);
    assert.equal(ran, false);
  });

  it('fails the node and its dependents when its input function throws or rejects (collect)', async () => {
    const boom = new Error('sync input failure');
    const late = new Error('async input failure');
    const results = await dag(
      [
        {
          id: 'sync',
          task: square,
          input: () => {
            throw boom;
          },
        },
        {
          id: 'async',
          task: square,
          input: async () => {
            await sleep(1);
            throw late;
          },
        },
        { id: 'child', task: square, input: 1, dependencies: ['async'] },
        { id: 'fine', task: square, input: 4 },
      ],
      { onError: 'collect' },
    );
    assert.equal(results.get('sync'), boom);
    assert.equal(results.get('async'), late);
    const child = results.get('child');
    assert.ok(child instanceof DependencyFailedError);
    assert.equal(child.rootCause, 'async');
    assert.equal(results.get('fine'), 16);
  });
});

describe('dag: AbortSignal', () => {
  it('aborting mid-way rejects with signal.reason and aborts running nodes', guard, async () => {
    const controller = new AbortController();
    const started = deferred();
    const aborted = deferred<unknown>();
    let laterRan = false;
    const all = dag(
      [
        {
          id: 'running',
          task: (_: unknown, ctx: TaskContext) => {
            started.resolve();
            return waitForAbort(ctx.signal).catch((reason: unknown) => {
              aborted.resolve(reason);
              throw reason;
            });
          },
        },
        {
          id: 'later',
          task: () => {
            laterRan = true;
          },
          dependencies: ['running'],
        },
      ],
      { signal: controller.signal },
    ).then(
      () => assert.fail('the dag should reject'),
      (reason: unknown) => reason,
    );
    await started.promise;
    const reason = new Error('cancelled by the test');
    controller.abort(reason);
    assert.equal(await all, reason);
    assert.equal(await aborted.promise, reason);
    assert.equal(laterRan, false);
  });

  it(
    'an already-aborted signal rejects with its reason without running anything',
    guard,
    async () => {
      const controller = new AbortController();
      const reason = new Error('aborted before the dag');
      controller.abort(reason);
      let runs = 0;
      await assert.rejects(
        Promise.resolve(
          dag(
            [
              {
                id: 'a',
                task: () => {
                  runs++;
                },
              },
            ],
            { signal: controller.signal },
          ),
        ),
        (error: unknown) => error === reason,
      );
      assert.equal(runs, 0);
    },
  );
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

/** A plain function as a node's task: doubles after a tick. */
async function slowDoubleNode(x: number): Promise<number> {
  await sleep(1);
  return x * 2;
}
