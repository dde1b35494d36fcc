/** parsePlan, and edge cases of plan text found by the property tests. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ArgsSyntaxError,
  type CompilerTask,
  type PlanDiagnostic,
  PlanParseError,
  parseArgs,
  parseDecision,
  parsePlan,
  renumber,
  resolve,
  scheduleTasks,
  type ToolArgs,
} from 'weftjs/compiler';
import { collect, cut, Feed, streamOf, trackedSource } from '../fixtures/compiler-helpers.ts';
import { countingTools, guard } from './support.ts';

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
          { idx: 1, tool: 'a', args: [`x${char}y`], dependencies: [] },
          { idx: 2, tool: 'b', args: [1], dependencies: [] },
        ],
        `U+${char.charCodeAt(0).toString(16).padStart(4, '0')} inside a string`,
      );
    }
  });

  it('does not end the plan at an <END_OF_PLAN> inside a quoted argument', async () => {
    const tasks = await collect(parsePlan('1. search("what does <END_OF_PLAN> mean?")\n2. join()'));
    assert.deepEqual(tasks, [
      { idx: 1, tool: 'search', args: ['what does <END_OF_PLAN> mean?'], dependencies: [] },
    ]);
  });

  it('reads the outer Finish(...) even when the answer mentions Replan(...)', () => {
    assert.deepEqual(parseDecision('Action: Finish(No need to Replan(x); the answer is 4)'), {
      finish: 'No need to Replan(x); the answer is 4',
    });
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
    dependencies: [],
    thought: 'I need two searches first.',
  },
  { idx: 2, tool: 'search', args: { query: "NYC's weather, today" }, dependencies: [] },
  {
    idx: 3,
    tool: 'compare',
    args: ['$1', '${2}', { w: [1, -25] }],
    dependencies: [1, 2],
    thought: 'then compare them',
  },
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
      value: { idx: 1, tool: 'a', args: [1], dependencies: [] },
    });
    feed.push('$1)');
    feed.push('\n');
    assert.deepEqual(await iterator.next(), {
      done: false,
      value: { idx: 2, tool: 'b', args: ['$1'], dependencies: [1] },
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
      { idx: 1, tool: 'a', args: [], dependencies: [], thought: 'first' },
      { idx: 2, tool: 'b', args: [], dependencies: [] },
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
      assert.deepEqual(tasks, [{ idx: 1, tool: 'a', args: [1], dependencies: [] }]);
      assert.equal(state.returned, true, 'return() was called on the source');
      assert.equal(state.read, 1, 'nothing more was read');
    });
  }

  // Text between the parentheses, what parseArgs reads from it, and the task numbers it refers to.
  const argCases: readonly (readonly [string, unknown, readonly number[]])[] = [
    ['', [], []],
    ['1, "two", 3.5', [1, 'two', 3.5], []],
    ['a=1, b="x"', { a: 1, b: 'x' }, []],
    ['1, "x", k=True, l=None', [1, 'x', { k: true, l: null }], []],
    ['"line\\nnext \\"q\\" back\\\\slash \\u00e9"', ['line\nnext "q" back\\slash é'], []],
    ['"f(x) = (a))(", y="(("', ['f(x) = (a))(', { y: '((' }], []],
    ["'single \\'q\\' \"dq\"'", ['single \'q\' "dq"'], []],
    ['-3, 2.5, -0.5, 1e3, 2.5E-2, -1e+2, .5, 0', [-3, 2.5, -0.5, 1000, 0.025, -100, 0.5, 0], []],
    ['True, False, None, true, false, null', [true, false, null, true, false, null], []],
    ['[1, [2, "x"], [], [None]]', [[1, [2, 'x'], [], [null]]], []],
    [
      '{"a": {"b": [1, {"c": null}]}, \'d\': \'e\', f: {g: True}}',
      [{ a: { b: [1, { c: null }] }, d: 'e', f: { g: true } }],
      [],
    ],
    ['$1, ${2}, x=$3, y=[${4}]', ['$1', '${2}', { x: '$3', y: ['${4}'] }], [1, 2, 3, 4]],
    ['1, 2,', [1, 2], []],
    ['  q = "spaced" ,  n =  -7  ', { q: 'spaced', n: -7 }, []],
  ];

  it('reads arguments: positional, named, mixed, strings, numbers, constants, lists, objects, placeholders', async () => {
    for (const [text, expected, dependencies] of argCases) {
      assert.deepEqual(parseArgs(text), expected, `parseArgs(${text})`);
      const [task] = await collect(parsePlan(`7. tool(${text})\n`));
      assert.deepEqual(
        task,
        { idx: 7, tool: 'tool', args: expected, dependencies },
        `plan line tool(${text})`,
      );
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
    assert.deepEqual(seen, [{ idx: 1, tool: 'a', args: [1], thought: 'go', dependencies: [] }]);
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
      { idx: 1, tool: 'a', args: [1], dependencies: [] },
      { idx: 3, tool: 'c', args: ['$1'], dependencies: [1] },
      { idx: 5, tool: 'e', args: ['ok'], dependencies: [] },
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
    assert.deepEqual(tasks, [{ idx: 1, tool: 'search', args: ['x'], dependencies: [] }]);
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
