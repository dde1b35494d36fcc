/**
 * LLMCompiler's task fetching unit over the engine's `dag`: each task starts in the turn
 * its last dependency finishes (no polling), with its `$N` placeholders resolved from the
 * observations. Tasks may arrive as an async iterable — a plan still being streamed from
 * a model — and start while later ones are being planned.
 */

import { type DagNode, dag } from '../core/dag.ts';
import { isWeftError, ValidationError } from '../core/errors.ts';
import type { EventBus } from '../core/events.ts';
import type { Executor } from '../core/executor.ts';
import type { KeyScope } from '../core/keys.ts';
import type { Task, TaskContext } from '../core/task.ts';
import { PlanError } from './errors.ts';
import { references, resolve } from './placeholders.ts';

/** Arguments of a tool call: named (an object) or positional (an array, with named ones last as an object). */
export type ToolArgs = Readonly<Record<string, unknown>> | readonly unknown[];

/**
 * A tool: called with the task's resolved arguments (an object of named ones, or an array
 * of positional ones). Its parameter may be typed as the shape the tool expects.
 */
// biome-ignore lint/suspicious/noExplicitAny: the plan decides what arrives; the tool declares what it expects.
export type ToolFn = (args: any, ctx: TaskContext) => unknown;

/** One task of a plan. */
export interface CompilerTask {
  /** The task's number; placeholders `$idx` refer to it. */
  readonly idx: number;
  /** Name of the tool to call. */
  readonly tool: string;
  /** Its arguments, with `$N` / `${N}` placeholders anywhere. @default {} */
  readonly args?: ToolArgs;
  /**
   * Tasks it waits for. Scheduling waits for the union of these and the tasks its
   * placeholders name, so those need not be listed; `parsePlan` lists exactly them.
   * @default []
   */
  readonly dependencies?: readonly number[];
  /** The planner's thought before the task, if any. */
  readonly thought?: string;
}

/** Options of {@link scheduleTasks}. */
export interface ScheduleOptions {
  /** Tools by name: functions or weft tasks (tasks can run on threads and processes). */
  readonly tools: Readonly<Record<string, ToolFn | Task>>;
  /** Observations of earlier rounds: placeholders may refer to them. @default none */
  readonly observations?: ReadonlyMap<number, unknown>;
  /**
   * `false` (default): a failed task fails only its dependents (with the root cause);
   * independent tasks finish. `true`: the first failure stops everything.
   * @default false
   */
  readonly failFast?: boolean;
  /** Where tools run. @default the default executor */
  readonly executor?: Executor;
  /** Most tasks in flight. @default the executor's */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** Key scope, for recording inside a run. */
  readonly scope?: KeyScope;
  /** Name of this plan in keys and progress. @default 'plan' */
  readonly name?: string;
  readonly events?: EventBus;
}

/**
 * Runs a plan's tasks as soon as their dependencies are done and returns every
 * observation by task number; a failed task's observation is its error (unless
 * `failFast`). A bad plan — unknown tool, reference to a missing, self or later task,
 * malformed placeholder — is a PlanError naming the task, before anything runs (for a
 * streamed plan: as soon as the task arrives).
 *
 * @example
 * const observations = await scheduleTasks([
 *   { idx: 1, tool: 'sleep_next', args: { t: 1 } },
 *   { idx: 2, tool: 'sleep_next', args: { t: 2 } },
 *   { idx: 3, tool: 'sleep_total', args: { time1: '$1', time2: '$2' } },
 * ], { tools: { sleep_next, sleep_total } });   // Map { 1 => 1, 2 => 2, 3 => 3 }
 */
export async function scheduleTasks(
  tasks: Iterable<CompilerTask> | AsyncIterable<CompilerTask>,
  options: ScheduleOptions,
): Promise<Map<number, unknown>> {
  const checker = new PlanChecker(options);
  const earlier = options.observations ?? new Map<number, unknown>();
  let nodes: Iterable<DagNode<ToolArgs>> | AsyncIterable<DagNode<ToolArgs>>;
  if (isAsyncIterable(tasks)) {
    nodes = checkedStream(tasks, checker, earlier);
  } else {
    const all = [...tasks];
    checker.plan(all);
    nodes = all.map((task) => toNode(checker.check(task), earlier));
  }
  const results = await dag(nodes, {
    executor: options.executor,
    concurrency: options.concurrency,
    signal: options.signal,
    scope: options.scope,
    events: options.events,
    name: options.name ?? 'plan',
    onError: options.failFast ? 'throw' : 'collect',
  });
  const observations = new Map<number, unknown>();
  for (const task of checker.accepted) observations.set(task.idx, results.get(String(task.idx)));
  return observations;
}

/** A task whose references were checked: its dependencies are complete. */
interface CheckedTask extends CompilerTask {
  readonly deps: readonly number[];
  readonly fn: ToolFn | Task;
}

/** Checks each task against the tasks before it. */
class PlanChecker {
  readonly accepted: CheckedTask[] = [];
  readonly #seen = new Set<number>();
  readonly #options: ScheduleOptions;
  /** Every idx of a plan given whole (unknown for a streamed one). */
  #planned: ReadonlySet<number> | undefined;

  /** Tells the checker the whole plan, for exact messages. */
  plan(tasks: readonly CompilerTask[]): void {
    this.#planned = new Set(tasks.map((task) => task?.idx));
  }

  constructor(options: ScheduleOptions) {
    if (typeof options?.tools !== 'object' || options.tools === null) {
      throw new ValidationError('scheduleTasks needs { tools: { name: function } }.');
    }
    this.#options = options;
  }

  check(task: CompilerTask): CheckedTask {
    const idx = task?.idx;
    if (!Number.isSafeInteger(idx) || idx < 0) {
      throw new PlanError(`A task needs a whole-number idx, got ${String(idx)}.`);
    }
    if (this.#seen.has(idx) || this.#options.observations?.has(idx)) {
      throw new PlanError(`Task ${idx} appears twice: every task needs its own idx.`, idx);
    }
    const fn = Object.hasOwn(this.#options.tools, task.tool)
      ? this.#options.tools[task.tool]
      : undefined;
    if (fn === undefined) {
      throw new PlanError(
        `Task ${idx} calls the unknown tool '${task.tool}'; the tools are ${Object.keys(this.#options.tools).join(', ') || 'none'}.`,
        idx,
      );
    }
    const deps = new Set<number>(references(task.args ?? {}, idx));
    for (const dep of task.dependencies ?? []) deps.add(dep);
    for (const dep of deps) {
      if (dep === idx) throw new PlanError(`Task ${idx} depends on itself.`, idx);
      if (this.#options.observations?.has(dep)) continue;
      if (!this.#seen.has(dep)) {
        throw new PlanError(
          dep > idx
            ? this.#planned?.has(dep) === false
              ? `Task ${idx} depends on task ${dep}, which is not in the plan.`
              : `Task ${idx} depends on task ${dep}, which comes later: a task may only use earlier ones.`
            : `Task ${idx} depends on task ${dep}, which is not in the plan.`,
          idx,
        );
      }
    }
    this.#seen.add(idx);
    const checked: CheckedTask = { ...task, deps: [...deps], fn };
    this.accepted.push(checked);
    return checked;
  }
}

function toNode(task: CheckedTask, earlier: ReadonlyMap<number, unknown>): DagNode<ToolArgs> {
  const own = task.deps.filter((dep) => !earlier.has(dep));
  return {
    id: String(task.idx),
    task: task.fn as DagNode<ToolArgs>['task'],
    dependencies: own.map(String),
    input: (done) => {
      const observations = new Map<number, unknown>(earlier);
      for (const dep of own) observations.set(dep, done.get(String(dep)));
      return resolve(task.args ?? {}, observations, task.idx);
    },
  };
}

async function* checkedStream(
  tasks: AsyncIterable<CompilerTask>,
  checker: PlanChecker,
  earlier: ReadonlyMap<number, unknown>,
): AsyncGenerator<DagNode<ToolArgs>> {
  for await (const task of tasks) yield toNode(checker.check(task), earlier);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<CompilerTask> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

/** True when an observation is a failure (the task's error, in collect mode). */
export function isFailure(observation: unknown): observation is Error {
  return observation instanceof Error || isWeftError(observation);
}
