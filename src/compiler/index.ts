/**
 * `weftjs/compiler`: LLMCompiler on weft — a dependency-aware task fetching unit over the
 * engine's dag with `$N` placeholders, an incremental parser for streamed plans, and the
 * plan → execute → join → replan loop.
 *
 * `executorFromEnv` makes the executor `WEFT_EXECUTOR` chooses, which is also the default
 * executor: importing `weftjs/compiler` alone is enough to run tools on it.
 */
export { executorFromEnv } from '../executors/default.ts';
export { parseArgs } from './args.ts';
export {
  type CompilerResult,
  type JoinDecision,
  type Joiner,
  type JoinerInput,
  LLMCompiler,
  type LLMCompilerOptions,
  type Planner,
  type PlannerInput,
  parseDecision,
  ReplanLimitError,
} from './compiler.ts';
export { ArgsSyntaxError, PlanError, PlanParseError } from './errors.ts';
export { type ParsePlanOptions, type PlanDiagnostic, parsePlan } from './parse-plan.ts';
export { references, renumber, resolve } from './placeholders.ts';
export {
  type CompilerTask,
  isFailure,
  type ScheduleOptions,
  scheduleTasks,
  type ToolArgs,
  type ToolFn,
} from './schedule.ts';
