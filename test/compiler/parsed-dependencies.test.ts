/**
 * Parsed plan tasks carry their `dependencies`, as LLMCompiler's parser computes them: the
 * task numbers that `$N` / `${N}` in their arguments name. Scheduling waits for the union
 * of the declared dependencies and those found in placeholders, so listing them changes
 * nothing there: the same observations, the same errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { inline } from 'weftjs';
import { type CompilerTask, PlanError, parsePlan, scheduleTasks } from 'weftjs/compiler';
import { collect } from '../fixtures/compiler-helpers.ts';

describe('porting: parsed tasks carry their dependencies', () => {
  it('lists the tasks named by placeholders at any depth, ascending, once each', async () => {
    const tasks = await collect(
      parsePlan(
        [
          '1. search("SF")',
          '2. search(query="NYC", limit=3)',
          '3. compare($2, ${1})',
          '4. report(["$3", {"all": "${1} and $2 and $1"}], note="$10 is not $1")',
          '5. echo("cost: $ 5", "${", "$x")',
          '6. join()',
        ].join('\n'),
      ),
    );
    assert.deepEqual(
      tasks.map((task) => [task.idx, task.dependencies]),
      [
        [1, []],
        [2, []],
        [3, [1, 2]],
        [4, [1, 2, 3, 10]],
        [5, []],
      ],
    );
  });

  it('keeps a reference to the task itself or a later one, which scheduling refuses', async () => {
    const tasks = await collect(parsePlan('1. f(1)\n2. f($2)\n3. f($4)\n4. f(2)'));
    assert.deepEqual(
      tasks.map((task) => task.dependencies),
      [[], [2], [4], []],
    );
    await assert.rejects(
      scheduleTasks(tasks, { tools: { f: () => 1 }, executor: inline() }),
      (error: unknown) =>
        error instanceof PlanError && /Task 2 depends on itself/.test(error.message),
    );
  });

  it('schedules the same with the parsed dependencies as without them', async () => {
    // Plans with references to earlier, later, missing and the same tasks, braced or not,
    // alone or inside text, and malformed ones: scheduling must come out the same.
    const style = { braced: fc.boolean(), inText: fc.boolean() };
    const reference = fc.oneof(
      // Mostly an earlier task (`back` lines up), so that most plans are valid and run.
      { weight: 8, arbitrary: fc.record({ back: fc.integer({ min: 1, max: 3 }), ...style }) },
      { weight: 1, arbitrary: fc.record({ to: fc.integer({ min: 0, max: 7 }), ...style }) },
      { weight: 1, arbitrary: fc.constantFrom('${x}', '${', '$', 'plain') },
    );
    const plan = fc.array(fc.array(reference, { maxLength: 3 }), { minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(plan, async (lines) => {
        const text = lines
          .map((refs, i) => {
            const printed = refs.map((ref) => {
              if (typeof ref === 'string') return JSON.stringify(ref);
              const to = 'to' in ref ? ref.to : i + 1 - ref.back;
              if (to < 1 && 'back' in ref) return String(to);
              const placeholder = ref.braced ? `\${${to}}` : `$${to}`;
              return ref.inText ? JSON.stringify(`v=${placeholder}`) : placeholder;
            });
            return `${i + 1}. sum(${[i + 1, ...printed].join(', ')})`;
          })
          .join('\n');
        const parsed = await collect(parsePlan(text));
        assert.equal(parsed.length, lines.length, text);
        const stripped: CompilerTask[] = parsed.map(({ dependencies: _, ...task }) => task);
        assert.deepEqual(await outcome(parsed), await outcome(stripped), text);
      }),
      { numRuns: 300 },
    );
  });
});

/** What scheduling `tasks` gives: the observations, or the error's name and message. */
async function outcome(tasks: CompilerTask[]): Promise<unknown> {
  const sum = (args: unknown[]) =>
    args.reduce<number>((total, value) => total + (typeof value === 'number' ? value : 1), 0);
  try {
    return await scheduleTasks(tasks, { tools: { sum }, executor: inline() });
  } catch (error) {
    assert.ok(error instanceof PlanError, String(error));
    return { name: error.name, message: error.message, idx: error.idx };
  }
}
