/**
 * Plan lines whose arguments are not literals, as LLMCompiler's own movie prompt writes
 * them (`5. search(Austin Powers)`): the task is kept, the text between its parentheses
 * exactly as written is its one positional argument, and a diagnostic says so. LLMCompiler
 * reads the arguments with Python's `literal_eval` and, when that fails, passes the text
 * captured between the parentheses untouched — spaces included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inline } from 'weftjs';
import {
  type CompilerTask,
  LLMCompiler,
  type PlanDiagnostic,
  PlanParseError,
  parsePlan,
  scheduleTasks,
  type ToolFn,
} from 'weftjs/compiler';
import { collect, streamOf } from '../fixtures/compiler-helpers.ts';

/** Parses `text` whole, and one character at a time; both must agree. */
async function parsed(
  text: string,
): Promise<{ tasks: CompilerTask[]; diagnostics: PlanDiagnostic[] }> {
  const diagnostics: PlanDiagnostic[] = [];
  const tasks = await collect(parsePlan(text, { onDiagnostic: (d) => diagnostics.push(d) }));
  const again: PlanDiagnostic[] = [];
  const byChar = await collect(
    parsePlan(streamOf([...text]), { onDiagnostic: (d) => again.push(d) }),
  );
  assert.deepEqual(byChar, tasks, 'the same tasks one character at a time');
  assert.deepEqual(again, diagnostics, 'the same diagnostics one character at a time');
  return { tasks, diagnostics };
}

const moviePlan = [
  'Thought: I need to find all movies in the Question.',
  '1. search("Mission Impossible")',
  "2. search('American Beauty')",
  'Thought: I need to find all movies in the Options.',
  '3. search(Austin Powers)',
  '4. search(In Cold Blood)',
  '5. join()<END_OF_PLAN>',
].join('\n');

describe('porting: plan lines whose arguments are not literals', () => {
  it('keeps the task, with the text between the parentheses as its one argument', async () => {
    const { tasks, diagnostics } = await parsed(moviePlan);
    assert.deepEqual(tasks, [
      {
        idx: 1,
        tool: 'search',
        args: ['Mission Impossible'],
        dependencies: [],
        thought: 'I need to find all movies in the Question.',
      },
      { idx: 2, tool: 'search', args: ['American Beauty'], dependencies: [] },
      {
        idx: 3,
        tool: 'search',
        args: ['Austin Powers'],
        dependencies: [],
        thought: 'I need to find all movies in the Options.',
      },
      { idx: 4, tool: 'search', args: ['In Cold Blood'], dependencies: [] },
    ]);
    assert.deepEqual(
      diagnostics.map((d) => [d.line, d.text, d.outcome]),
      [
        [5, '3. search(Austin Powers)', 'raw-arguments'],
        [6, '4. search(In Cold Blood)', 'raw-arguments'],
      ],
    );
    const [first] = diagnostics;
    assert.match(first!.message, /^Plan line 5 \(3\. search\(Austin Powers\)\)/);
    assert.match(first!.message, /not literals/);
    assert.match(first!.message, /quote text/, 'the message says how to write a literal');
    assert.match(first!.message, /task 3 gets the text between its parentheses/);
  });

  it('keeps the raw text exactly: spaces, commas, quotes and inner parentheses', async () => {
    const cases: [written: string, argument: string][] = [
      ['search( Austin Powers )', ' Austin Powers '],
      ['search(\tRosetta)', '\tRosetta'],
      ['search(Rosetta, Egypt)', 'Rosetta, Egypt'],
      ['search("Rosetta", Egypt)', '"Rosetta", Egypt'],
      ['search(Star Wars (1977))', 'Star Wars (1977)'],
      ['search(query=Austin Powers)', 'query=Austin Powers'],
      ["search(it's here)", "it's here"],
      ['search("unclosed)', '"unclosed'],
      ['search(1 2)', '1 2'],
      ['search($)', '$'],
    ];
    for (const [written, argument] of cases) {
      const { tasks, diagnostics } = await parsed(`1. ${written}  \r\n2. join()`);
      assert.deepEqual(tasks, [{ idx: 1, tool: 'search', args: [argument], dependencies: [] }]);
      assert.deepEqual(
        diagnostics.map((d) => d.outcome),
        ['raw-arguments'],
        written,
      );
    }
  });

  it('reads literal arguments as before, without a diagnostic', async () => {
    const { tasks, diagnostics } = await parsed(
      '1. f()\n2. f( )\n3. f(1, "two", None, [True], {a: 1})\n4. f(q="x", n=2)\n5. f(1, k=$1)',
    );
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      tasks.map((task) => task.args),
      [[], [], [1, 'two', null, [true], { a: 1 }], { q: 'x', n: 2 }, [1, { k: '$1' }]],
    );
  });

  it('still skips lines that are not tool(arguments) or call an unknown tool', async () => {
    const diagnostics: PlanDiagnostic[] = [];
    const tasks = await collect(
      parsePlan('1. search(oops\n2. serach(Rosetta)\n3. search x\n4. search(Rosetta)', {
        tools: ['search'],
        onDiagnostic: (d) => diagnostics.push(d),
      }),
    );
    assert.deepEqual(tasks, [{ idx: 4, tool: 'search', args: ['Rosetta'], dependencies: [] }]);
    assert.deepEqual(
      diagnostics.map((d) => [d.line, d.outcome]),
      [
        [1, 'skipped'],
        [2, 'skipped'],
        [3, 'skipped'],
        [4, 'raw-arguments'],
      ],
    );
  });

  it("is a PlanParseError with onMalformed: 'throw', as any line not read as written", async () => {
    const seen: CompilerTask[] = [];
    await assert.rejects(
      (async () => {
        for await (const task of parsePlan(moviePlan, { onMalformed: 'throw' })) seen.push(task);
      })(),
      (error: unknown) => {
        assert.ok(error instanceof PlanParseError);
        assert.equal(error.line, 5);
        assert.equal(error.text, '3. search(Austin Powers)');
        assert.match(error.message, /arguments cannot be read/);
        return true;
      },
    );
    assert.deepEqual(
      seen.map((task) => task.idx),
      [1, 2],
    );
  });

  it('resolves placeholders inside the raw text when the task runs', async () => {
    const { tasks } = await parsed('1. title(1)\n2. title(2)\n3. search(films like $1 or ${2})');
    assert.deepEqual(tasks[2], {
      idx: 3,
      tool: 'search',
      args: ['films like $1 or ${2}'],
      dependencies: [1, 2],
    });
    const tools: Record<string, ToolFn> = {
      title: ([n]: [number]) => (n === 1 ? 'Rosetta' : 'In Cold Blood'),
      search: ([query]: [string]) => query.toUpperCase(),
    };
    const observations = await scheduleTasks(tasks, { tools, executor: inline() });
    assert.equal(observations.get(3), 'FILMS LIKE ROSETTA OR IN COLD BLOOD');
  });

  it('skips a line whose raw text holds a malformed placeholder, as before, so the plan still runs', async () => {
    const { tasks, diagnostics } = await parsed(
      '1. search("Austin Powers")\n2. search(price in ${currency})\n3. join()',
    );
    assert.deepEqual(tasks, [
      { idx: 1, tool: 'search', args: ['Austin Powers'], dependencies: [] },
    ]);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]!.outcome, 'skipped');
    assert.equal(diagnostics[0]!.line, 2);
    const observations = await scheduleTasks(tasks, {
      tools: { search: () => 'found' },
      executor: inline(),
    });
    assert.deepEqual([...observations], [[1, 'found']]);
  });

  it('runs the movie plan in LLMCompiler, reporting the raw lines in the result', async () => {
    const queries: unknown[] = [];
    const compiler = new LLMCompiler({
      planner: () => streamOf(moviePlan.match(/[\s\S]{1,7}/g)!),
      tools: {
        search: ([query]: [string]) => {
          queries.push(query);
          return `about ${query}`;
        },
      },
      joiner: ({ observations }) => `Action: Finish(${String(observations.get(3))})`,
      executor: inline(),
    });
    const result = await compiler.invoke('Which movie is similar?');
    assert.equal(result.answer, 'about Austin Powers');
    assert.deepEqual(queries.sort(), [
      'American Beauty',
      'Austin Powers',
      'In Cold Blood',
      'Mission Impossible',
    ]);
    assert.deepEqual(
      result.diagnostics.map((d) => [d.line, d.outcome]),
      [
        [5, 'raw-arguments'],
        [6, 'raw-arguments'],
      ],
    );
  });
});
