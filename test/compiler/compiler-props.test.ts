import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { asyncPool, type Executor, inline } from 'weftjs';
import {
  ArgsSyntaxError,
  type CompilerTask,
  type PlanDiagnostic,
  PlanError,
  PlanParseError,
  parseArgs,
  parsePlan,
  references,
  resolve,
  scheduleTasks,
  type ToolFn,
} from 'weftjs/compiler';
import { cut, nextTurn, streamOf } from '../fixtures/compiler-helpers.ts';

// ---------------------------------------------------------------------------------------
// Generators

/** Pieces that make plan text and argument lists interesting. */
const pieces = [
  ...'0123456789 .,()[]{}"\'\\$=:-+eE_\n\r\tabxyzTFN'.split(''),
  '1. ',
  '2. ',
  'join()',
  'Thought:',
  'True',
  'None',
  'false',
  '${1}',
  '$1',
  '\\u00e9',
  '\\n',
];

/** Any plan-like text, the end marker and line separators included. */
const planAlphabet = fc.constantFrom(...pieces, '<END_OF_PLAN>', '\u2028', '\u2029');

/**
 * Characters of generated argument strings. The end marker, U+2028 and U+2029 inside a
 * quoted argument are known to break a plan line: examples in compiler-parse.test.ts cover them.
 */
const argAlphabet = fc.constantFrom(...pieces);

/** Arbitrary text: fully random, or made of plan-like pieces. */
const planishText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.string({ unit: planAlphabet, maxLength: 120 }),
);

/** Cut positions for a text of any length (scaled into it). */
const cutPoints = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

function cutAt(text: string, points: readonly number[]): string[] {
  return cut(
    text,
    points.map((p) => Math.floor(p * (text.length + 1))),
  );
}

const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/);
const toolName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,7}$/).filter((name) => name !== 'join');

/** Numbers that print and read back exactly (no -0, NaN or infinities). */
const finiteNumber = fc
  .oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
  .map((n) => (Object.is(n, -0) ? 0 : n));

/** Argument values: the shapes a planner writes. */
const { argValue } = fc.letrec<{ argValue: unknown }>((tie) => ({
  argValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 6 }).filter((text) => !/[\u2028\u2029]/.test(text)),
    fc.string({ unit: argAlphabet, maxLength: 8 }),
    finiteNumber,
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom('$1', '${2}', '$10'),
    fc.array(tie('argValue'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('argValue'), {
      maxKeys: 4,
      noNullPrototype: true,
    }),
  ),
}));

/** Prints a value as a planner might: JSON, or Python-style literals. */
function printValue(value: unknown, python: boolean): string {
  if (!python) return JSON.stringify(value);
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    return /^\$(?:\d+|\{\d+\})$/.test(value) ? value : pythonString(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => printValue(item, python)).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(([key, item]) => {
    const printedKey = /^[A-Za-z_]\w*$/.test(key) ? key : pythonString(key);
    return `${printedKey}: ${printValue(item, python)}`;
  });
  return `{${entries.join(', ')}}`;
}

function pythonString(text: string): string {
  const escaped = text
    .replaceAll('\\', '\\\\')
    .replaceAll("'", "\\'")
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r');
  return `'${escaped}'`;
}

/** A task as the planner means it, with how to print it. */
interface PlannedTask {
  readonly tool: string;
  readonly positional: readonly unknown[];
  readonly named: readonly (readonly [string, unknown])[];
  readonly thought: string | undefined;
  readonly python: boolean;
}

const plannedTask: fc.Arbitrary<PlannedTask> = fc
  .record({
    tool: toolName,
    positional: fc.array(argValue, { maxLength: 3 }),
    named: fc.uniqueArray(fc.tuple(identifier, argValue), {
      maxLength: 3,
      selector: ([key]) => key,
    }),
    thought: fc.option(
      fc.string({ maxLength: 30 }).filter((t) => !/[\n\r]/.test(t) && !t.includes('<END_OF_PLAN>')),
      { nil: undefined },
    ),
    python: fc.boolean(),
  })
  // See argAlphabet: the end marker inside an argument is covered by an example.
  .filter((task) => !JSON.stringify([task.positional, task.named]).includes('<END_OF_PLAN>'));

/**
 * The task numbers a parsed task must declare: every `$N` and `${N}` in the strings of
 * `value` (keys are names, not read), ascending and once each. A `${` that is not
 * `${digits}` is consumed by the third alternative and adds nothing.
 */
function taskNumbersIn(value: unknown): number[] {
  const found = new Set<number>();
  const visit = (item: unknown): void => {
    if (typeof item === 'string') {
      for (const match of item.matchAll(/\$\{(\d+)\}|\$(\d+)|\$\{[^}]*\}?/g)) {
        const digits = match[1] ?? match[2];
        if (digits !== undefined) found.add(Number(digits));
      }
    } else if (Array.isArray(item)) {
      item.forEach(visit);
    } else if (item !== null && typeof item === 'object') {
      Object.values(item).forEach(visit);
    }
  };
  visit(value);
  return [...found].sort((a, b) => a - b);
}

/** A plan's text and the tasks it must parse to. */
interface GeneratedPlan {
  readonly text: string;
  readonly tasks: CompilerTask[];
  readonly finalThought: string | undefined;
}

const generatedPlan: fc.Arbitrary<GeneratedPlan> = fc
  .record({
    tasks: fc.array(plannedTask, { maxLength: 6 }),
    end: fc.constantFrom('none', 'join', 'marker', 'both'),
    finalThought: fc.option(fc.constantFrom('all done', 'now  join'), { nil: undefined }),
    blankLines: fc.boolean(),
    crlf: fc.boolean(),
  })
  .map(({ tasks, end, finalThought, blankLines, crlf }) => {
    const lines: string[] = [];
    const expected: CompilerTask[] = [];
    tasks.forEach((task, i) => {
      const idx = i + 1;
      if (task.thought !== undefined) lines.push(`Thought: ${task.thought}`);
      if (blankLines) lines.push('');
      const printed = [
        ...task.positional.map((v) => printValue(v, task.python)),
        ...task.named.map(([key, v]) => `${key}=${printValue(v, task.python)}`),
      ];
      lines.push(`${idx}. ${task.tool}(${printed.join(', ')})`);
      const named = Object.fromEntries(task.named);
      const args =
        task.named.length === 0
          ? [...task.positional]
          : task.positional.length === 0
            ? named
            : [...task.positional, named];
      const made: CompilerTask = { idx, tool: task.tool, args, dependencies: taskNumbersIn(args) };
      expected.push(task.thought === undefined ? made : { ...made, thought: task.thought.trim() });
    });
    if (finalThought !== undefined) lines.push(`Thought: ${finalThought}`);
    if (end === 'join' || end === 'both') lines.push(`${tasks.length + 1}. join()`);
    if (end === 'marker' || end === 'both') lines.push('<END_OF_PLAN>');
    // After the end, anything: it must be ignored (a malformed line would throw).
    if (end !== 'none') lines.push('99. broken(', 'Thought: ignored', '100. late(1)');
    return {
      text: lines.join(crlf ? '\r\n' : '\n'),
      tasks: expected,
      finalThought,
    };
  });

// ---------------------------------------------------------------------------------------
// Helpers

/** What parsing produced: tasks, then either an error line or the diagnostics. */
interface ParseOutcome {
  readonly tasks: CompilerTask[];
  readonly errorLine?: number;
  readonly diagnostics: readonly number[];
  readonly thoughts: readonly string[];
}

async function parseOutcome(
  source: string | AsyncIterable<string> | Iterable<string>,
  onMalformed: 'throw' | 'skip',
): Promise<ParseOutcome> {
  const tasks: CompilerTask[] = [];
  const diagnostics: PlanDiagnostic[] = [];
  const thoughts: string[] = [];
  try {
    for await (const task of parsePlan(source, {
      onMalformed,
      onDiagnostic: (d) => diagnostics.push(d),
      onThought: (t) => thoughts.push(t),
    })) {
      tasks.push(task);
    }
  } catch (error) {
    assert.equal(onMalformed, 'throw', `'skip' threw ${String(error)}`);
    assert.ok(error instanceof PlanParseError, `not a PlanParseError: ${String(error)}`);
    return { tasks, errorLine: error.line, diagnostics: [], thoughts };
  }
  return { tasks, diagnostics: diagnostics.map((d) => d.line), thoughts };
}

// ---------------------------------------------------------------------------------------
// Properties

describe('compiler properties: parsePlan', () => {
  it('on arbitrary text throws only PlanParseError (throw) or nothing (skip), whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(planishText, cutPoints, async (text, points) => {
        for (const mode of ['throw', 'skip'] as const) {
          const whole = await parseOutcome(text, mode);
          const chunked = await parseOutcome(streamOf(cutAt(text, points)), mode);
          assert.deepEqual(chunked, whole);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reads generated plans exactly, however they are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(generatedPlan, cutPoints, async (plan, points) => {
        const whole = await parseOutcome(plan.text, 'throw');
        assert.equal(whole.errorLine, undefined, `line ${whole.errorLine} of\n${plan.text}`);
        assert.deepEqual(whole.tasks, plan.tasks);
        const chunked = await parseOutcome(streamOf(cutAt(plan.text, points)), 'throw');
        assert.deepEqual(chunked, whole);
        const oneByOne = await parseOutcome([...plan.text], 'throw');
        assert.deepEqual(oneByOne, whole);
      }),
      { numRuns: 200 },
    );
  });
});

describe('compiler properties: parseArgs', () => {
  it('throws nothing but ArgsSyntaxError on arbitrary text', () => {
    fc.assert(
      fc.property(planishText, (text) => {
        try {
          parseArgs(text);
        } catch (error) {
          assert.ok(error instanceof ArgsSyntaxError, `${String(error)} for ${text}`);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reads back any JSON value printed as JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const expected: unknown = JSON.parse(JSON.stringify(value));
        assert.deepEqual(parseArgs(JSON.stringify(value)), [expected]);
        assert.deepEqual(parseArgs(`x=${JSON.stringify(value, null, 1)}`), { x: expected });
      }),
      { numRuns: 500 },
    );
  });

  it('reads back any generated argument value printed Python-style', () => {
    fc.assert(
      fc.property(argValue, (value) => {
        assert.deepEqual(parseArgs(printValue(value, true)), [value]);
      }),
      { numRuns: 500 },
    );
  });
});

/** Strings heavy in `$`, braces and digits. */
const dollarText = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('$', '{', '}', '0', '1', '2', '9', 'a', ' '), maxLength: 12 }),
);

/** JSON-like values whose strings are `strings` and whose keys are `keys`. */
function jsonLike(
  strings: fc.Arbitrary<string>,
  keys: fc.Arbitrary<string>,
): fc.Arbitrary<unknown> {
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      strings,
      finiteNumber,
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(keys, tie('value'), { maxKeys: 4, noNullPrototype: true }),
    ),
  })).value;
}

const someObservations = fc
  .array(
    fc.tuple(fc.integer({ min: 0, max: 12 }), jsonLike(fc.string({ maxLength: 5 }), fc.string())),
    {
      maxLength: 6,
    },
  )
  .map((entries) => new Map<number, unknown>(entries));

describe('compiler properties: placeholders', () => {
  it('resolve and references throw nothing but PlanError on arbitrary values', () => {
    fc.assert(
      fc.property(
        jsonLike(dollarText, dollarText),
        someObservations,
        fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
        (value, observations, idx) => {
          for (const run of [
            () => references(value, idx),
            () => resolve(value, observations, idx),
          ]) {
            try {
              run();
            } catch (error) {
              assert.ok(error instanceof PlanError, String(error));
              assert.equal(error.idx, idx);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('resolves every referenced observation that exists, and only fails on missing ones', () => {
    fc.assert(
      fc.property(jsonLike(dollarText, fc.string()), someObservations, (value, observations) => {
        let refs: Set<number>;
        try {
          refs = references(value);
        } catch {
          return; // malformed placeholder: covered above
        }
        const missing = [...refs].filter((n) => !observations.has(n));
        if (missing.length === 0) resolve(value, observations);
        else assert.throws(() => resolve(value, observations), PlanError);
      }),
      { numRuns: 500 },
    );
  });

  it("a value without '$' resolves to itself and refers to nothing", () => {
    const noDollar = fc.string({ maxLength: 12 }).filter((s) => !s.includes('$'));
    const ordinaryKey = fc.string({ maxLength: 6 }).filter((key) => key !== '__proto__');
    fc.assert(
      fc.property(jsonLike(noDollar, ordinaryKey), someObservations, (value, observations) => {
        assert.deepEqual(resolve(value, observations), value);
        assert.deepEqual(references(value), new Set());
      }),
      { numRuns: 500 },
    );
  });

  it('a string that is one placeholder resolves to the observation itself', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.boolean(),
        jsonLike(fc.string(), fc.string()),
        (n, braced, observed) => {
          const text = braced ? `\${${n}}` : `$${n}`;
          assert.equal(resolve(text, new Map([[n, observed]])), observed);
          assert.deepEqual(references([{ a: text }]), new Set([n]));
        },
      ),
    );
  });
});

/** A random DAG: each task adds a base to the observations of the earlier tasks it names. */
interface RandomPlan {
  readonly tasks: {
    readonly base: number;
    readonly placeholders: readonly { readonly dep: number; readonly braced: boolean }[];
    readonly declaredOnly: readonly number[];
    readonly turns: number;
  }[];
  readonly executor: 'asyncPool' | 'inline' | 'asyncPool(2)';
  readonly streamed: boolean;
}

const randomPlan: fc.Arbitrary<RandomPlan> = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc.record({
    tasks: fc.tuple(
      ...Array.from({ length: n }, (_, i) => {
        const earlier = Array.from({ length: i }, (_, j) => j + 1);
        return fc.record({
          base: fc.integer({ min: -100, max: 100 }),
          placeholders: fc
            .subarray(earlier)
            .chain((deps) =>
              fc.tuple(
                ...deps.map((dep) => fc.record({ dep: fc.constant(dep), braced: fc.boolean() })),
              ),
            ),
          declaredOnly: fc.subarray(earlier),
          turns: fc.integer({ min: 0, max: 2 }),
        });
      }),
    ),
    executor: fc.constantFrom('asyncPool', 'inline', 'asyncPool(2)'),
    streamed: fc.boolean(),
  }),
);

function makeExecutor(name: RandomPlan['executor']): Executor {
  if (name === 'inline') return inline();
  return name === 'asyncPool' ? asyncPool() : asyncPool({ concurrency: 2 });
}

describe('compiler properties: scheduleTasks', () => {
  it('computes the same observations as running the plan in order', async () => {
    await fc.assert(
      fc.asyncProperty(randomPlan, async (plan) => {
        const expected = new Map<number, number>();
        plan.tasks.forEach((task, i) => {
          const inputs = task.placeholders.map(({ dep }) => expected.get(dep)!);
          expected.set(
            i + 1,
            inputs.reduce((total, x) => total + x, task.base),
          );
        });
        const finished = new Set<number>();
        const violations: string[] = [];
        const sum: ToolFn = async (args) => {
          const { idx, base, inputs, after, turns } = args as {
            idx: number;
            base: number;
            inputs: number[];
            after: number[];
            turns: number;
          };
          for (const dep of after) {
            if (!finished.has(dep)) violations.push(`${idx} started before ${dep} finished`);
          }
          for (let t = 0; t < turns; t++) await nextTurn();
          finished.add(idx);
          return inputs.reduce((total, x) => total + x, base);
        };
        const tasks: CompilerTask[] = plan.tasks.map((task, i) => ({
          idx: i + 1,
          tool: 'sum',
          args: {
            idx: i + 1,
            base: task.base,
            inputs: task.placeholders.map(({ dep, braced }) => (braced ? `\${${dep}}` : `$${dep}`)),
            after: [...task.declaredOnly, ...task.placeholders.map(({ dep }) => dep)],
            turns: task.turns,
          },
          dependencies: task.declaredOnly,
        }));
        const observations = await scheduleTasks(plan.streamed ? streamOf(tasks) : tasks, {
          tools: { sum },
          executor: makeExecutor(plan.executor),
        });
        assert.deepEqual(violations, []);
        assert.deepEqual(observations, expected);
      }),
      { numRuns: 150 },
    );
  });
});
