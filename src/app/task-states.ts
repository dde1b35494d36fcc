/**
 * The states a parallel step's reduce reads, and what its map records of them. A task's
 * output is its final state as changes to its input state (a sub-state often carries
 * large parent keys it never changes, so recording it whole would grow the run store with
 * every task); the final state is rebuilt on the task's input state, also when the map
 * resumes an output from the store.
 */
import { ValidationError } from '../core/errors.ts';
import type { MapResult } from '../core/map.ts';
import type { StateRecord } from '../core/state.ts';
import type { AppState } from './action.ts';

type Many<T> = Iterable<T> | AsyncIterable<T>;

/** A task's final state as changes to its input state: what the map output holds. */
export interface TaskChanges {
  /** Keys added, or whose value is not `Object.is` the input's. */
  readonly changed: StateRecord;
  /** Keys of the input state the final state lacks. */
  readonly deleted: readonly string[];
}

/** What a task changed of its input state. */
export function changesOf(before: AppState, after: AppState): TaskChanges {
  const old = before.toObject();
  const now = after.toObject();
  const changed: StateRecord = {};
  for (const key of Object.keys(now)) {
    if (!Object.hasOwn(old, key) || !Object.is(old[key], now[key])) changed[key] = now[key];
  }
  const deleted = Object.keys(old).filter((key) => !Object.hasOwn(now, key));
  return { changed, deleted };
}

/** A task's final state, rebuilt from its input state and its changes. */
export function applyChanges(before: AppState, changes: TaskChanges): AppState {
  const updated = before.update(changes.changed);
  return changes.deleted.length === 0 ? updated : updated.wipe({ delete: changes.deleted });
}

/** Yields the tasks as they are, keeping their input states in `taken`. */
export function tapInputs<T extends { readonly state: AppState }>(
  tasks: Many<T>,
  taken: AppState[],
): Many<T> {
  const given = tasks as Partial<Iterable<T> & AsyncIterable<T>> | null;
  if (typeof given?.[Symbol.asyncIterator] === 'function') {
    return (async function* () {
      for await (const task of tasks as AsyncIterable<T>) {
        taken.push(task?.state);
        yield task;
      }
    })();
  }
  // Not iterable: the map says so.
  if (typeof given?.[Symbol.iterator] !== 'function') return tasks;
  return (function* () {
    for (const task of tasks as Iterable<T>) {
      taken.push(task?.state);
      yield task;
    }
  })();
}

/**
 * The final states an async reduce reads: rebuilt from the map's outputs as they come.
 * Breaking out of `for await` leaves the map running; `drain` then runs what is left.
 */
export class StateStream implements AsyncIterable<AppState>, Iterable<AppState> {
  readonly #action: string;
  readonly #outcomes: MapResult<TaskChanges>;
  readonly #taken: AppState[];
  #source: AsyncIterator<TaskChanges> | undefined;

  constructor(action: string, outcomes: MapResult<TaskChanges>, taken: AppState[]) {
    this.#action = action;
    this.#outcomes = outcomes;
    this.#taken = taken;
  }

  [Symbol.iterator](): Iterator<AppState> {
    throw new ValidationError(
      `Parallel action '${this.#action}' is async (isAsync() returns true), so its reduce gets ` +
        'the states as an async iterable: read them with for await (const state of states), ' +
        'or make isAsync() return false to get an array.',
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<AppState> {
    return {
      next: async (): Promise<IteratorResult<AppState>> => {
        const next = await this.#open().next();
        if (next.done) return { done: true, value: undefined };
        return { done: false, value: applyChanges(this.#taken.shift()!, next.value) };
      },
      // The remaining tasks still run (see drain): leaving the loop does not stop them.
      return: async (): Promise<IteratorResult<AppState>> => ({ done: true, value: undefined }),
    };
  }

  /** Runs the tasks the reduce did not read, and drops their states. */
  async drain(): Promise<void> {
    const source = this.#open();
    for (;;) {
      const next = await source.next();
      if (next.done) return;
      this.#taken.shift();
    }
  }

  /** Stops the map (the reduce failed): running tasks are aborted. */
  async stop(): Promise<void> {
    await this.#source?.return?.();
  }

  #open(): AsyncIterator<TaskChanges> {
    this.#source ??= this.#outcomes[Symbol.asyncIterator]();
    return this.#source;
  }
}

/** An array usable by both a sync and an async reduce. */
export function toBoth(states: AppState[]): Iterable<AppState> & AsyncIterable<AppState> {
  return Object.assign(states, {
    async *[Symbol.asyncIterator]() {
      yield* states;
    },
  });
}
