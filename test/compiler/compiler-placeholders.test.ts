/** The compiler's placeholders: `$N` and `${N}` references to earlier observations. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asyncPool } from 'weftjs';
import {
  type CompilerTask,
  PlanError,
  references,
  renumber,
  resolve,
  scheduleTasks,
  type ToolFn,
} from 'weftjs/compiler';
import { deferred, nextTurn } from '../fixtures/compiler-helpers.ts';
import { countingTools, guard, positional, rejectsWithPlanError } from './support.ts';

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
