/**
 * Burr applications: a graph of actions run step by step over an immutable State.
 * `ApplicationBuilder` (builder.ts) assembles one; `run`, `step` and `iterate` drive it.
 * After every step the state is saved by the persister (if any), the tracker hears about
 * it, and an `app:step` event goes to the run's event bus.
 */
import { refuseTopLevelWork } from '../core/definitions.ts';
import { ValidationError } from '../core/errors.ts';
import { type EventBus, events as sharedEvents } from '../core/events.ts';
import type { Executor } from '../core/executor.ts';
import { KeyScope, rootScope } from '../core/keys.ts';
import { currentRun } from '../core/run.ts';
import {
  type Action,
  type ActionResult,
  type AppState,
  type Inputs,
  runStep,
  type StepResult,
} from './action.ts';
import {
  type AppEventSource,
  emitAppEnd,
  emitAppGraph,
  emitAppStart,
  emitAppStep,
} from './app-events.ts';
import type { InitializeOptions } from './builder.ts';
import type { ApplicationContext, ParallelExecutorSetting, ParentPointer } from './context.ts';
import type { Graph } from './graph.ts';
import type { StateLoader, StateSaver } from './persistence.ts';
import { remoteStep } from './remote.ts';
import type { TrackedApplication, Tracker } from './tracker.ts';

/** Options of {@link Application.run} and {@link Application.iterate}. */
export interface RunOptions {
  /** Stop after any of these actions ran (its result is returned). @default [] */
  readonly haltAfter?: readonly string[];
  /** Stop before any of these actions would run (after at least one step). @default [] */
  readonly haltBefore?: readonly string[];
  /**
   * Runtime inputs, given to every step (as Burr's `run` and `iterate` do); an action
   * requiring one that is missing fails before it runs. @default {}
   */
  readonly inputs?: Inputs;
  /** Stops the application between steps and aborts the running action. */
  readonly signal?: AbortSignal;
}

/** What a step, a run or an iteration ends with. */
export interface StepOutcome {
  /** The action that ran; for `haltBefore`, the action that would run next. */
  readonly action: string | undefined;
  /** Its result; null when halted before it, or when nothing ran. */
  readonly result: ActionResult | null;
  /** The application's state after it. */
  readonly state: AppState;
}

/** How an application is assembled; made by `ApplicationBuilder`. */
export interface ApplicationSetup {
  readonly graph: Graph;
  readonly state: AppState;
  readonly entrypoint: string;
  readonly appId: string;
  readonly partitionKey: string;
  readonly persister: StateSaver | null;
  readonly initializer: {
    readonly loader: StateLoader;
    readonly options: InitializeOptions;
  } | null;
  readonly tracker: Tracker | null;
  readonly parallelExecutor: ParallelExecutorSetting | undefined;
  readonly parent: ParentPointer | undefined;
  /** Key scope given by a parent (sub-applications). */
  readonly scope: KeyScope | undefined;
  /** Runs plain actions there instead of in this thread (sub-applications on threads). */
  readonly leafExecutor: Executor | undefined;
}

/** A built application. Not safe to drive from two callers at once. */
export class Application {
  /** The actions and transitions it runs. */
  readonly graph: Graph;
  /** Its id: what persisters and trackers know it by. */
  readonly appId: string;
  /** Its partition ('' unless set with `withIdentifiers`). */
  readonly partitionKey: string;
  readonly #setup: ApplicationSetup;
  #state: AppState;
  #sequenceId: number | undefined;
  /** The last action that completed, from which transitions are taken. */
  #position: string | undefined;
  /** An action that failed (here or in a loaded save) and runs again next. */
  #rerun: string | undefined;
  #entrypoint: string;
  #loading: Promise<void> | undefined;
  /** False until the saved state is loaded (only apps built with `initializeFrom` wait). */
  #loaded: boolean;
  #scope: KeyScope | undefined;
  /** The scope the application's graph was sent for: once per run is enough. */
  #graphSentFor: KeyScope | undefined;
  #busy = false;

  /** @internal made by ApplicationBuilder */
  constructor(setup: ApplicationSetup) {
    this.#setup = setup;
    this.graph = setup.graph;
    this.appId = setup.appId;
    this.partitionKey = setup.partitionKey;
    this.#state = setup.state;
    this.#entrypoint = setup.entrypoint;
    this.#loaded = setup.initializer === null;
  }

  /**
   * The current state.
   * @throws ValidationError when built with `initializeFrom` and not loaded yet: `await app.ready()` first
   */
  get state(): AppState {
    this.#requireLoaded('state');
    return this.#state;
  }

  /**
   * Id of the last step taken (0 for the first), undefined before any.
   * @throws ValidationError when built with `initializeFrom` and not loaded yet: `await app.ready()` first
   */
  get sequenceId(): number | undefined {
    this.#requireLoaded('sequenceId');
    return this.#sequenceId;
  }

  /**
   * The last action that ran, undefined before any.
   * @throws ValidationError when built with `initializeFrom` and not loaded yet: `await app.ready()` first
   */
  get position(): string | undefined {
    this.#requireLoaded('position');
    return this.#position;
  }

  /** The tracker, persister and parent, as trackers see the application. */
  get tracked(): TrackedApplication {
    return { appId: this.appId, partitionKey: this.partitionKey, parent: this.#setup.parent };
  }

  /**
   * Loads the saved state when built with `initializeFrom`; run, step and iterate call it.
   * A failed load is not remembered: calling again tries again.
   */
  async ready(): Promise<this> {
    this.#loading ??= this.#load().then(
      () => {
        this.#loaded = true;
      },
      (error: unknown) => {
        this.#loading = undefined;
        throw error;
      },
    );
    await this.#loading;
    return this;
  }

  /**
   * The action that runs next, or undefined when the application has finished.
   * @throws ValidationError when built with `initializeFrom` and not loaded yet: `await app.ready()` first
   */
  nextAction(): string | undefined {
    this.#requireLoaded('nextAction()');
    if (this.#rerun !== undefined) return this.#rerun;
    if (this.#position === undefined) return this.#entrypoint;
    for (const transition of this.graph.outgoing(this.#position)) {
      if (transition.condition.run(this.#state)) return transition.to;
    }
    return undefined;
  }

  /** True while there is an action left to run (Burr's `has_next_action`). */
  hasNextAction(): boolean {
    return this.nextAction() !== undefined;
  }

  /** The action that runs next, as an action (Burr's `get_next_action`). */
  getNextAction(): Action | undefined {
    const name = this.nextAction();
    return name === undefined ? undefined : this.graph.action(name);
  }

  /** Runs one action, given `inputs`; null when there is nothing left to run. */
  async step(options: Pick<RunOptions, 'inputs' | 'signal'> = {}): Promise<StepOutcome | null> {
    refuseTopLevelWork(`Application '${this.appId}'`);
    await this.ready();
    return this.#exclusive(() => {
      this.#emitGraph();
      return this.#step(options.inputs ?? {}, options.signal);
    });
  }

  /** Runs until a halt condition or the end of the graph, and returns the last step. */
  async run(options: RunOptions = {}): Promise<StepOutcome> {
    const steps = this.iterate(options);
    for (;;) {
      const next = await steps.next();
      if (next.done) return next.value;
    }
  }

  /**
   * Runs step by step, yielding each step; returns what `run` returns.
   * @example for await (const { action, state } of app.iterate({ haltAfter: ['done'] })) …
   */
  async *iterate(options: RunOptions = {}): AsyncGenerator<StepOutcome, StepOutcome, undefined> {
    refuseTopLevelWork(`Application '${this.appId}'`);
    const { haltAfter, haltBefore } = haltSets(this.appId, this.graph, options);
    await this.ready();
    if (this.#busy) throw busyError(this.appId);
    this.#busy = true;
    const started = performance.now();
    const { tracker } = this.#setup;
    let last: StepOutcome = { action: undefined, result: null, state: this.#state };
    let error: unknown;
    try {
      // Inside the try: a throwing hook must not leave the application marked as running.
      tracker?.onApplicationStart?.(this.tracked, this.#state);
      const source = this.#eventSource();
      if (source) emitAppStart(source);
      this.#emitGraph();
      const inputs = options.inputs ?? {};
      while (this.nextAction() !== undefined) {
        const outcome = await this.#step(inputs, options.signal);
        last = outcome!;
        yield last;
        if (haltAfter.has(last.action!)) break;
        const upcoming = this.nextAction();
        if (upcoming !== undefined && haltBefore.has(upcoming)) {
          last = { action: upcoming, result: null, state: this.#state };
          break;
        }
      }
      return last;
    } catch (failure) {
      error = failure;
      throw failure;
    } finally {
      this.#busy = false;
      tracker?.onApplicationEnd?.(this.tracked, { state: this.#state, error, action: last.action });
      const source = this.#eventSource();
      if (source) emitAppEnd(source, performance.now() - started, last.action, error);
    }
  }

  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#busy) throw busyError(this.appId);
    this.#busy = true;
    try {
      return await fn();
    } finally {
      this.#busy = false;
    }
  }

  async #step(inputs: Inputs, given: AbortSignal | undefined): Promise<StepOutcome | null> {
    const signal = this.#signal(given);
    signal?.throwIfAborted();
    const name = this.nextAction();
    if (name === undefined) return null;
    const act = this.graph.action(name);
    checkInputs(act, name, inputs);
    const sequenceId = (this.#sequenceId ?? -1) + 1;
    const before = this.#state;
    const context = this.#context(name, sequenceId, signal);
    const { tracker, persister } = this.#setup;
    tracker?.onStepStart?.(this.tracked, { sequenceId, action: name, state: before, inputs });
    const started = performance.now();
    let outcome: StepResult;
    try {
      outcome = await this.#runAction(act, name, before, inputs, context);
    } catch (error) {
      // The retry of a failed step keeps its sequence id (unlike Burr), so its parallel
      // tasks keep their ids and the ones that finished are found and not run again.
      this.#rerun = name;
      const durationMs = performance.now() - started;
      try {
        await persister?.save(this.partitionKey, this.appId, sequenceId, name, before, 'failed');
      } catch (storeError) {
        // The action's error is the one to throw; the store's is reported beside it.
        warnUnsaved(this.appId, sequenceId, name, storeError);
      }
      tracker?.onStepEnd?.(this.tracked, {
        sequenceId,
        action: name,
        state: before,
        result: undefined,
        error,
        durationMs,
      });
      this.#emitStep(sequenceId, name, durationMs, error);
      // The action's own error, also from a worker: the step is named by the tracker's
      // stepEnd, the app:step event, and a parallel action's ParallelTaskError.
      throw error;
    }
    this.#state = outcome.state;
    this.#sequenceId = sequenceId;
    this.#position = name;
    this.#rerun = undefined;
    await persister?.save(
      this.partitionKey,
      this.appId,
      sequenceId,
      name,
      outcome.state,
      'completed',
    );
    const durationMs = performance.now() - started;
    tracker?.onStepEnd?.(this.tracked, {
      sequenceId,
      action: name,
      state: outcome.state,
      result: outcome.result,
      error: undefined,
      durationMs,
    });
    this.#emitStep(sequenceId, name, durationMs, undefined);
    return { action: name, result: outcome.result, state: outcome.state };
  }

  #runAction(
    act: Action,
    name: string,
    state: AppState,
    inputs: Inputs,
    context: ApplicationContext,
  ): Promise<StepResult> {
    const leaf = this.#setup.leafExecutor;
    // Actions that orchestrate run here; plain actions of a sub-application may go to a worker.
    if (leaf === undefined || act.orchestrates) return runStep(act, name, state, inputs, context);
    return remoteStep(leaf, act, name, state, inputs, context);
  }

  /**
   * The step's signal: the caller's and the run's, which aborts when another process took
   * the run over. A signal of its own per step: fan-outs listening on it never pile up on
   * the run's.
   */
  #signal(given: AbortSignal | undefined): AbortSignal | undefined {
    const run = this.#appScope().run?.signal;
    if (run === undefined) return given;
    return AbortSignal.any(given === undefined ? [run] : [given, run]);
  }

  #context(actionName: string, sequenceId: number, signal: AbortSignal | undefined) {
    const setup = this.#setup;
    const appScope = this.#appScope();
    const context: ApplicationContext = {
      appId: this.appId,
      partitionKey: this.partitionKey,
      sequenceId,
      actionName,
      // A signal of its own per step: fan-outs listening on it never pile up on a shared one.
      signal: signal ?? new AbortController().signal,
      parent: setup.parent,
      tracker: setup.tracker,
      statePersister: setup.persister,
      stateInitializer: setup.initializer?.loader ?? null,
      parallelExecutor: setup.parallelExecutor,
      // The same path every time the step runs, so that a retry finds the keys of the
      // attempt it repeats (a child scope would count uses and add a `~2`).
      scope: new KeyScope(appScope.key(`step:${sequenceId}:${actionName}`), appScope.run),
      events: this.#events(),
    };
    return context;
  }

  #appScope(): KeyScope {
    const given = this.#setup.scope;
    if (given) return given;
    // Follows the run the application is driven in: run again in another run, it records there.
    const run = currentRun();
    if (!this.#scope || this.#scope.run !== run) {
      const parent = run ? run.scope : rootScope;
      // By id, not by use: an application rebuilt with the same id in the same run keeps its keys.
      this.#scope = new KeyScope(parent.key(`app:${this.appId}`), parent.run);
    }
    return this.#scope;
  }

  #requireLoaded(what: string): void {
    if (this.#loaded) return;
    throw new ValidationError(
      `Application '${this.appId}' was built with initializeFrom and has not loaded its saved state yet, ` +
        `so its ${what} is not known: call await app.ready() first (run, step and iterate do).`,
    );
  }

  #events(): EventBus {
    return this.#appScope().run?.events ?? currentRun()?.events ?? sharedEvents;
  }

  async #load(): Promise<void> {
    const init = this.#setup.initializer;
    if (!init) return;
    const { loader, options } = init;
    const forking = options.forkFromAppId !== undefined;
    const saved = await loader.load(
      forking ? (options.forkFromPartitionKey ?? this.partitionKey) : this.partitionKey,
      forking ? options.forkFromAppId! : this.appId,
      forking ? options.forkFromSequenceId : undefined,
    );
    if (!saved) return;
    this.#state = saved.state;
    if (saved.status === 'failed') {
      // The saved step did not finish: run it again, under its own sequence id, on the
      // state it started from.
      this.graph.action(saved.position, 'Saved position');
      this.#rerun = saved.position;
      this.#sequenceId = saved.sequenceId === 0 ? undefined : saved.sequenceId - 1;
      return;
    }
    this.#sequenceId = saved.sequenceId;
    if (options.resumeAtNextAction !== false) {
      this.graph.action(saved.position, 'Saved position');
      this.#position = saved.position;
    }
  }

  /** Who the application's events are about, or undefined when no one listens. */
  #eventSource(): AppEventSource | undefined {
    const bus = this.#events();
    if (!bus.active) return undefined;
    return {
      bus,
      scope: this.#appScope().path,
      appId: this.appId,
      partitionKey: this.partitionKey,
      parent: this.#setup.parent,
    };
  }

  /**
   * Sends the application's graph, once per run it is driven in; a sub-application sends
   * none (its parent's parallel action stands for it, and there may be thousands).
   */
  #emitGraph(): void {
    if (this.#setup.parent !== undefined) return;
    const scope = this.#appScope();
    if (this.#graphSentFor === scope) return;
    const source = this.#eventSource();
    if (!source?.bus.listens('run:graph')) return;
    this.#graphSentFor = scope;
    emitAppGraph(source, this.graph);
  }

  #emitStep(sequenceId: number, action: string, durationMs: number, error: unknown): void {
    const source = this.#eventSource();
    if (source) emitAppStep(source, sequenceId, action, durationMs, error);
  }
}

function busyError(appId: string): ValidationError {
  return new ValidationError(
    `Application '${appId}' is already running: await its run, step or iterate before starting another.`,
  );
}

/**
 * The halt lists of a run, checked together: one error names every unknown action and the
 * list it came from, so that a run is not refused once per typo.
 */
function haltSets(
  appId: string,
  graph: Graph,
  options: RunOptions,
): { readonly haltAfter: ReadonlySet<string>; readonly haltBefore: ReadonlySet<string> } {
  const unknown: string[] = [];
  const check = (names: readonly string[] | undefined, what: string): ReadonlySet<string> => {
    if (names === undefined) return new Set();
    if (!Array.isArray(names)) {
      throw new ValidationError(`${what} must be an array of action names, e.g. ['done'].`);
    }
    const missing = names.filter((name) => !graph.actions.has(name));
    if (missing.length > 0) unknown.push(`${what} names ${quote(missing)}`);
    return new Set(names);
  };
  const haltAfter = check(options.haltAfter, 'haltAfter');
  const haltBefore = check(options.haltBefore, 'haltBefore');
  if (unknown.length > 0) {
    throw new ValidationError(
      `Application '${appId}' cannot halt at actions it does not have: ${unknown.join('; ')}. ` +
        `Its actions are ${quote([...graph.actions.keys()])}: fix the names, or add the actions.`,
    );
  }
  return { haltAfter, haltBefore };
}

function quote(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.map((name) => `'${name}'`).join(', ');
}

/** Reports a failed step that could not be saved as failed, without hiding the step's error. */
function warnUnsaved(appId: string, sequenceId: number, action: string, error: unknown): void {
  process.emitWarning(
    `Application '${appId}' could not save its failed step ${sequenceId} (${action}): ` +
      `${error instanceof Error ? error.message : String(error)}. The step's own error is thrown; ` +
      'a resume from this persister may not know that the step failed.',
    { type: 'WeftWarning', code: 'WEFT_APP_SAVE_FAILED' },
  );
}

function checkInputs(act: Action, name: string, inputs: Inputs): void {
  const missing = act.inputs.filter((input) => !Object.hasOwn(inputs, input));
  if (missing.length > 0) {
    throw new ValidationError(
      `Action '${name}' is missing required inputs ${missing.map((m) => `'${m}'`).join(', ')}; ` +
        `it was given ${Object.keys(inputs).length === 0 ? 'none' : Object.keys(inputs).join(', ')}. ` +
        `Pass them with run({ inputs: { ${missing[0]}: … } }).`,
    );
  }
}
