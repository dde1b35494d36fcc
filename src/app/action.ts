/**
 * Burr actions: the steps of an application. Each declares the state keys it reads and
 * writes and returns a new immutable State. Function actions come from {@link action};
 * class actions extend {@link Action}. `bind` and `withName` derive new actions without
 * touching the original, so one definition can run under several names and parameters.
 */

import { type CallSite, callSite, siteOfFrame, stackFrames } from '../core/call-site.ts';
import { StateError, ValidationError } from '../core/errors.ts';
import {
  type DefinitionRef,
  definitionRef,
  moduleReference,
  register,
  registered,
} from '../core/registry.ts';
import { State } from '../core/state.ts';
import type { ApplicationContext } from './context.ts';
import { changesOf } from './task-states.ts';

/**
 * The state an action sees. Keys are named at run time (by the graph), so values are
 * typed loosely: `state.get('prompt')` needs no cast.
 */
// biome-ignore lint/suspicious/noExplicitAny: state keys and values are only known at run time.
export type AppState = State<Record<string, any>>;

/** Runtime inputs and bound parameters, by name. */
// biome-ignore lint/suspicious/noExplicitAny: inputs are user values destructured by name.
export type Inputs = Readonly<Record<string, any>>;

/** What a step returns besides its state (Burr's `result`); `{}` for most actions. */
export type ActionResult = Readonly<Record<string, unknown>>;

/** A new state, or a result and a new state. */
export type StepOutput = AppState | readonly [ActionResult, AppState];

/**
 * How a worker finds an action again: a function action registered by its definition
 * site, a class exported by its module, or one derived from either by `bind`/`withName`.
 * Plain data with portable module references, so a worker on another machine with the
 * same checkout can rebuild it.
 */
export type ActionRef =
  | { readonly kind: 'site'; readonly definition: DefinitionRef }
  | {
      readonly kind: 'class';
      /** The defining module, as {@link moduleReference} names it. */
      readonly module: string;
      readonly className: string;
      readonly fields: Readonly<Record<string, unknown>>;
    }
  | {
      readonly kind: 'derived';
      readonly base: ActionRef;
      readonly name: string | undefined;
      readonly bound: Inputs;
    };

/**
 * A step of an application. Subclass it for class-based actions: declare `reads` and
 * `writes`, then either implement `run` (given the state restricted to `reads`) and
 * `update` (given the result and the whole state), or override `runAndUpdate`.
 *
 * @example
 * class Count extends Action {
 *   get reads() { return ['count']; }
 *   get writes() { return ['count']; }
 *   run(state) { return { count: state.get('count') + 1 }; }
 *   update(result, state) { return state.update(result); }
 * }
 */
export abstract class Action {
  /** Where `new` was called, so that a worker can import the module that defines the class. */
  readonly #createdIn: string | undefined;

  constructor() {
    // Internal actions are found another way; user classes are found through their module.
    this.#createdIn = isInternal(new.target) ? undefined : classModule(new.target);
  }

  /** State keys the action reads. */
  abstract get reads(): readonly string[];
  /**
   * State keys the action writes: every one must be in its new state, and no other may be
   * added or changed. Deleting a key (`state.wipe`) needs no declaration, as in Burr.
   */
  abstract get writes(): readonly string[];

  /** Runtime inputs it requires (a missing one is an error naming it). */
  get inputs(): readonly string[] {
    return [];
  }

  /** Runtime inputs it accepts when given. */
  get optionalInputs(): readonly string[] {
    return [];
  }

  /** The action's name in its graph; set by `withActions({ name: action })` or `withName`. */
  get name(): string | undefined {
    return undefined;
  }

  /** Parameters fixed by `bind`, passed with the inputs. */
  get bound(): Inputs {
    return noInputs;
  }

  /** True when the action runs asynchronously (Burr's `is_async`); weft awaits either form. */
  isAsync(): boolean {
    return false;
  }

  /**
   * True when the action orchestrates work of its own (a parallel action runs
   * sub-applications and sends their actions to the executor): the application then runs
   * it in its own thread, where persisters and trackers live, even when its other actions
   * go to workers. An action that answers false is a leaf, and may be run on a worker.
   * @default false
   */
  get orchestrates(): boolean {
    return false;
  }

  /** Two-step form: computes a result from the state restricted to `reads`. */
  run(_state: AppState, _inputs: Inputs, context: ApplicationContext): unknown {
    throw new ValidationError(
      `Action '${nameOf(this, context)}' implements neither run() nor runAndUpdate(): ` +
        'implement run(state, inputs) and update(result, state), or runAndUpdate(state, inputs).',
    );
  }

  /** Two-step form: folds the result of `run` into the whole state. */
  update(result: ActionResult, state: AppState): AppState {
    return state.update(result);
  }

  /** Runs the step: a new state, or `[result, state]`. */
  async runAndUpdate(
    state: AppState,
    inputs: Inputs,
    context: ApplicationContext,
  ): Promise<StepOutput> {
    const result = await this.run(state.subset(...this.reads), inputs, context);
    const record = (result ?? {}) as ActionResult;
    if (typeof record !== 'object' || Array.isArray(record)) {
      throw new ValidationError(
        `Action '${nameOf(this, context)}' run() returned ${typeof result}: return an object of results.`,
      );
    }
    return [record, this.update(record, state)];
  }

  /**
   * A copy under another name; the original keeps its own.
   * @example queryLlm.bind({ model: 'o1' }).withName('o1_answer')
   */
  withName(name: string): Action {
    if (typeof name !== 'string' || name === '') {
      throw new ValidationError(`withName() needs a non-empty string, got ${String(name)}.`);
    }
    return new DerivedAction(this, name, noInputs);
  }

  /**
   * A copy with some parameters fixed; they reach the action with the inputs.
   * @example queryLlm.bind({ model: 'gpt-4' })
   */
  bind(params: Inputs): Action {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new ValidationError(
        'bind() needs an object of parameters, e.g. bind({ model: "o1" }).',
      );
    }
    return new DerivedAction(this, undefined, params);
  }

  /**
   * How a worker thread or process finds this action, or an error message saying why it
   * cannot.
   */
  ref(): ActionRef | string {
    if (this.#createdIn === undefined) {
      return `class ${this.constructor.name} was not created in a module file`;
    }
    return {
      kind: 'class',
      module: moduleReference(this.#createdIn),
      className: this.constructor.name,
      fields: { ...(this as object) },
    };
  }
}

const noInputs: Inputs = Object.freeze({});

/** The action's name in messages: the one the graph gave (the step's), else its own. */
function nameOf(act: Action, context: ApplicationContext | undefined): string {
  return context?.actionName ?? act.name ?? act.constructor.name;
}

/** The function of a function action. */
export type ActionFn = (
  state: AppState,
  inputs: Inputs,
  context: ApplicationContext,
) => StepOutput | PromiseLike<StepOutput>;

/** Declaration of a function action. */
export interface ActionSpec {
  /** State keys the action reads. */
  readonly reads: readonly string[];
  /** State keys the action adds or changes (it may delete others undeclared). */
  readonly writes: readonly string[];
  /** Runtime inputs it requires. @default [] */
  readonly inputs?: readonly string[];
  /** Runtime inputs it accepts when given. @default [] */
  readonly optionalInputs?: readonly string[];
  /** Its name when used outside `withActions` (sub-graphs of one action). @default the function's name */
  readonly name?: string;
}

/** An action made from a function by {@link action}. */
class FunctionAction extends Action {
  readonly #spec: ActionSpec;
  readonly #fn: ActionFn;
  readonly #definition: DefinitionRef | undefined;

  constructor(spec: ActionSpec, fn: ActionFn, definition: DefinitionRef | undefined) {
    super();
    this.#spec = spec;
    this.#fn = fn;
    this.#definition = definition;
  }
  get reads() {
    return this.#spec.reads;
  }
  get writes() {
    return this.#spec.writes;
  }
  override get inputs() {
    return this.#spec.inputs ?? [];
  }
  override get optionalInputs() {
    return this.#spec.optionalInputs ?? [];
  }
  override get name() {
    return this.#spec.name ?? (this.#fn.name || undefined);
  }
  override isAsync(): boolean {
    return this.#fn.constructor.name === 'AsyncFunction';
  }
  // The base returns a promise; a function action may answer at once, which the loop accepts.
  override runAndUpdate(state: AppState, inputs: Inputs, context: ApplicationContext) {
    return this.#fn(state, inputs, context) as Promise<StepOutput>;
  }
  override ref(): ActionRef | string {
    if (this.#definition === undefined) {
      return 'it was not defined once at the top level of a module file';
    }
    return { kind: 'site', definition: this.#definition };
  }
}

/** An action renamed or with bound parameters; delegates everything else to its base. */
class DerivedAction extends Action {
  readonly #base: Action;
  readonly #name: string | undefined;
  readonly #bound: Inputs;

  constructor(base: Action, name: string | undefined, bound: Inputs) {
    super();
    // Deriving from a derived action flattens, so refs stay one level deep.
    if (base instanceof DerivedAction) {
      this.#base = base.#base;
      this.#name = name ?? base.#name;
      this.#bound = bound === noInputs ? base.#bound : { ...base.#bound, ...bound };
    } else {
      this.#base = base;
      this.#name = name;
      this.#bound = bound;
    }
  }
  get reads() {
    return this.#base.reads;
  }
  get writes() {
    return this.#base.writes;
  }
  override get inputs() {
    // Bound parameters are no longer needed from the caller.
    return this.#base.inputs.filter((input) => !Object.hasOwn(this.#bound, input));
  }
  override get optionalInputs() {
    return this.#base.optionalInputs;
  }
  override get name() {
    return this.#name ?? this.#base.name;
  }
  override get bound() {
    return this.#bound;
  }
  override isAsync() {
    return this.#base.isAsync();
  }
  override get orchestrates() {
    return this.#base.orchestrates;
  }
  override runAndUpdate(state: AppState, inputs: Inputs, context: ApplicationContext) {
    return this.#base.runAndUpdate(state, { ...inputs, ...this.#bound }, context);
  }
  override ref(): ActionRef | string {
    const base = this.#base.ref();
    if (typeof base === 'string') return base;
    return { kind: 'derived', base, name: this.#name, bound: this.#bound };
  }
}

/** Derives an action from a ref's base (used by workers rebuilding a ref). */
export function derive(base: Action, name: string | undefined, bound: Inputs): Action {
  return new DerivedAction(base, name, bound);
}

/**
 * The module that defines a class, read from the stack of its constructor: the frame of
 * `new Class` points into the class body when the class has its own constructor; without
 * one, the frame after is where the instance was made, the best guess left.
 */
function classModule(target: Function): string | undefined {
  const frames = stackFrames(Action, 4);
  const own = frames.find((frame) => frame.trim().startsWith(`at new ${target.name} `));
  return siteOfFrame(own ?? frames.find((frame) => !frame.trim().startsWith('at new ')))?.module;
}

function isInternal(target: Function): boolean {
  return target === FunctionAction || target === DerivedAction;
}

/**
 * Defines a function action. Define actions at the top level of a module so that worker
 * threads and processes, which import that module, can run them.
 *
 * @example
 * const queryLlm = action({ reads: ['prompt'], writes: ['llm_output'] },
 *   async (state, { model }) => state.update({ llm_output: await ask(state.get('prompt'), model) }));
 */
export function action(spec: ActionSpec, fn: ActionFn): Action {
  if (typeof spec !== 'object' || spec === null) {
    throw new ValidationError(
      "action() needs { reads, writes } first, e.g. action({ reads: ['a'], writes: ['b'] }, fn).",
    );
  }
  const where = `action(${spec.name === undefined ? '' : `'${spec.name}'`})`;
  checkKeys(spec.reads, `${where}: reads`);
  checkKeys(spec.writes, `${where}: writes`);
  if (spec.inputs !== undefined) checkKeys(spec.inputs, `${where}: inputs`);
  if (spec.optionalInputs !== undefined) checkKeys(spec.optionalInputs, `${where}: optionalInputs`);
  if (typeof fn !== 'function') {
    throw new ValidationError(`${where} needs a function (state, inputs, context) => State.`);
  }
  const site = callSite(action);
  const name = site === undefined ? undefined : siteName(site);
  // Only the first action made at a place is findable: one made in a loop has no stable identity.
  const findable =
    name !== undefined && registered('action', name) === undefined
      ? definitionRef('action', name, site?.module)
      : undefined;
  const made = new FunctionAction(Object.freeze({ ...spec }), fn, findable);
  if (findable) {
    register('action', findable.name, {
      value: made,
      module: site?.module,
      definedAt: site?.location,
    });
  }
  return made;
}

/**
 * A function action's name in the registry: its module as the project names it and the
 * line and column of the `action()` call, the same in every thread and on every machine
 * with the same checkout. Undefined when the action was not made in a module file.
 */
function siteName(site: CallSite): string | undefined {
  const position = /:(\d+:\d+)$/.exec(site.location);
  if (site.module === undefined || position === null) return undefined;
  return `${moduleReference(site.module)}:${position[1]}`;
}

function checkKeys(keys: unknown, what: string): void {
  if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'string' || key === '')) {
    throw new ValidationError(`${what} must be an array of non-empty strings.`);
  }
}

/** The outcome of one step: its result and the new state. */
export interface StepResult {
  /** What the action returned besides its state (`{}` for most). */
  readonly result: ActionResult;
  /** The new state, its writes checked. */
  readonly state: AppState;
}

/**
 * Runs one action on `state` and checks what it wrote: a declared write missing from
 * the new state, or a key added or changed that is not declared, is an error naming both.
 */
export async function runStep(
  act: Action,
  name: string,
  state: AppState,
  inputs: Inputs,
  context: ApplicationContext,
): Promise<StepResult> {
  let output = act.runAndUpdate(state, inputs, context) as StepOutput | PromiseLike<StepOutput>;
  if (typeof (output as PromiseLike<StepOutput>).then === 'function') output = await output;
  return checkOutput(act, name, state, output as StepOutput);
}

/** Splits a step's output and validates its writes. */
export function checkOutput(
  act: Action,
  name: string,
  before: AppState,
  output: StepOutput,
): StepResult {
  let result: ActionResult = noInputs;
  let after: unknown = output;
  if (Array.isArray(output)) {
    result = (output[0] ?? noInputs) as ActionResult;
    after = output[1];
  }
  if (!(after instanceof State)) {
    throw new ValidationError(
      `Action '${name}' returned ${describe(after)}: return a State (state.update({...})) ` +
        'or [result, state].',
    );
  }
  checkWrites(act.reads, act.writes, name, before, after);
  return { result, state: after };
}

function checkWrites(
  reads: readonly string[],
  writes: readonly string[],
  name: string,
  before: AppState,
  after: AppState,
): void {
  const missing = writes.filter((key) => !after.has(key));
  if (missing.length > 0) {
    throw new StateError(
      `Action '${name}' declares it writes ${quote(missing)} but its new state has no ` +
        `${missing.length === 1 ? 'such key' : 'such keys'}: write ${missing.length === 1 ? 'it' : 'them'}, ` +
        `or remove ${missing.length === 1 ? 'it' : 'them'} from writes (${quote(writes)}).`,
    );
  }
  const declared = new Set(writes);
  const read = new Set(reads);
  // Deleting a key it reads needs no declaration, as in Burr, whose own actions delete
  // keys with empty writes (a Burr action sees only what it reads, so that is all it can
  // delete; a worker is sent only what an action reads and writes, likewise). Keys added
  // or given a new value, and keys deleted that it neither reads nor writes, must be declared.
  const { changed: written, deleted } = changesOf(before, after);
  const changed = [...Object.keys(written), ...deleted.filter((key) => !read.has(key))].filter(
    (key) => !declared.has(key),
  );
  if (changed.length > 0) {
    throw new StateError(
      `Action '${name}' wrote ${quote(changed)}, which it does not declare: its writes are ` +
        `${writes.length === 0 ? 'empty' : quote(writes)}. Add ${changed.length === 1 ? 'it' : 'them'} ` +
        'to writes, or leave the state under that key as it was.',
    );
  }
}

function quote(keys: readonly string[]): string {
  return keys.map((key) => `'${key}'`).join(', ');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return typeof value;
}
