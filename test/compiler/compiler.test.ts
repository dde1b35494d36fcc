import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  asyncPool,
  DependencyFailedError,
  EventBus,
  inline,
  isWeftError,
  TaskFailedError,
  type WeftEvent,
} from 'weftjs';
import {
  ArgsSyntaxError,
  type CompilerTask,
  isFailure,
  type JoinerInput,
  LLMCompiler,
  type PlanDiagnostic,
  PlanError,
  type PlannerInput,
  PlanParseError,
  parseArgs,
  parseDecision,
  parsePlan,
  ReplanLimitError,
  references,
  renumber,
  resolve,
  scheduleTasks,
  type ToolArgs,
  type ToolFn,
} from 'weftjs/compiler';
import {
  collect,
  cut,
  deferred,
  Feed,
  nextTurn,
  streamOf,
  trackedSource,
} from '../fixtures/compiler-helpers.ts';

/** Deadlock tests fail after this long instead of hanging the run. */
const guard = { timeout: 10_000 };

/** Named arguments of a tool call. */
function named<T>(args: ToolArgs): T {
  assert.ok(!Array.isArray(args), 'expected named arguments');
  return args as T;
}

/** Positional arguments of a tool call. */
function positional<T extends unknown[]>(args: ToolArgs): T {
  assert.ok(Array.isArray(args), 'expected positional arguments');
  return args as unknown as T;
}

/** Tools that count their calls; `echo` returns its arguments, `value` its `v`. */
function countingTools() {
  const calls: string[] = [];
  const tools: Record<string, ToolFn> = {
    echo: (args) => {
      calls.push('echo');
      return args;
    },
    value: (args) => {
      calls.push('value');
      return named<{ v: unknown }>(args).v;
    },
  };
  return { calls, tools };
}

/** Asserts that `promise` rejects with a PlanError about task `idx` whose message matches every pattern. */
async function rejectsWithPlanError(
  promise: Promise<unknown>,
  idx: number | undefined,
  ...patterns: RegExp[]
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PlanError, `expected a PlanError, got ${String(error)}`);
    assert.equal(error.code, 'WEFT_PLAN');
    assert.equal(error.idx, idx);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

describe('compiler: the seed example', () => {
  for (const [label, make] of [
    ['asyncPool', () => asyncPool()],
    ['the default executor', () => undefined],
  ] as const) {
    it(`runs 1 and 2 together and 3 in the turn the later one ends (${label})`, async () => {
      const bus = new EventBus();
      const seen: string[] = [];
      bus.on((event: WeftEvent) => {
        if (event.type !== 'task:start' && event.type !== 'task:end') return;
        seen.push(`${event.type}:${event.item}`);
        // The first callback of the next turn: anything logged before it ran in this turn.
        if (event.type === 'task:end') setImmediate(() => seen.push(`next-turn:${event.item}`));
      });
      const sleep_next: ToolFn = async (args) => {
        const { t } = named<{ t: number }>(args);
        await sleep(t * 20);
        return t;
      };
      const sleep_total: ToolFn = (args) => {
        const { time1 = 0, time2 = 0 } = named<{ time1?: number; time2?: number }>(args);
        return time1 + time2;
      };
      const observations = await scheduleTasks(
        [
          { idx: 1, tool: 'sleep_next', args: { t: 1 }, dependencies: [] },
          { idx: 2, tool: 'sleep_next', args: { t: 2 }, dependencies: [] },
          {
            idx: 3,
            tool: 'sleep_total',
            args: { time1: '$1', time2: '$2' },
            dependencies: [1, 2],
          },
        ],
        { tools: { sleep_next, sleep_total }, executor: make(), events: bus },
      );
      await nextTurn();
      assert.deepEqual(
        observations,
        new Map([
          [1, 1],
          [2, 2],
          [3, 3],
        ]),
      );
      const at = (entry: string) => {
        const index = seen.indexOf(entry);
        assert.notEqual(index, -1, `${entry} missing from ${seen.join(', ')}`);
        return index;
      };
      assert.ok(at('task:start:2') < at('task:end:1'), '2 started before 1 ended (parallel)');
      const start3 = at('task:start:3');
      assert.ok(start3 > at('task:end:1'), '3 started after 1 ended');
      assert.ok(start3 > at('task:end:2'), '3 started after 2 ended');
      const later = at('task:end:1') > at('task:end:2') ? '1' : '2';
      assert.ok(
        start3 < at(`next-turn:${later}`),
        `3 started in the turn task ${later} ended, not after polling: ${seen.join(', ')}`,
      );
    });
  }
});

describe('compiler: placeholders', () => {
  it("'$1' keeps the observation's type: number, object, array", async () => {
    const { tools } = countingTools();
    const observations = await scheduleTasks(
      [
        { idx: 1, tool: 'value', args: { v: 7 } },
        { idx: 2, tool: 'value', args: { v: { a: 1, b: [true] } } },
        { idx: 3, tool: 'value', args: { v: [1, 'two', null] } },
        { idx: 4, tool: 'echo', args: { n: '$1', o: '$2', a: '${3}' } },
        { idx: 5, tool: 'echo', args: ['$1', '${2}'] },
      ],
      { tools },
    );
    assert.deepEqual(observations.get(4), { n: 7, o: { a: 1, b: [true] }, a: [1, 'two', null] });
    assert.deepEqual(observations.get(5), [7, { a: 1, b: [true] }]);
  });

  it("replaces placeholders inside text by their text: '${1}+${2}' → '1+2'", async () => {
    const { tools } = countingTools();
    const observations = await scheduleTasks(
      [
        { idx: 1, tool: 'value', args: { v: 1 } },
        { idx: 2, tool: 'value', args: { v: 2 } },
        { idx: 3, tool: 'echo', args: { s: '${1}+${2}', t: '$1+$2=3', u: 'cost: $1 USD' } },
      ],
      { tools },
    );
    assert.deepEqual(observations.get(3), { s: '1+2', t: '1+2=3', u: 'cost: 1 USD' });
  });

  it("reads '$10' as task 10, never as task 1 followed by '0'", async () => {
    const { tools } = countingTools();
    const plan: CompilerTask[] = Array.from({ length: 10 }, (_, i) => ({
      idx: i + 1,
      tool: 'value',
      args: { v: `v${i + 1}` },
    }));
    plan.push({
      idx: 11,
      tool: 'echo',
      args: { whole: '$10', text: '<$10>', braced: '${10}', one: '${1}0', both: '$1 $10' },
    });
    const observations = await scheduleTasks(plan, { tools });
    assert.deepEqual(observations.get(11), {
      whole: 'v10',
      text: '<v10>',
      braced: 'v10',
      one: 'v10',
      both: 'v1 v10',
    });
    assert.deepEqual(references(plan[10]!.args), new Set([10, 1]));
  });

  it('resolves placeholders nested in objects and arrays at any depth', async () => {
    const { tools } = countingTools();
    const observations = await scheduleTasks(
      [
        { idx: 1, tool: 'value', args: { v: 'a' } },
        { idx: 2, tool: 'value', args: { v: { deep: true } } },
        {
          idx: 3,
          tool: 'echo',
          args: { x: [{ y: { z: [[['$1', { w: '${2}' }]], 'pre-$1-post'] } }], keep: 5 },
        },
      ],
      { tools },
    );
    assert.deepEqual(observations.get(3), {
      x: [{ y: { z: [[['a', { w: { deep: true } }]], 'pre-a-post'] } }],
      keep: 5,
    });
  });

  it('writes objects and arrays inside text as JSON', async () => {
    const { tools } = countingTools();
    const observations = await scheduleTasks(
      [
        { idx: 1, tool: 'value', args: { v: { a: 1, b: [2, 'x'] } } },
        { idx: 2, tool: 'value', args: { v: [1, null] } },
        { idx: 3, tool: 'echo', args: { s: 'got $1 and ${2}.' } },
      ],
      { tools },
    );
    assert.deepEqual(observations.get(3), { s: 'got {"a":1,"b":[2,"x"]} and [1,null].' });
  });

  it('waits for tasks named only by placeholders (no declared dependencies)', guard, async () => {
    const log: string[] = [];
    const started1 = deferred();
    const gate1 = deferred();
    const tools: Record<string, ToolFn> = {
      slow: async () => {
        log.push('start:1');
        started1.resolve();
        await gate1.promise;
        log.push('end:1');
        return 10;
      },
      plus: (args) => {
        log.push('start:2');
        const [{ x }] = positional<[{ x: [number] }]>(args);
        return x[0] + 1;
      },
    };
    const running = scheduleTasks(
      [
        { idx: 1, tool: 'slow' },
        { idx: 2, tool: 'plus', args: [{ x: ['${1}'] }] },
      ],
      { tools, executor: asyncPool() },
    );
    await started1.promise;
    await nextTurn();
    assert.deepEqual(log, ['start:1'], 'task 2 waits for task 1');
    gate1.resolve();
    const observations = await running;
    assert.deepEqual(log, ['start:1', 'end:1', 'start:2']);
    assert.equal(observations.get(2), 11);
  });

  it("rejects malformed placeholders '${x}' and '${1' naming the task, before any tool runs", async () => {
    for (const bad of ['${x}', '${1', 'a ${} b', '${1x}']) {
      const { calls, tools } = countingTools();
      await rejectsWithPlanError(
        scheduleTasks(
          [
            { idx: 1, tool: 'value', args: { v: 1 } },
            { idx: 2, tool: 'echo', args: { nested: [{ s: bad }] } },
          ],
          { tools },
        ),
        2,
        /Task 2/,
        /malformed placeholder/,
      );
      assert.equal(calls.length, 0, `no tool ran for ${bad}`);
    }
  });

  it('rejects references to a missing task, to itself or to a later one, before any tool runs', async () => {
    const cases: { plan: CompilerTask[]; idx: number; patterns: RegExp[] }[] = [
      {
        plan: [
          { idx: 2, tool: 'value', args: { v: 1 } },
          { idx: 3, tool: 'echo', args: { a: '$1' } },
        ],
        idx: 3,
        patterns: [/Task 3/, /task 1/, /not in the plan/],
      },
      {
        plan: [
          { idx: 1, tool: 'value', args: { v: 1 } },
          { idx: 2, tool: 'echo', args: { a: 'x', b: 1 }, dependencies: [7] },
        ],
        idx: 2,
        patterns: [/Task 2/, /task 7/],
      },
      {
        plan: [
          { idx: 1, tool: 'value', args: { v: 1 } },
          { idx: 2, tool: 'echo', args: { a: ['$2'] } },
        ],
        idx: 2,
        patterns: [/Task 2/, /itself/],
      },
      {
        plan: [
          { idx: 1, tool: 'echo', args: { a: '${2}' } },
          { idx: 2, tool: 'value', args: { v: 1 } },
        ],
        idx: 1,
        patterns: [/Task 1/, /task 2/, /later/],
      },
    ];
    for (const { plan, idx, patterns } of cases) {
      const { calls, tools } = countingTools();
      await rejectsWithPlanError(scheduleTasks(plan, { tools }), idx, ...patterns);
      assert.equal(calls.length, 0);
    }
  });

  it('rejects an unknown tool naming the task and listing the tools', async () => {
    const { calls, tools } = countingTools();
    await rejectsWithPlanError(
      scheduleTasks(
        [
          { idx: 1, tool: 'value', args: { v: 1 } },
          { idx: 2, tool: 'serach', args: ['$1'] },
        ],
        { tools },
      ),
      2,
      /Task 2/,
      /'serach'/,
      /echo/,
      /value/,
    );
    assert.equal(calls.length, 0);
    // Inherited names are not tools.
    await rejectsWithPlanError(
      scheduleTasks([{ idx: 1, tool: 'toString' }], { tools }),
      1,
      /toString/,
    );
  });

  it('rejects a duplicate idx', async () => {
    const { calls, tools } = countingTools();
    await rejectsWithPlanError(
      scheduleTasks(
        [
          { idx: 1, tool: 'value', args: { v: 1 } },
          { idx: 1, tool: 'value', args: { v: 2 } },
        ],
        { tools },
      ),
      1,
      /Task 1/,
      /twice/,
    );
    // Nor may a task reuse the number of an earlier round's observation.
    await rejectsWithPlanError(
      scheduleTasks([{ idx: 1, tool: 'value', args: { v: 1 } }], {
        tools,
        observations: new Map([[1, 'old']]),
      }),
      1,
      /twice/,
    );
    assert.equal(calls.length, 0);
  });

  it('lets placeholders refer to observations of earlier rounds', async () => {
    const { tools } = countingTools();
    const observations = await scheduleTasks([{ idx: 3, tool: 'echo', args: ['$1', '$2!'] }], {
      tools,
      observations: new Map<number, unknown>([
        [1, { old: true }],
        [2, 'two'],
      ]),
    });
    assert.deepEqual(observations, new Map([[3, [{ old: true }, 'two!']]]));
  });

  it('exposes resolve, references and renumber', () => {
    const observations = new Map<number, unknown>([
      [1, 5],
      [12, 'x'],
    ]);
    assert.deepEqual(references({ a: ['$1', 'b ${12} $3'], c: 4 }), new Set([1, 12, 3]));
    assert.deepEqual(resolve({ a: ['$1', 'b ${12}'], c: 4 }, observations), {
      a: [5, 'b x'],
      c: 4,
    });
    assert.deepEqual(renumber({ a: ['$1', 'b ${2} $12', '$x'] }, 2, 10), {
      a: ['$1', 'b ${12} $22', '$x'],
    });
    assert.throws(
      () => resolve('$2', observations, 7),
      (error: unknown) => {
        assert.ok(error instanceof PlanError);
        assert.equal(error.idx, 7);
        assert.match(error.message, /Task 7 refers to task 2/);
        return true;
      },
    );
  });
});

describe('compiler: edge cases found by the property tests', () => {
  it("keeps an own '__proto__' key of the arguments through resolve and renumber", async () => {
    // parseArgs keeps '__proto__' as an own key on purpose; resolving must not turn it
    // into the prototype of the tool's arguments.
    const [args] = parseArgs('{"__proto__": {"polluted": true}, "b": "$1"}') as [object];
    assert.deepEqual(Object.keys(args), ['__proto__', 'b']);
    const resolved = resolve(args, new Map([[1, 2]])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(resolved), ['__proto__', 'b'], 'own keys kept');
    assert.equal(resolved.polluted, undefined, 'nothing inherited');
    const renumbered = renumber(args, 1, 4) as Record<string, unknown>;
    assert.deepEqual(Object.keys(renumbered), ['__proto__', 'b']);
    const { tools } = countingTools();
    const observations = await scheduleTasks(
      [
        { idx: 1, tool: 'value', args: { v: 2 } },
        { idx: 2, tool: 'echo', args: args as ToolArgs },
      ],
      { tools },
    );
    const seen = observations.get(2) as Record<string, unknown>;
    assert.equal(seen.polluted, undefined, 'the tool sees no inherited properties');
    assert.deepEqual(Object.keys(seen), ['__proto__', 'b']);
  });

  it('keeps a task whose quoted argument holds U+2028, U+2029 or a raw CR', async () => {
    for (const char of ['\u2028', '\u2029', '\r']) {
      const diagnostics: PlanDiagnostic[] = [];
      const tasks = await collect(
        parsePlan(`1. a("x${char}y")\n2. b(1)\n`, { onDiagnostic: (d) => diagnostics.push(d) }),
      );
      assert.deepEqual(
        tasks,
        [
          { idx: 1, tool: 'a', args: [`x${char}y`] },
          { idx: 2, tool: 'b', args: [1] },
        ],
        `U+${char.charCodeAt(0).toString(16).padStart(4, '0')} inside a string`,
      );
    }
  });

  it('does not end the plan at an <END_OF_PLAN> inside a quoted argument', async () => {
    const tasks = await collect(parsePlan('1. search("what does <END_OF_PLAN> mean?")\n2. join()'));
    assert.deepEqual(tasks, [{ idx: 1, tool: 'search', args: ['what does <END_OF_PLAN> mean?'] }]);
  });

  it('reads the outer Finish(...) even when the answer mentions Replan(...)', () => {
    assert.deepEqual(parseDecision('Action: Finish(No need to Replan(x); the answer is 4)'), {
      finish: 'No need to Replan(x); the answer is 4',
    });
  });
});

describe('compiler: failures', () => {
  function failingPlan(): { plan: CompilerTask[]; tools: Record<string, ToolFn>; ran: string[] } {
    const ran: string[] = [];
    const tools: Record<string, ToolFn> = {
      ok: (args) => {
        const [label] = positional<[string]>(args);
        ran.push(label);
        return label.toUpperCase();
      },
      boom: () => {
        ran.push('boom');
        throw new Error('disk on fire');
      },
    };
    return {
      ran,
      tools,
      plan: [
        { idx: 1, tool: 'ok', args: ['one'] },
        { idx: 2, tool: 'boom', args: ['$1'] },
        { idx: 3, tool: 'ok', args: ['three:$2'] },
        { idx: 4, tool: 'ok', args: ['four'] },
        { idx: 5, tool: 'ok', args: ['five'], dependencies: [3] },
      ],
    };
  }

  it("fails a failed task's dependents with its root cause; independent tasks finish", async () => {
    const { plan, tools, ran } = failingPlan();
    const observations = await scheduleTasks(plan, { tools });
    assert.equal(observations.get(1), 'ONE');
    assert.equal(observations.get(4), 'FOUR');
    const failed = observations.get(2);
    assert.ok(isFailure(failed));
    assert.match(failed.message, /disk on fire/);
    for (const idx of [3, 5]) {
      const dependent = observations.get(idx);
      assert.ok(isFailure(dependent), `task ${idx} failed`);
      assert.ok(dependent instanceof DependencyFailedError);
      assert.ok(isWeftError(dependent, 'WEFT_DEPENDENCY_FAILED'));
      assert.equal(dependent.rootCause, '2');
      assert.match(dependent.message, /'2'/);
      assert.match(dependent.message, /disk on fire/);
    }
    assert.ok(!isFailure(observations.get(1)));
    assert.ok(!ran.includes('three:$2') && !ran.some((label) => label.startsWith('three')));
    assert.ok(!ran.includes('five'), 'dependents never run');
  });

  it('rejects the whole schedule with failFast: true', async () => {
    const { plan, tools } = failingPlan();
    await assert.rejects(scheduleTasks(plan, { tools, failFast: true }), (error: unknown) => {
      assert.ok(error instanceof TaskFailedError);
      assert.match(error.message, /disk on fire/);
      return true;
    });
  });

  it('isFailure tells errors from values', () => {
    assert.ok(isFailure(new Error('x')));
    assert.ok(!isFailure('Error: x'));
    assert.ok(!isFailure({ message: 'x' }));
    assert.ok(!isFailure(undefined));
  });
});

describe('compiler: streamed tasks', () => {
  it(
    'starts task 1 before task 2 has arrived, and resolves only when the stream ends',
    guard,
    async () => {
      const feed = new Feed<CompilerTask>();
      const ran1 = deferred();
      const ended2 = deferred();
      const bus = new EventBus();
      bus.on('task:end', (event) => {
        if (event.item === '2') ended2.resolve();
      });
      const tools: Record<string, ToolFn> = {
        first: () => {
          ran1.resolve();
          return 1;
        },
        second: (args) => positional<[number]>(args)[0] + 1,
      };
      let settled = false;
      const running = scheduleTasks(feed, { tools, events: bus }).finally(() => {
        settled = true;
      });
      feed.push({ idx: 1, tool: 'first' });
      await ran1.promise;
      assert.equal(feed.taken, 1, 'task 2 was not yielded yet when task 1 ran');
      feed.push({ idx: 2, tool: 'second', args: ['$1'] });
      await ended2.promise;
      await nextTurn();
      await nextTurn();
      assert.equal(settled, false, 'scheduleTasks waits for the end of the stream');
      feed.end();
      assert.deepEqual(
        await running,
        new Map([
          [1, 1],
          [2, 2],
        ]),
      );
    },
  );

  it('rejects a streamed task with an unknown tool as soon as it arrives', guard, async () => {
    const feed = new Feed<CompilerTask>();
    const { tools, calls } = countingTools();
    const running = scheduleTasks(feed, { tools });
    feed.push({ idx: 1, tool: 'nope' });
    await rejectsWithPlanError(running, 1, /nope/);
    assert.equal(calls.length, 0);
  });
});

const planText = [
  'Thought: I need two searches first.',
  '1. search("weather (SF)", top=3)',
  "2. search(query='NYC\\'s weather, today')",
  '',
  'Thought: then compare them',
  '3. compare($1, ${2}, {"w": [1, -2.5e1]})',
  '4. join()',
  '<END_OF_PLAN>',
].join('\n');

const planTasks: CompilerTask[] = [
  {
    idx: 1,
    tool: 'search',
    args: ['weather (SF)', { top: 3 }],
    thought: 'I need two searches first.',
  },
  { idx: 2, tool: 'search', args: { query: "NYC's weather, today" } },
  { idx: 3, tool: 'compare', args: ['$1', '${2}', { w: [1, -25] }], thought: 'then compare them' },
];

describe('compiler: parsePlan', () => {
  it('parses a plan given as one string', async () => {
    assert.ok(planText.length > 150 && planText.length < 260);
    assert.deepEqual(await collect(parsePlan(planText)), planTasks);
  });

  it('yields the same tasks however the text is split into chunks', async () => {
    for (let at = 0; at <= planText.length; at++) {
      const chunks = cut(planText, [at]);
      assert.deepEqual(await collect(parsePlan(chunks)), planTasks, `split at ${at}`);
    }
    for (let at = 0; at <= planText.length; at += 7) {
      const chunks = cut(planText, [at, at + 3, at + 50]);
      assert.deepEqual(await collect(parsePlan(streamOf(chunks))), planTasks, `cut at ${at}`);
    }
    assert.deepEqual(await collect(parsePlan(streamOf([...planText]))), planTasks, '1-char');
    const crlf = planText.replaceAll('\n', '\r\n');
    assert.deepEqual(await collect(parsePlan(streamOf([...crlf]))), planTasks, 'CRLF, 1-char');
  });

  it('yields each task as soon as its line is complete', guard, async () => {
    const feed = new Feed<string>();
    const iterator = parsePlan(feed)[Symbol.asyncIterator]();
    feed.push('1. a(1)\n2. b(');
    assert.deepEqual(await iterator.next(), {
      done: false,
      value: { idx: 1, tool: 'a', args: [1] },
    });
    feed.push('$1)');
    feed.push('\n');
    assert.deepEqual(await iterator.next(), {
      done: false,
      value: { idx: 2, tool: 'b', args: ['$1'] },
    });
    feed.end();
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  });

  it('attaches a thought to the next task only, and reports the last thought', async () => {
    const thoughts: string[] = [];
    const tasks = await collect(
      parsePlan('Thought: first\n1. a()\n2. b()\nthinking aloud\nThought: last\n3. join()', {
        onThought: (t) => thoughts.push(t),
      }),
    );
    assert.deepEqual(tasks, [
      { idx: 1, tool: 'a', args: [], thought: 'first' },
      { idx: 2, tool: 'b', args: [] },
    ]);
    assert.deepEqual(thoughts, ['last']);
  });

  for (const [label, end] of [
    ['join()', '2. join()'],
    ['<END_OF_PLAN>', '<END_OF_PLAN>'],
  ] as const) {
    it(`ends the plan at ${label}: later lines are ignored and the source is closed`, async () => {
      const { source, state } = trackedSource([
        `1. a(1)\n${end}\n3. b(`,
        '2)\n',
        '4. c(3)\n',
        '5. d(4)\n',
      ]);
      const tasks = await collect(parsePlan(source));
      assert.deepEqual(tasks, [{ idx: 1, tool: 'a', args: [1] }]);
      assert.equal(state.returned, true, 'return() was called on the source');
      assert.equal(state.read, 1, 'nothing more was read');
    });
  }

  const argCases: readonly (readonly [string, unknown])[] = [
    ['', []],
    ['1, "two", 3.5', [1, 'two', 3.5]],
    ['a=1, b="x"', { a: 1, b: 'x' }],
    ['1, "x", k=True, l=None', [1, 'x', { k: true, l: null }]],
    ['"line\\nnext \\"q\\" back\\\\slash \\u00e9"', ['line\nnext "q" back\\slash é']],
    ['"f(x) = (a))(", y="(("', ['f(x) = (a))(', { y: '((' }]],
    ["'single \\'q\\' \"dq\"'", ['single \'q\' "dq"']],
    ['-3, 2.5, -0.5, 1e3, 2.5E-2, -1e+2, .5, 0', [-3, 2.5, -0.5, 1000, 0.025, -100, 0.5, 0]],
    ['True, False, None, true, false, null', [true, false, null, true, false, null]],
    ['[1, [2, "x"], [], [None]]', [[1, [2, 'x'], [], [null]]]],
    [
      '{"a": {"b": [1, {"c": null}]}, \'d\': \'e\', f: {g: True}}',
      [{ a: { b: [1, { c: null }] }, d: 'e', f: { g: true } }],
    ],
    ['$1, ${2}, x=$3, y=[${4}]', ['$1', '${2}', { x: '$3', y: ['${4}'] }]],
    ['1, 2,', [1, 2]],
    ['  q = "spaced" ,  n =  -7  ', { q: 'spaced', n: -7 }],
  ];

  it('reads arguments: positional, named, mixed, strings, numbers, constants, lists, objects, placeholders', async () => {
    for (const [text, expected] of argCases) {
      assert.deepEqual(parseArgs(text), expected, `parseArgs(${text})`);
      const [task] = await collect(parsePlan(`7. tool(${text})\n`));
      assert.deepEqual(task, { idx: 7, tool: 'tool', args: expected }, `plan line tool(${text})`);
    }
  });

  it('rejects bad arguments with ArgsSyntaxError', () => {
    for (const text of [
      'hello world',
      '"open',
      '1 2',
      'a=1, 2',
      'a=1, a=2',
      '[1, 2',
      '{a 1}',
      '$x',
      '"\\u12"',
      ',',
    ]) {
      assert.throws(() => parseArgs(text), ArgsSyntaxError, `parseArgs(${text})`);
    }
  });

  it("throws PlanParseError with the line number with onMalformed: 'throw'", async () => {
    const text = 'Thought: go\n1. a(1)\n\n2. b(not a value)\n3. c(2)\n';
    const seen: CompilerTask[] = [];
    await assert.rejects(
      (async () => {
        for await (const task of parsePlan(streamOf(cut(text, [5, 17, 30])), {
          onMalformed: 'throw',
        }))
          seen.push(task);
      })(),
      (error: unknown) => {
        assert.ok(error instanceof PlanParseError);
        assert.equal(error.code, 'WEFT_PLAN_PARSE');
        assert.equal(error.line, 4);
        assert.equal(error.text, '2. b(not a value)');
        assert.match(error.message, /line 4/);
        return true;
      },
    );
    assert.deepEqual(seen, [{ idx: 1, tool: 'a', args: [1], thought: 'go' }]);
    await assert.rejects(
      collect(parsePlan('1. a(1)\r\n2. b(\r\n', { onMalformed: 'throw' })),
      (error: unknown) => error instanceof PlanParseError && error.line === 2,
    );
  });

  it("skips malformed lines with onMalformed: 'skip', reporting their line numbers", async () => {
    const diagnostics: PlanDiagnostic[] = [];
    const text = '1. a(1)\n2. b(oops\n\n3. c($1)\n4. d x\n5. e("ok")';
    const tasks = await collect(
      parsePlan(text, { onMalformed: 'skip', onDiagnostic: (d) => diagnostics.push(d) }),
    );
    assert.deepEqual(tasks, [
      { idx: 1, tool: 'a', args: [1] },
      { idx: 3, tool: 'c', args: ['$1'] },
      { idx: 5, tool: 'e', args: ['ok'] },
    ]);
    assert.deepEqual(
      diagnostics.map((d) => [d.line, d.text]),
      [
        [2, '2. b(oops'],
        [5, '4. d x'],
      ],
    );
    // 'skip' is the default.
    assert.equal((await collect(parsePlan(text))).length, 3);
  });

  it('treats a call to an unknown tool as malformed when tools are given', async () => {
    const diagnostics: PlanDiagnostic[] = [];
    const tasks = await collect(
      parsePlan('1. search("x")\n2. serach("y")\n3. join()', {
        tools: ['search', 'math'],
        onDiagnostic: (d) => diagnostics.push(d),
      }),
    );
    assert.deepEqual(tasks, [{ idx: 1, tool: 'search', args: ['x'] }]);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]!.line, 2);
    assert.match(diagnostics[0]!.message, /serach/);
    assert.match(diagnostics[0]!.message, /search, math/);
    await assert.rejects(
      collect(parsePlan('1. serach("y")', { tools: ['search'], onMalformed: 'throw' })),
      (error: unknown) => error instanceof PlanParseError && error.line === 1,
    );
  });
});

/** A tool that adds its positional arguments. */
const add: ToolFn = (args) =>
  positional<number[]>(args).reduce((total, value) => total + Number(value), 0);

describe('compiler: LLMCompiler', () => {
  it('runs tasks while the plan is still streaming (no deadlock)', guard, async () => {
    const planned = deferred();
    const compiler = new LLMCompiler({
      planner: async function* () {
        yield 'Thought: start\n1. fi';
        yield 'rst()\n';
        // The rest of the plan depends on task 1 having run.
        await planned.promise;
        yield '2. second($1)\n3. join()\n';
      },
      tools: {
        first: () => {
          planned.resolve();
          return 20;
        },
        second: (args) => positional<[number]>(args)[0] + 1,
      },
      joiner: ({ observations }) => `Action: Finish(${String(observations.get(2))})`,
    });
    const result = await compiler.invoke('q');
    assert.equal(result.answer, '21');
    assert.equal(result.rounds, 1);
  });

  it('finishes on the first round', async () => {
    const inputs: PlannerInput[] = [];
    const joined: JoinerInput[] = [];
    const compiler = new LLMCompiler({
      planner: (input) => {
        inputs.push({ ...input, observations: new Map(input.observations) });
        return 'Thought: add them\n1. add(1, 2)\n2. add($1, 4)\nThought: done\n3. join()';
      },
      tools: { add },
      joiner: (input) => {
        joined.push(input);
        return 'Thought: I know it.\nAction: Finish(f(x) = 2)';
      },
    });
    const result = await compiler.invoke('what is f(x)?');
    assert.equal(result.answer, 'f(x) = 2');
    assert.equal(result.rounds, 1);
    assert.deepEqual(
      result.observations,
      new Map([
        [1, 3],
        [2, 7],
      ]),
    );
    assert.deepEqual(result.diagnostics, []);
    assert.equal(inputs.length, 1);
    assert.equal(inputs[0]!.question, 'what is f(x)?');
    assert.equal(inputs[0]!.feedback, undefined);
    assert.equal(inputs[0]!.nextIdx, 1);
    assert.equal(inputs[0]!.round, 1);
    assert.deepEqual(joined[0]!.thoughts, ['add them', 'done']);
    assert.equal(joined[0]!.question, 'what is f(x)?');
  });

  for (const [label, restart] of [
    ['numbers on from nextIdx', false],
    ['numbers from 1 again', true],
  ] as const) {
    it(`replans with feedback and nextIdx; the planner ${label}`, async () => {
      const inputs: PlannerInput[] = [];
      const compiler = new LLMCompiler({
        planner: (input) => {
          inputs.push({ ...input, observations: new Map(input.observations) });
          if (input.round === 1) return '1. add(1, 2)\n2. add(10)\n3. join()';
          const base = restart ? 1 : input.nextIdx;
          return streamOf([
            `${base}. add(100)\n`,
            `${base + 1}. add($${base}, 1)\n`,
            `${base + 2}. add(\${${base + 1}}, $${base})\n`,
            `${base + 3}. join()\n`,
          ]);
        },
        tools: { add },
        joiner: ({ round }) =>
          round === 1 ? 'Thought: not yet\nAction: Replan(need (more) data)' : { finish: 'ok' },
      });
      const result = await compiler.invoke('q');
      assert.equal(result.rounds, 2);
      assert.equal(result.answer, 'ok');
      assert.equal(inputs[1]!.feedback, 'need (more) data');
      assert.equal(inputs[1]!.nextIdx, 3);
      assert.equal(inputs[1]!.round, 2);
      assert.deepEqual(
        inputs[1]!.observations,
        new Map([
          [1, 3],
          [2, 10],
        ]),
      );
      assert.deepEqual(
        result.observations,
        new Map([
          [1, 3],
          [2, 10],
          [3, 100],
          [4, 101],
          [5, 201],
        ]),
      );
    });
  }

  it('renumbers task objects of a restarted replan, with their dependencies', async () => {
    const order: string[] = [];
    const compiler = new LLMCompiler({
      planner: ({ round }) =>
        round === 1
          ? [{ idx: 1, tool: 'add', args: [1] }]
          : [
              { idx: 1, tool: 'slow', args: [] },
              { idx: 2, tool: 'after', args: [], dependencies: [1] },
            ],
      tools: {
        add,
        slow: async () => {
          order.push('slow:start');
          await nextTurn();
          order.push('slow:end');
          return 's';
        },
        after: () => {
          order.push('after');
          return 'a';
        },
      },
      joiner: ({ round }) => (round === 1 ? { replan: 'again' } : { finish: 'done' }),
    });
    const result = await compiler.invoke('q');
    assert.deepEqual(
      result.observations,
      new Map<number, unknown>([
        [1, 1],
        [2, 's'],
        [3, 'a'],
      ]),
    );
    assert.deepEqual(order, ['slow:start', 'slow:end', 'after']);
  });

  it('reads the joiner: Finish and Replan with nested parentheses, or decision objects', () => {
    assert.deepEqual(parseDecision('Thought: easy.\nAction: Finish(f(x) = 2)'), {
      finish: 'f(x) = 2',
    });
    assert.deepEqual(parseDecision('Action: Replan(compute g(h(1)) then (k))'), {
      replan: 'compute g(h(1)) then (k)',
    });
    assert.deepEqual(parseDecision("Action: Finish(it's f(x))"), { finish: "it's f(x)" });
    // A parenthesis inside a quoted string does not close the call.
    assert.deepEqual(parseDecision('Action: Finish("a ) b") trailing'), { finish: '"a ) b"' });
    assert.deepEqual(parseDecision({ finish: { n: 1 } }), { finish: { n: 1 } });
    assert.deepEqual(parseDecision({ replan: 'x' }), { replan: 'x' });
    assert.throws(() => parseDecision('I am done'), /Finish/);
  });

  it('accepts { finish } with any value and { replan } from the joiner', async () => {
    let round = 0;
    const compiler = new LLMCompiler({
      planner: () => '1. add(2, 2)',
      tools: { add },
      joiner: ({ observations }) => {
        round++;
        return round === 1 ? { replan: 'once more' } : { finish: [...observations.values()] };
      },
    });
    const result = await compiler.invoke('q');
    assert.deepEqual(result.answer, [4, 4]);
    assert.equal(result.rounds, 2);
  });

  it('throws ReplanLimitError when the joiner replans beyond maxReplans', async () => {
    for (const maxReplans of [0, 1, 2]) {
      let plans = 0;
      const compiler = new LLMCompiler({
        planner: ({ nextIdx }) => {
          plans++;
          return `${nextIdx}. add(${nextIdx})`;
        },
        tools: { add },
        joiner: () => 'Action: Replan(try again)',
        maxReplans,
      });
      await assert.rejects(compiler.invoke('q'), (error: unknown) => {
        assert.ok(error instanceof ReplanLimitError);
        assert.equal(error.code, 'WEFT_REPLAN_LIMIT');
        assert.ok(isWeftError(error, 'WEFT_REPLAN_LIMIT'));
        assert.match(error.message, /try again/);
        assert.equal(error.observations.size, maxReplans + 1);
        return true;
      });
      assert.equal(plans, maxReplans + 1, `maxReplans ${maxReplans}`);
    }
  });

  it('accepts a planner returning task objects (an array or an async iterable)', async () => {
    for (const wrap of [
      (tasks: CompilerTask[]) => tasks,
      (tasks: CompilerTask[]) => streamOf(tasks),
    ]) {
      const compiler = new LLMCompiler({
        planner: () =>
          wrap([
            { idx: 1, tool: 'add', args: [1, 2], thought: 'sum' },
            { idx: 2, tool: 'add', args: ['$1', '$1'] },
          ]),
        tools: { add },
        joiner: ({ observations, thoughts }) => ({
          finish: `${thoughts.join()}=${String(observations.get(2))}`,
        }),
      });
      const result = await compiler.invoke('q');
      assert.equal(result.answer, 'sum=6');
    }
  });

  it('reports skipped plan lines and rejects bad plans with PlanError', async () => {
    const compiler = new LLMCompiler({
      planner: () => '1. add(1)\n2. nope(2)\n3. add($1, 1)',
      tools: { add },
      joiner: () => ({ finish: 'x' }),
    });
    const result = await compiler.invoke('q');
    assert.deepEqual([...result.observations.keys()], [1, 3]);
    assert.deepEqual(
      result.diagnostics.map((d) => d.line),
      [2],
    );
    const strict = new LLMCompiler({
      planner: () => '1. add(1)\n2. nope(2)',
      tools: { add },
      joiner: () => ({ finish: 'x' }),
      onMalformed: 'throw',
    });
    await assert.rejects(strict.invoke('q'), PlanParseError);
    const badRef = new LLMCompiler({
      planner: () => '1. add($2)\n2. add(1)',
      tools: { add },
      joiner: () => ({ finish: 'x' }),
    });
    await assert.rejects(badRef.invoke('q'), PlanError);
  });

  it('runs a scripted planner and joiner end to end (streamed plan, one replan)', async () => {
    const temperatures: Record<string, number> = { SF: 18, NYC: 11, Paris: 14 };
    const tools: Record<string, ToolFn> = {
      weather: async (args) => {
        await Promise.resolve();
        return temperatures[positional<[string]>(args)[0]] ?? null;
      },
      difference: (args) => {
        const [a, b] = positional<[number, number]>(args);
        return a - b;
      },
    };
    const chunked = (text: string) =>
      streamOf(
        cut(
          text,
          Array.from({ length: text.length }, (_, i) => i * 9),
        ),
      );
    const planner = ({ round, feedback }: PlannerInput) =>
      round === 1
        ? chunked(
            'Thought: both temperatures at once.\n1. weather("SF")\n2. weather("NYC")\n' +
              'Thought: then the difference.\n3. difference($1, $2)\n4. join()\n<END_OF_PLAN>',
          )
        : chunked(`Thought: ${feedback}\n1. weather('Paris')\n2. difference($1, 11)\n3. join()`);
    const joiner = ({ observations, round, thoughts }: JoinerInput) => {
      if (round === 1) {
        assert.deepEqual(thoughts, ['both temperatures at once.', 'then the difference.']);
        return 'Thought: what about Paris?\nAction: Replan(check Paris (too))';
      }
      return `Action: Finish(SF is warmest: +${String(observations.get(3))} over NYC, Paris +${String(observations.get(5))})`;
    };
    const compiler = new LLMCompiler({ planner, tools, joiner, maxReplans: 1, executor: inline() });
    const result = await compiler.invoke('Which city is warmer?');
    assert.equal(result.answer, 'SF is warmest: +7 over NYC, Paris +3');
    assert.equal(result.rounds, 2);
    assert.deepEqual(
      result.observations,
      new Map<number, unknown>([
        [1, 18],
        [2, 11],
        [3, 7],
        [4, 14],
        [5, 3],
      ]),
    );
  });
});
