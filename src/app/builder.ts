/**
 * The builder of Burr applications: `ApplicationBuilder` collects actions, transitions,
 * state, identifiers, persisters, trackers and the parallel executor, checks them
 * together, and builds an {@link Application}.
 */
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import type { KeyScope } from '../core/keys.ts';
import { State, type StateRecord } from '../core/state.ts';
import type { Action, AppState } from './action.ts';
import { Application, type ApplicationSetup } from './application.ts';
import type { ParallelExecutorSetting, ParentPointer } from './context.ts';
import { addActions, buildGraph, type Graph, type TransitionSpec } from './graph.ts';
import type { StateLoader, StateSaver } from './persistence.ts';
import type { Tracker } from './tracker.ts';

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
