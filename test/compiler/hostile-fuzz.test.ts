/**
 * Plan text from a model is hostile: quotes, backslashes, unbalanced brackets, NUL, lone
 * surrogates, placeholders, hostile key names and deep nesting. Whatever it holds, the
 * parsers throw nothing but weft's own errors (never a RangeError from a deep stack),
 * build only plain objects, and finish in time bounded by the input's size: inputs are
 * bounded here, the large pathological ones included, and the work per character is
 * counted in hostile-plan-scan.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { inline, isWeftError } from 'weftjs';
import {
  type CompilerTask,
  type PlanDiagnostic,
  PlanError,
  parseArgs,
  parsePlan,
  references,
  renumber,
  resolve,
  scheduleTasks,
} from 'weftjs/compiler';
import { collect, cut, streamOf } from '../fixtures/compiler-helpers.ts';

const hostilePieces = [
  ...'"\'\\[]{}(),=:$ \t\n\r.-+0123456789eE_ax'.split(''),
  '\0',
  '\uD800',
  '\uDFFF',
  '\uD83D\uDE00',
  '\u2028',
  '$1',
  '$10',
  ['$', '{', '1', '}'].join(''),
  ['$', '{'].join(''),
  '\\u00',
  '\\u0041',
  '\\"',
  "\\'",
  '__proto__',
  'constructor',
  'prototype',
  'True',
  'None',
  '1. ',
  '2. f(',
  'join()',
  'Thought:',
  '<END_OF_PLAN>',
];

/** Random text: fully random, binary with lone surrogates, or built from hostile pieces. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.string({ unit: fc.constantFrom(...hostilePieces), maxLength: 150 }),
);

/** An argument list that opens `depth` brackets of mixed kinds. */
const deepArgs = fc
  .tuple(
    fc.integer({ min: 70, max: 3000 }),
    fc.constantFrom('[', '{"a":', "{'__proto__':", '[{"b":'),
  )
  .map(([depth, open]) => open.repeat(depth));

/** Asserts every object in `value` is an ordinary object with only own data properties. */
function assertPlainObjects(value: unknown, depth = 0): void {
  if (typeof value !== 'object' || value === null) return;
  assert.ok(depth < 200, 'nesting is bounded');
  if (!Array.isArray(value)) {
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.equal((value as { isAdmin?: unknown }).isAdmin, own(value, 'isAdmin'));
  }
  for (const key of Object.keys(value)) {
    assert.ok('value' in Object.getOwnPropertyDescriptor(value, key)!, `${key} is data`);
    assertPlainObjects(own(value, key), depth + 1);
  }
}

function own(value: object, key: string): unknown {
  return Object.getOwnPropertyDescriptor(value, key)?.value;
}

/** Fails unless `error` is one of weft's errors. */
function assertWeftError(error: unknown, input: string): void {
  assert.ok(
    isWeftError(error),
    `expected a WeftError, got ${String(error)} for ${JSON.stringify(input.slice(0, 200))}`,
  );
}

describe('hostile text: parseArgs', () => {
  it('throws only weft errors and builds only plain objects, on any text', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        let args: unknown;
        try {
          args = parseArgs(text);
        } catch (error) {
          assertWeftError(error, text);
          return;
        }
        assertPlainObjects(args);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses deep nesting with a weft error, never a stack overflow', () => {
    fc.assert(
      fc.property(deepArgs, fc.constantFrom('', '1', ']', '}'), (open, close) => {
        const text = open + close;
        assert.throws(
          () => parseArgs(text),
          (error: unknown) => {
            assertWeftError(error, text);
            return /nested too deeply/.test((error as Error).message);
          },
        );
      }),
      { numRuns: 50 },
    );
    assert.throws(() => parseArgs('['.repeat(200_000)), /nested too deeply/);
  });
});

describe('hostile text: parsePlan', () => {
  it('skips what it cannot read and throws nothing, however the text is cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostileText, { maxLength: 6 }),
        fc.array(fc.nat({ max: 1000 }), { maxLength: 10 }),
        async (lines, points) => {
          const text = lines.join('\n');
          const tasks = await collect(parsePlan(streamOf(cut(text, points))));
          for (const task of tasks) {
            assert.ok(Number.isSafeInteger(task.idx), `idx ${task.idx}`);
            assertPlainObjects(task.args);
          }
          assert.deepEqual(tasks, await collect(parsePlan(text)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("throws only PlanParseError with onMalformed: 'throw'", async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, async (line) => {
        const text = `1. f(${line})\n`;
        try {
          await collect(parsePlan(text, { onMalformed: 'throw' }));
        } catch (error) {
          assertWeftError(error, text);
          assert.equal((error as { code?: string }).code, 'WEFT_PLAN_PARSE');
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reads large pathological lines in bounded work, with short messages', async () => {
    const size = 200_000;
    const dollars = '$'.repeat(size);
    const number = `${'1'.repeat(size)}.${'1'.repeat(size)}e+`;
    const assignments = 'a='.repeat(size / 2);
    const backslashes = '\\'.repeat(size);
    // Each line, and the text it keeps as its task's one argument when its arguments are
    // not literals; undefined when it gives no task (no call, or a `${` that is no placeholder).
    const lines: readonly (readonly [string, string | undefined])[] = [
      [`1. f("${'\\"'.repeat(size / 2)}`, undefined], // an escaped quote after another, never closed
      [`1. f(${'('.repeat(size)}`, undefined],
      [`1. f(${dollars})`, dollars],
      [`1. f(${['$', '{'].join('').repeat(size / 2)})`, undefined],
      [`1. f(x=${number})`, `x=${number}`],
      [`1. f(${assignments})`, assignments],
      [`1. f(${' '.repeat(size)}`, undefined],
      [`${'1'.repeat(size)}. f()`, undefined],
      [`1. ${'a'.repeat(size)}`, undefined],
      [`1. f(${')'.repeat(size)} x`, undefined],
      [`1. f(${backslashes})`, backslashes],
      [`Thought: ${'\r'.repeat(size)}`, undefined],
    ];
    for (const [line, kept] of lines) {
      const label = line.slice(0, 40);
      const diagnostics: PlanDiagnostic[] = [];
      const tasks = await collect(
        parsePlan(streamOf(cut(line, [1000, 5000, 100_000])), {
          onDiagnostic: (d) => diagnostics.push(d),
        }),
      );
      if (kept === undefined) {
        assert.equal(tasks.length, 0, label);
        for (const d of diagnostics) assert.equal(d.outcome, 'skipped', label);
      } else {
        assert.deepEqual(tasks, [{ idx: 1, tool: 'f', args: [kept], dependencies: [] }], label);
        assert.deepEqual(
          diagnostics.map((d) => d.outcome),
          ['raw-arguments'],
          label,
        );
      }
      for (const { message } of diagnostics) {
        assert.ok(message.length < 1000, message.slice(0, 300));
      }
    }
  });
});

describe('hostile text: placeholders and deep arguments', () => {
  it('throw only PlanError on any placeholder-like text', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        for (const use of [
          () => references({ x: text }, 5),
          () => resolve([text], new Map([[1, 'one']]), 5),
        ]) {
          try {
            use();
          } catch (error) {
            assert.ok(error instanceof PlanError, `${String(error)} for ${JSON.stringify(text)}`);
          }
        }
        assert.doesNotThrow(() => renumber({ [text]: text }, 1, 3));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuse arguments nested too deep for any walk, before anything runs', async () => {
    // Lists and null-prototype objects in turn, as a planner's JSON could nest them.
    let nested: unknown = '$1';
    for (let i = 0; i < 20_000; i++) nested = i % 2 ? [nested] : { __proto__: null, x: nested };
    const tooDeep = (error: unknown) =>
      error instanceof PlanError && /nest more than 100/.test(error.message);
    assert.throws(() => references(nested, 2), tooDeep);
    assert.throws(() => resolve(nested, new Map([[1, 1]]), 2), tooDeep);
    assert.throws(() => renumber(nested, 1, 1), tooDeep);
    let ran = false;
    const tasks: CompilerTask[] = [
      { idx: 1, tool: 'f', args: {} },
      { idx: 2, tool: 'f', args: { deep: nested } as CompilerTask['args'] },
    ];
    await assert.rejects(
      scheduleTasks(tasks, {
        tools: {
          f: () => {
            ran = true;
          },
        },
        executor: inline(),
      }),
      tooDeep,
    );
    assert.equal(ran, false);
  });
});
