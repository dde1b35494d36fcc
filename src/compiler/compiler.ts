/**
 * The LLMCompiler loop: plan → fetch and execute → join → finish, or replan with what
 * was observed. The planner and joiner are plain async functions — any model client, or
 * a rule — so weft ships the loop, not a model. Tasks start while the plan streams in.
 */
import { refuseTopLevelWork } from '../core/definitions.ts';
import { ValidationError, WeftError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import type { Task } from '../core/task.ts';
import { PlanError } from './errors.ts';
import { type PlanDiagnostic, parsePlan } from './parse-plan.ts';
import { renumber } from './placeholders.ts';
import { type CompilerTask, scheduleTasks, type ToolFn } from './schedule.ts';

/** What the planner is given. */
export interface PlannerInput {
  readonly question: string;
  /** Observations of every round so far, by task number. */
  readonly observations: ReadonlyMap<number, unknown>;
  /** The joiner's reason to replan; undefined on the first round. */
  readonly feedback: string | undefined;
  /** The number the next task should have (tasks of earlier rounds keep theirs). */
  readonly nextIdx: number;
  /** 1 for the first plan, 2 for the first replan, … */
  readonly round: number;
}

/** A planner: plan text in chunks, or tasks, as an async iterable (or an array). */
export type Planner = (
  input: PlannerInput,
) =>
  | AsyncIterable<string | CompilerTask>
  | Iterable<string | CompilerTask>
  | Promise<AsyncIterable<string | CompilerTask> | Iterable<string | CompilerTask> | string>
  | string;

/** What the joiner is given. */
export interface JoinerInput {
  readonly question: string;
  readonly observations: ReadonlyMap<number, unknown>;
  /** The planner's thoughts of this round, in order. */
  readonly thoughts: readonly string[];
  readonly round: number;
}

/** The joiner's decision. */
export type JoinDecision = { readonly finish: unknown } | { readonly replan: string };

/** A joiner: text (`Action: Finish(answer)` / `Action: Replan(feedback)`) or a decision. */
export type Joiner = (input: JoinerInput) => string | JoinDecision | Promise<string | JoinDecision>;

/** Options of {@link LLMCompiler}. */
export interface LLMCompilerOptions {
  readonly planner: Planner;
  readonly tools: Readonly<Record<string, ToolFn | Task>>;
  readonly joiner: Joiner;
  /**
   * Replans allowed after the first plan: at most `maxReplans + 1` plans, each followed by
   * one call of the joiner. `0` runs one plan; a Replan from its joiner ends the loop (see
   * `onReplanLimit`). LLMCompiler's own `max_replans` counts plans, so its
   * `max_replans: 3` is `maxReplans: 2` here.
   * @default 2
   */
  readonly maxReplans?: number;
  /**
   * What a Replan from the joiner after the last allowed plan does.
   * `'finish'`: the loop ends as LLMCompiler's does — the text of that Replan(...) (or the
   * `replan` of the joiner's object) is the answer, and `replanLimitReached` is true.
   * `'throw'`: a ReplanLimitError, carrying the observations.
   * @default 'finish'
   */
  readonly onReplanLimit?: 'finish' | 'throw';
  /** Where tools run. @default the default executor */
  readonly executor?: Executor;
  /** Most tool calls in flight. @default the executor's */
  readonly concurrency?: number;
  /**
   * What to do with a plan line that cannot be read: see `ParsePlanOptions.onMalformed`
   * (`'skip'` keeps a task whose arguments are not literals, with its raw argument text).
   * @default 'skip'
   */
  readonly onMalformed?: 'skip' | 'throw';
}

/** What {@link LLMCompiler.invoke} returns. */
export interface CompilerResult {
  /**
   * The joiner's Finish(...), or, when `replanLimitReached`, the text of its last
   * Replan(...).
   */
  readonly answer: unknown;
  readonly observations: Map<number, unknown>;
  /** Plans made, which is also the joiner's calls: 1 when the first plan sufficed. */
  readonly rounds: number;
  /**
   * True when the joiner still asked to replan after the last plan `maxReplans` allows,
   * and its replan text became the answer (`onReplanLimit: 'finish'`).
   */
  readonly replanLimitReached: boolean;
  /** Plan lines not read as written (skipped, or kept with raw arguments), over all rounds. */
  readonly diagnostics: readonly PlanDiagnostic[];
}

/** The joiner asked to replan once more than `maxReplans` allows, with `onReplanLimit: 'throw'`. */
export class ReplanLimitError extends WeftError {
  override name = 'ReplanLimitError';
  readonly observations: ReadonlyMap<number, unknown>;
  constructor(message: string, observations: ReadonlyMap<number, unknown>) {
    super('WEFT_REPLAN_LIMIT', message);
    this.observations = observations;
  }
}

/**
 * LLMCompiler: plans, executes the plan's tasks in parallel as they stream in, joins,
 * and replans when the joiner says so.
 * @example
 * const compiler = new LLMCompiler({ planner, tools: { search }, joiner, maxReplans: 2 });
 * const { answer, observations, rounds } = await compiler.invoke('Is SF warmer than NYC?');
 */
export class LLMCompiler {
  readonly #options: LLMCompilerOptions;

  constructor(options: LLMCompilerOptions) {
    if (typeof options?.planner !== 'function' || typeof options.joiner !== 'function') {
      throw new ValidationError('LLMCompiler needs { planner, tools, joiner } with functions.');
    }
    if (typeof options.tools !== 'object' || options.tools === null) {
      throw new ValidationError('LLMCompiler needs { tools: { name: function } }.');
    }
    const max = options.maxReplans ?? 2;
    if (!Number.isInteger(max) || max < 0) {
      throw new ValidationError(`LLMCompiler: maxReplans must be a whole number ≥ 0, got ${max}.`);
    }
    const onLimit = options.onReplanLimit ?? 'finish';
    if (onLimit !== 'finish' && onLimit !== 'throw') {
      throw new ValidationError(
        `LLMCompiler: onReplanLimit must be 'finish' or 'throw', got ${String(onLimit)}.`,
      );
    }
    this.#options = options;
  }

  /** Answers `question`. */
  async invoke(
    question: string,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<CompilerResult> {
    refuseTopLevelWork('LLMCompiler.invoke()');
    const { planner, joiner, tools } = this.#options;
    const maxReplans = this.#options.maxReplans ?? 2;
    const observations = new Map<number, unknown>();
    const diagnostics: PlanDiagnostic[] = [];
    let feedback: string | undefined;
    for (let round = 1; ; round++) {
      options.signal?.throwIfAborted();
      const nextIdx = nextIndex(observations);
      const thoughts: string[] = [];
      const planned = await planner({ question, observations, feedback, nextIdx, round });
      const tasks = renumbered(
        toTasks(planned, {
          tools: Object.keys(tools),
          onMalformed: this.#options.onMalformed,
          onDiagnostic: (d) => diagnostics.push(d),
          onThought: (t) => thoughts.push(t),
        }),
        nextIdx,
        thoughts,
      );
      const done = await scheduleTasks(tasks, {
        tools,
        observations,
        executor: this.#options.executor,
        concurrency: this.#options.concurrency,
        signal: options.signal,
        name: `plan:${round}`,
      });
      for (const [idx, value] of done) observations.set(idx, value);
      const decision = parseDecision(await joiner({ question, observations, thoughts, round }));
      if ('finish' in decision) {
        return {
          answer: decision.finish,
          observations,
          rounds: round,
          replanLimitReached: false,
          diagnostics,
        };
      }
      if (round > maxReplans && this.#options.onReplanLimit !== 'throw') {
        // LLMCompiler's last round ends the loop whatever the joiner says, its action's text the answer.
        return {
          answer: decision.replan,
          observations,
          rounds: round,
          replanLimitReached: true,
          diagnostics,
        };
      }
      if (round > maxReplans) {
        throw new ReplanLimitError(
          `LLMCompiler: the joiner asked to replan after ${round} plans (maxReplans ${maxReplans}): ${decision.replan}`,
          observations,
        );
      }
      feedback = decision.replan;
    }
  }
}

type Planned = Awaited<ReturnType<Planner>>;

/** Plan text chunks or task objects, as tasks. */
async function* toTasks(
  planned: Planned,
  options: Parameters<typeof parsePlan>[1],
): AsyncGenerator<CompilerTask> {
  const source: AsyncIterable<string | CompilerTask> | Iterable<string | CompilerTask> =
    typeof planned === 'string' ? [planned] : planned;
  const iterator = (
    Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : (source as Iterable<string | CompilerTask>)[Symbol.iterator]()
  ) as AsyncIterator<string | CompilerTask> | Iterator<string | CompilerTask>;
  const first = await iterator.next();
  if (first.done) return;
  if (typeof first.value !== 'string') {
    yield first.value;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      if (typeof next.value === 'string') {
        throw new PlanError('The planner mixed text and task objects: give one or the other.');
      }
      yield next.value;
    }
  }
  // Text: the first chunk, then the rest, through the incremental parser.
  const text = (async function* () {
    yield first.value as string;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value as string;
    }
  })();
  yield* parsePlan(text, options);
}

/**
 * Tasks numbered from `nextIdx` on: a planner that starts again at 1 on a replan has its
 * round renumbered (placeholders and dependencies too), so indices never collide.
 */
async function* renumbered(
  tasks: AsyncIterable<CompilerTask>,
  nextIdx: number,
  thoughts: string[],
): AsyncGenerator<CompilerTask> {
  let offset: number | undefined;
  let first = 0;
  for await (const task of tasks) {
    if (task.thought !== undefined) thoughts.push(task.thought);
    if (offset === undefined) {
      first = task.idx;
      offset = task.idx < nextIdx ? nextIdx - task.idx : 0;
    }
    if (offset === 0) {
      yield task;
      continue;
    }
    yield {
      ...task,
      idx: task.idx + offset,
      args: renumber(task.args ?? {}, first, offset) as CompilerTask['args'],
      dependencies: task.dependencies?.map((dep) => (dep >= first ? dep + offset! : dep)),
    };
  }
}

/**
 * The joiner's text as a decision: the last `Action: Finish(...)` or `Action: Replan(...)`,
 * with everything inside the outer parentheses (nested ones included) as the value.
 */
export function parseDecision(output: string | JoinDecision): JoinDecision {
  if (typeof output === 'object' && output !== null) {
    // Own keys only: a joiner's object may come from a model's JSON.
    if (Object.hasOwn(output, 'finish')) return { finish: (output as { finish: unknown }).finish };
    if (Object.hasOwn(output, 'replan')) return { replan: (output as { replan: string }).replan };
  }
  if (typeof output !== 'string') {
    throw new ValidationError(
      'The joiner must return text with Action: Finish(...) or Action: Replan(...), or { finish } / { replan }.',
    );
  }
  // The last `Action: X(` line decides; without one, the first bare Finish( / Replan(,
  // which is the outermost (a Replan( inside a Finish(...) is the answer's text).
  const declared = [...output.matchAll(/Action\s*:\s*(Finish|Replan)\s*\(/g)];
  const last = declared.at(-1) ?? /\b(Finish|Replan)\s*\(/.exec(output) ?? undefined;
  if (!last) {
    throw new ValidationError(
      `The joiner's answer has no Finish(...) or Replan(...): '${output.slice(0, 200)}'.`,
    );
  }
  const start = last.index! + last[0].length;
  let depth = 1;
  let end = start;
  let quote: string | undefined;
  for (; end < output.length; end++) {
    const char = output[end];
    if (quote) {
      if (char === '\\') end++;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'") {
      // Only a quote that opens a string (not an apostrophe in a word).
      if (/[\s(,]/.test(output[end - 1] ?? ' ') || end === start) quote = char;
      continue;
    }
    if (char === '(') depth++;
    else if (char === ')' && --depth === 0) break;
  }
  // An unclosed call takes the rest of the text.
  const inner = output.slice(start, depth === 0 ? end : undefined).trim();
  return last[1] === 'Finish' ? { finish: inner } : { replan: inner };
}

/** The index after the highest observed one (spreading the keys into Math.max overflows the stack past ~100k). */
function nextIndex(observations: ReadonlyMap<number, unknown>): number {
  let highest = 0;
  for (const idx of observations.keys()) if (idx > highest) highest = idx;
  return highest + 1;
}
