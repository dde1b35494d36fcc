/** LLMCompiler: planner, scheduler and joiner over rounds, replans included. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inline, isWeftError } from 'weftjs';
import {
  type CompilerTask,
  type JoinerInput,
  LLMCompiler,
  PlanError,
  type PlannerInput,
  PlanParseError,
  parseDecision,
  ReplanLimitError,
  type ToolFn,
} from 'weftjs/compiler';
import { cut, deferred, nextTurn, streamOf } from '../fixtures/compiler-helpers.ts';
import { guard, positional } from './support.ts';

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
        onReplanLimit: 'throw',
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
