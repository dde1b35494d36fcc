/**
 * At the replan limit LLMCompiler does what the original does: its last round ends the
 * loop whatever the joiner says, and the answer is the text inside the joiner's last
 * action — the Replan(...)'s text. `onReplanLimit: 'throw'` asks for ReplanLimitError
 * instead. `maxReplans` counts replans: `maxReplans + 1` plans at most, each joined once,
 * and `rounds` counts the plans made.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inline, isWeftError, ValidationError } from 'weftjs';
import {
  type Joiner,
  LLMCompiler,
  type LLMCompilerOptions,
  ReplanLimitError,
  type ToolFn,
} from 'weftjs/compiler';

const add: ToolFn = (args: number[]) => args.reduce((total, value) => total + value, 0);

/** A compiler whose planner plans one task per round; counts the planner's and joiner's calls. */
function counted(joiner: Joiner, options: Partial<LLMCompilerOptions> = {}) {
  const calls = { plans: 0, joins: 0 };
  const compiler = new LLMCompiler({
    planner: ({ nextIdx }) => {
      calls.plans++;
      return `${nextIdx}. add(${nextIdx})`;
    },
    tools: { add },
    joiner: (input) => {
      calls.joins++;
      return joiner(input);
    },
    executor: inline(),
    ...options,
  });
  return { compiler, calls };
}

const alwaysReplan: Joiner = ({ round }) =>
  `Thought: not enough yet (round ${round}).\nAction: Replan(look again (round ${round}))`;

describe('porting: the replan limit', () => {
  it("finishes by default with the last Replan's text as the answer", async () => {
    for (const maxReplans of [0, 1, 2, 3]) {
      const { compiler, calls } = counted(alwaysReplan, { maxReplans });
      const result = await compiler.invoke('q');
      const plans = maxReplans + 1;
      assert.equal(result.answer, `look again (round ${plans})`, `maxReplans ${maxReplans}`);
      assert.equal(result.replanLimitReached, true);
      assert.equal(result.rounds, plans);
      assert.deepEqual(calls, { plans, joins: plans });
      assert.equal(result.observations.size, plans);
    }
  });

  it('allows two replans (three plans) when maxReplans is not given', async () => {
    const { compiler, calls } = counted(alwaysReplan);
    const result = await compiler.invoke('q');
    assert.equal(result.rounds, 3);
    assert.deepEqual(calls, { plans: 3, joins: 3 });
    assert.equal(result.answer, 'look again (round 3)');
  });

  it("takes a joiner object's replan text as the answer too", async () => {
    const { compiler } = counted(() => ({ replan: 'need a search tool' }), { maxReplans: 0 });
    const result = await compiler.invoke('q');
    assert.equal(result.answer, 'need a search tool');
    assert.equal(result.replanLimitReached, true);
    assert.equal(result.rounds, 1);
  });

  it('is not reached when the joiner finishes in the last allowed round', async () => {
    const { compiler, calls } = counted(
      ({ round }) => (round < 2 ? 'Action: Replan(more)' : 'Action: Finish(42)'),
      { maxReplans: 1 },
    );
    const result = await compiler.invoke('q');
    assert.equal(result.answer, '42');
    assert.equal(result.replanLimitReached, false);
    assert.equal(result.rounds, 2);
    assert.deepEqual(calls, { plans: 2, joins: 2 });
    assert.deepEqual(
      result.observations,
      new Map([
        [1, 1],
        [2, 2],
      ]),
    );
  });

  it("throws ReplanLimitError only with onReplanLimit: 'throw'", async () => {
    for (const maxReplans of [0, 2]) {
      const { compiler, calls } = counted(alwaysReplan, { maxReplans, onReplanLimit: 'throw' });
      await assert.rejects(compiler.invoke('q'), (error: unknown) => {
        assert.ok(error instanceof ReplanLimitError);
        assert.ok(isWeftError(error, 'WEFT_REPLAN_LIMIT'));
        assert.match(error.message, new RegExp(`look again \\(round ${maxReplans + 1}\\)`));
        assert.equal(error.observations.size, maxReplans + 1);
        return true;
      });
      assert.deepEqual(calls, { plans: maxReplans + 1, joins: maxReplans + 1 });
    }
  });

  it("refuses an onReplanLimit other than 'finish' or 'throw'", () => {
    assert.throws(
      () =>
        new LLMCompiler({
          planner: () => '',
          tools: { add },
          joiner: () => ({ finish: 1 }),
          onReplanLimit: 'stop' as 'finish',
        }),
      (error: unknown) => error instanceof ValidationError && /onReplanLimit/.test(error.message),
    );
  });
});
