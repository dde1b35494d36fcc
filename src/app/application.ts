/**
 * Burr applications: a graph of actions run step by step over an immutable State.
 * `ApplicationBuilder` assembles one; `run`, `step` and `iterate` drive it. After every
 * step the state is saved by the persister (if any), the tracker hears about it, and an
 * `app:step` event goes to the run's event bus.
 */
import { randomUUID } from 'node:crypto';
import { refuseTopLevelWork } from '../core/definitions.ts';
import { ValidationError } from '../core/errors.ts';
import { type EventBus, events as sharedEvents } from '../core/events.ts';
import type { Executor } from '../core/executor.ts';
import { KeyScope, rootScope } from '../core/keys.ts';
import { currentRun } from '../core/run.ts';
import { State, type StateRecord } from '../core/state.ts';
import {
  type Action,
  type ActionResult,
  type AppState,
  type Inputs,
  runStep,
  type StepResult,
} from './action.ts';
import type { ApplicationContext, ParallelExecutorSetting, ParentPointer } from './context.ts';
import { addActions, buildGraph, type Graph, type TransitionSpec } from './graph.ts';
import type { StateLoader, StateSaver } from './persistence.ts';
import { remoteStep } from './remote.ts';
import type { TrackedApplication, Tracker } from './tracker.ts';

/** Options of {@link Application.run} and {@link Application.iterate}. */
export interface RunOptions {
  /** Stop after any of these actions ran (its result is returned). @default [] */
  readonly haltAfter?: readonly string[];
  /** Stop before any of these actions would run (after at least one step). @default [] */
  readonly haltBefore?: readonly string[];
  /** Runtime inputs of the first step. @default {} */
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

/** Options of {@link ApplicationBuilder.initializeFrom}. */
export interface InitializeOptions {
  /**
   * Continue after the saved step (true), or start again at `defaultEntrypoint` with the
   * saved state (false). A step saved as failed runs again either way when resuming.
   * @default true
   */
  readonly resumeAtNextAction?: boolean;
  /** The state when nothing is saved. @default {} */
  readonly defaultState?: StateRecord | AppState;
  /** Where to start when nothing is saved. */
  readonly defaultEntrypoint: string;
  /** Load another application's state to start from (a fork). @default none: load this application's own */
  readonly forkFromAppId?: string;
  /** Partition of the application forked from (needs `forkFromAppId`). @default this application's partitionKey */
  readonly forkFromPartitionKey?: string;
  /** Step of the application forked from to load (needs `forkFromAppId`). @default its latest */
  readonly forkFromSequenceId?: number;
}

/** How an application is assembled; made by {@link ApplicationBuilder}. */
interface ApplicationSetup {
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

  /** Runs one action; null when there is nothing left to run. */
  async step(options: Pick<RunOptions, 'inputs' | 'signal'> = {}): Promise<StepOutcome | null> {
    refuseTopLevelWork(`Application '${this.appId}'`);
    await this.ready();
    return this.#exclusive(() => this.#step(options.inputs ?? {}, options.signal));
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
    const haltAfter = this.#haltList(options.haltAfter, 'haltAfter');
    const haltBefore = this.#haltList(options.haltBefore, 'haltBefore');
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
      this.#emitStart();
      let inputs = options.inputs ?? {};
      while (this.nextAction() !== undefined) {
        const outcome = await this.#step(inputs, options.signal);
        inputs = {};
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
      this.#emitEnd(started, last.action, error);
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

  #haltList(names: readonly string[] | undefined, what: string): ReadonlySet<string> {
    if (names === undefined) return new Set();
    if (!Array.isArray(names)) {
      throw new ValidationError(`${what} must be an array of action names, e.g. ['done'].`);
    }
    for (const name of names) this.graph.action(name, `${what}: action`);
    return new Set(names);
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

  #emitStart(): void {
    const bus = this.#events();
    if (!bus.active) return;
    const parent = this.#setup.parent;
    bus.emit({
      type: 'app:start',
      time: Date.now(),
      scope: this.#appScope().path,
      appId: this.appId,
      partitionKey: this.partitionKey,
      parentAppId: parent?.appId,
      parentSequenceId: parent?.sequenceId,
    });
  }

  #emitStep(sequenceId: number, action: string, durationMs: number, error: unknown): void {
    const bus = this.#events();
    if (!bus.active) return;
    bus.emit({
      type: 'app:step',
      time: Date.now(),
      scope: this.#appScope().path,
      appId: this.appId,
      parentAppId: this.#setup.parent?.appId,
      sequenceId,
      action,
      durationMs,
      error,
    });
  }

  #emitEnd(started: number, action: string | undefined, error: unknown): void {
    const bus = this.#events();
    if (!bus.active) return;
    bus.emit({
      type: 'app:end',
      time: Date.now(),
      scope: this.#appScope().path,
      appId: this.appId,
      parentAppId: this.#setup.parent?.appId,
      action,
      durationMs: performance.now() - started,
      error,
    });
  }
}

function busyError(appId: string): ValidationError {
  return new ValidationError(
    `Application '${appId}' is already running: await its run, step or iterate before starting another.`,
  );
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

/**
 * Assembles an {@link Application}.
 * @example
 * const app = new ApplicationBuilder()
 *   .withActions({ count, done })
 *   .withTransitions(['count', 'count', expr('count < 10')], ['count', 'done'])
 *   .withState({ count: 0 })
 *   .withEntrypoint('count')
 *   .build();
 * const { state } = await app.run({ haltAfter: ['done'] });
 */
export class ApplicationBuilder {
  readonly #actions = new Map<string, Action>();
  readonly #transitions: TransitionSpec[] = [];
  #graph: Graph | undefined;
  #state: AppState | undefined;
  #entrypoint: string | undefined;
  #appId: string | undefined;
  #partitionKey = '';
  #persister: StateSaver | null = null;
  #initializer: ApplicationSetup['initializer'] = null;
  #tracker: Tracker | null = null;
  #parallelExecutor: ParallelExecutorSetting | undefined;
  #parent: ParentPointer | undefined;
  #scope: KeyScope | undefined;
  #leafExecutor: Executor | undefined;

  /** Adds actions by name. */
  withActions(...groups: (Readonly<Record<string, Action>> | Action)[]): this {
    addActions(this.#actions, groups);
    return this;
  }

  /** Adds transitions, taken in the order given when their condition holds. */
  withTransitions(...transitions: TransitionSpec[]): this {
    this.#transitions.push(...transitions);
    return this;
  }

  /** Uses a graph built by GraphBuilder instead of withActions/withTransitions. */
  withGraph(graph: Graph): this {
    this.#graph = graph;
    return this;
  }

  /** The initial state. */
  withState(state: StateRecord | AppState): this {
    if (this.#initializer) throw new ValidationError(bothError('withState'));
    this.#state = state instanceof State ? state : State.of(state);
    return this;
  }

  /** The first action. */
  withEntrypoint(name: string): this {
    if (this.#initializer) throw new ValidationError(bothError('withEntrypoint'));
    this.#entrypoint = name;
    return this;
  }

  /** Names the application (default: a random id) and its partition (default ''). */
  withIdentifiers(ids: { readonly appId?: string; readonly partitionKey?: string }): this {
    if (ids.appId !== undefined) {
      if (typeof ids.appId !== 'string' || ids.appId === '') {
        throw new ValidationError('withIdentifiers: appId must be a non-empty string.');
      }
      this.#appId = ids.appId;
    }
    if (ids.partitionKey !== undefined) {
      if (typeof ids.partitionKey !== 'string') {
        throw new ValidationError('withIdentifiers: partitionKey must be a string.');
      }
      this.#partitionKey = ids.partitionKey;
    }
    return this;
  }

  /** Saves the state after every step. */
  withStatePersister(persister: StateSaver | null): this {
    if (persister !== null && typeof persister?.save !== 'function') {
      throw new ValidationError(
        'withStatePersister needs an object with save(), e.g. a StorePersister.',
      );
    }
    this.#persister = persister;
    return this;
  }

  /** Starts from the last saved state of this application (or a fork), or from defaults. */
  initializeFrom(loader: StateLoader, options: InitializeOptions): this {
    if (typeof loader?.load !== 'function') {
      throw new ValidationError(
        'initializeFrom needs an object with load(), e.g. a StorePersister.',
      );
    }
    if (this.#state !== undefined || this.#entrypoint !== undefined) {
      throw new ValidationError(bothError('initializeFrom'));
    }
    if (typeof options?.defaultEntrypoint !== 'string') {
      throw new ValidationError(
        'initializeFrom needs { defaultEntrypoint: name of the first action }.',
      );
    }
    if (
      (options.forkFromPartitionKey !== undefined || options.forkFromSequenceId !== undefined) &&
      options.forkFromAppId === undefined
    ) {
      throw new ValidationError(
        'initializeFrom: forkFromPartitionKey and forkFromSequenceId need forkFromAppId.',
      );
    }
    this.#initializer = { loader, options };
    return this;
  }

  /** Hears every run and step. */
  withTracker(tracker: Tracker | null): this {
    this.#tracker = tracker;
    return this;
  }

  /**
   * What parallel actions run their tasks on: an executor, or a factory called once for
   * each top-level parallel step (its sub-applications share what it made) and closed
   * after it. @default the default executor
   */
  withParallelExecutor(executor: ParallelExecutorSetting): this {
    if (typeof executor !== 'function' && typeof (executor as Executor)?.run !== 'function') {
      throw new ValidationError(
        'withParallelExecutor needs an executor or a function returning one, e.g. () => threads().',
      );
    }
    this.#parallelExecutor = executor;
    return this;
  }

  /** Marks the application as spawned by a parallel step of another. */
  withSpawningParent(parent: ParentPointer): this {
    this.#parent = parent;
    return this;
  }

  /** @internal key scope and leaf executor of a sub-application */
  withinParent(scope: KeyScope, leafExecutor: Executor | undefined): this {
    this.#scope = scope;
    this.#leafExecutor = leafExecutor;
    return this;
  }

  /** Checks everything and builds the application. */
  build(): Application {
    const graph = this.#graph ?? buildGraph(this.#actions, this.#transitions);
    if (this.#graph && (this.#actions.size > 0 || this.#transitions.length > 0)) {
      throw new ValidationError('Use withGraph or withActions/withTransitions, not both.');
    }
    const entrypoint = this.#initializer?.options.defaultEntrypoint ?? this.#entrypoint;
    if (entrypoint === undefined) {
      throw new ValidationError('The application needs an entrypoint: call withEntrypoint(name).');
    }
    graph.action(entrypoint, 'Entrypoint');
    const defaults = this.#initializer?.options.defaultState;
    return new Application({
      graph,
      state:
        this.#state ??
        (defaults === undefined
          ? State.of()
          : defaults instanceof State
            ? defaults
            : State.of(defaults)),
      entrypoint,
      appId: this.#appId ?? randomUUID(),
      partitionKey: this.#partitionKey,
      persister: this.#persister,
      initializer: this.#initializer,
      tracker: this.#tracker,
      parallelExecutor: this.#parallelExecutor,
      parent: this.#parent,
      scope: this.#scope,
      leafExecutor: this.#leafExecutor,
    });
  }
}

function bothError(what: string): string {
  return `${what}: initializeFrom sets the state and entrypoint (defaultState, defaultEntrypoint); do not also call withState or withEntrypoint.`;
}
