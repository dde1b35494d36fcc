/**
 * Runs: a run id, a store, and the deterministic keys of everything fanned out inside.
 * Inside `withRun`, every map and dag records each finished task under its key, and
 * skips the keys that a previous attempt of the same run completed, returning their
 * stored outputs instead: that is resume, the same for every front end and executor.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { refuseTopLevelWork } from './definitions.ts';
import { toWire, ValidationError } from './errors.ts';
import { type EventBus, events as sharedEvents, type WeftEvent } from './events.ts';
import { KeyScope } from './keys.ts';
import { Recorder } from './recorder.ts';
import type { RunRecord, Store } from './store.ts';

/** Options of {@link withRun}. */
export interface WithRunOptions {
  /** Where tasks are recorded. */
  readonly store: Store;
  /**
   * The run's id. The same id again resumes: completed tasks are not executed again.
   * @default a new random id
   */
  readonly runId?: string;
  /** Facts kept with the run (the file it ran, the executor, …). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Bus of the run's events. @default the shared `events` bus */
  readonly events?: EventBus;
}

/** The run a fan-out belongs to: found by map and dag inside {@link withRun}. */
export class Run {
  readonly id: string;
  readonly store: Store;
  readonly events: EventBus;
  /** Root of the run's keys: every key starts with the run id. */
  readonly scope: KeyScope;
  /** The run as recorded when it was opened (attempts > 1 means resumed). */
  readonly record: RunRecord;
  /** Outputs of tasks completed by earlier attempts of this run, by key. */
  readonly #completed: Map<string, unknown>;
  readonly recorder: Recorder;

  constructor(record: RunRecord, store: Store, completed: Map<string, unknown>, bus: EventBus) {
    this.id = record.id;
    this.record = record;
    this.store = store;
    this.events = bus;
    this.scope = new KeyScope(record.id, this);
    this.#completed = completed;
    this.recorder = new Recorder(store, record.id);
  }

  /**
   * Keeps the run's fan-out starts and ends, retries and failures in the store (task
   * starts and ends are in the task records already). Returns the function that stops
   * listening and writes what is left.
   */
  persistEvents(): () => Promise<void> {
    const prefix = `${this.id}/`;
    let queue: WeftEvent[] = [];
    let writing: Promise<void> = Promise.resolve();
    const write = () => {
      const batch = queue;
      queue = [];
      // Events are a record of what happened, not the run's result: a failed write is not fatal.
      writing = writing.then(() => this.store.appendEvents(this.id, batch)).catch(() => {});
    };
    const off = this.events.on((event) => {
      if (!kept.has(event.type)) return;
      if (event.scope !== this.id && !event.scope.startsWith(prefix)) return;
      // A thrown value may be anything (a class instance, a function): keep its plain form.
      queue.push(
        'error' in event && event.error !== undefined
          ? { ...event, error: toWire(event.error) }
          : event,
      );
      if (queue.length >= 256) write();
    });
    return async () => {
      off();
      if (queue.length > 0) write();
      await writing;
    };
  }

  /** How many tasks of earlier attempts are available to resume. */
  get resumable(): number {
    return this.#completed.size;
  }

  /** True and the stored output when `key` completed in an earlier attempt. */
  completedOutput(key: string): { readonly found: boolean; readonly value: unknown } {
    if (!this.#completed.has(key)) return notFound;
    return { found: true, value: this.#completed.get(key) };
  }
}

const notFound = { found: false, value: undefined } as const;

/** Events kept with a run: what task records do not already say. */
const kept: ReadonlySet<WeftEvent['type']> = new Set([
  'map:start',
  'map:end',
  'dag:start',
  'dag:end',
  'task:retry',
  'task:fail',
  'app:start',
  'app:step',
  'app:end',
]);
const current = new AsyncLocalStorage<Run>();

/** The run the calling code is inside, if any. */
export function currentRun(): Run | undefined {
  return current.getStore();
}

/**
 * Runs `fn` as a recorded run: every map and dag inside records its tasks in `store`
 * under keys that start with the run id. Running again with the same `runId` reuses the
 * outputs of completed tasks instead of executing them again.
 *
 * @example
 * const store = await openStore('sqlite:.weft/weft.db');
 * await withRun({ store, runId: 'nightly' }, async () => {
 *   await map(items, square); // re-running 'nightly' skips finished items
 * });
 */
export async function withRun<T>(
  options: WithRunOptions,
  fn: (run: Run) => T | Promise<T>,
): Promise<T> {
  refuseTopLevelWork('withRun()');
  const { store } = options;
  if (!store || typeof store.openRun !== 'function') {
    throw new ValidationError('withRun needs { store }: open one with openStore(url).');
  }
  const runId = options.runId ?? randomRunId();
  if (typeof runId !== 'string' || !/^[\w.:@-]{1,200}$/.test(runId)) {
    throw new ValidationError(
      `Run id '${String(runId)}' is not valid: use 1 to 200 letters, digits and . _ : @ -.`,
    );
  }
  const record = await store.openRun(runId, options.meta ?? {});
  let run: Run | undefined;
  let stopPersisting = async () => {};
  try {
    const completed = await store.completedOutputs(runId);
    run = new Run(record, store, completed, options.events ?? sharedEvents);
    stopPersisting = run.persistEvents();
    const opened = run;
    // Awaited inside the context, so that work started by awaiting the result belongs to the run.
    const result = await current.run(opened, async () => await fn(opened));
    await opened.recorder.flush();
    await stopPersisting();
    await store.finishRun(runId, 'completed');
    return result;
  } catch (error) {
    // What finished before the failure is kept: a resume starts from there.
    await run?.recorder.flush().catch(() => {});
    await stopPersisting();
    await store
      .finishRun(runId, isAbort(error) ? 'interrupted' : 'failed', toWire(error))
      .catch(() => {});
    throw error;
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

function randomRunId(): string {
  const time = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `run-${time}-${Math.random().toString(36).slice(2, 8)}`;
}
