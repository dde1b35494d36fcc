/**
 * Persisters: an application's state saved after every step, and loaded again to resume
 * (Burr's `BaseStateSaver` / `BaseStateLoader`). {@link StorePersister} keeps them in a
 * weft store — SQLite by default, PostgreSQL for many machines, or memory.
 */
import { ValidationError } from '../core/errors.ts';
import { State } from '../core/state.ts';
import type { Store } from '../core/store.ts';
import type { AppState } from './action.ts';

/** A saved step of an application. */
export interface PersistedState {
  /** The application's partition. */
  readonly partitionKey: string;
  /** The application's id. */
  readonly appId: string;
  /** The step's sequence id. */
  readonly sequenceId: number;
  /** The action of that step. */
  readonly position: string;
  /** The state after the step; for a failed step, the state it started from. */
  readonly state: AppState;
  /** Whether the step completed or failed (a failed one runs again on resume). */
  readonly status: 'completed' | 'failed';
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** Loads saved application state. */
export interface StateLoader {
  /** The latest save of the application, or the one with `sequenceId`; null when none. */
  load(partitionKey: string, appId: string, sequenceId?: number): Promise<PersistedState | null>;
}

/** Saves application state after every step. */
export interface StateSaver {
  save(
    partitionKey: string,
    appId: string,
    sequenceId: number,
    position: string,
    state: AppState,
    status: 'completed' | 'failed',
  ): Promise<void>;
}

/** Both: what `withStatePersister` and `initializeFrom` usually get. */
export interface StatePersister extends StateLoader, StateSaver {}

/**
 * A persister over a weft store's checkpoints.
 * @example
 * const persister = new StorePersister(await openStore('sqlite:.weft/weft.db'));
 */
export class StorePersister implements StatePersister {
  /** The store the checkpoints are kept in. */
  readonly store: Store;

  constructor(store: Store) {
    if (!store || typeof store.saveCheckpoint !== 'function') {
      throw new ValidationError('StorePersister needs a store: pass await openStore(url).');
    }
    this.store = store;
  }

  async save(
    partitionKey: string,
    appId: string,
    sequenceId: number,
    position: string,
    state: AppState,
    status: 'completed' | 'failed',
  ): Promise<void> {
    await this.store.saveCheckpoint({
      appId,
      partitionKey,
      sequenceId,
      position,
      state: state.toObject(),
      status,
      createdAt: Date.now(),
    });
  }

  async load(
    partitionKey: string,
    appId: string,
    sequenceId?: number,
  ): Promise<PersistedState | null> {
    const found = await this.store.loadCheckpoint(appId, partitionKey, sequenceId);
    if (!found) return null;
    return { ...found, state: State.of({ ...found.state }) };
  }
}
