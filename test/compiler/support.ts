/** Helpers shared by the compiler test files of this folder. */
import assert from 'node:assert/strict';
import { PlanError, type ToolArgs, type ToolFn } from 'weftjs/compiler';

/** Deadlock tests fail after this long instead of hanging the run. */
export const guard = { timeout: 10_000 };

/** Named arguments of a tool call. */
export function named<T>(args: ToolArgs): T {
  assert.ok(!Array.isArray(args), 'expected named arguments');
  return args as T;
}

/** Positional arguments of a tool call. */
export function positional<T extends unknown[]>(args: ToolArgs): T {
  assert.ok(Array.isArray(args), 'expected positional arguments');
  return args as unknown as T;
}

/** Tools that count their calls; `echo` returns its arguments, `value` its `v`. */
export function countingTools() {
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
export async function rejectsWithPlanError(
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
