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
import { RunLease } from './lease.ts';
import { Recorder } from './recorder.ts';
import { type Completed, CompletedLookup } from './resume.ts';
import { defaultLeaseMs, type RunRecord, type Store } from './store.ts';

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
  /**
   * How long the run's lease lasts without renewal, in milliseconds. The run renews it
   * every third of that while it works; a process that dies holds the run until then
   * (unless it was a process of this machine, whose death is seen at once). Should the
   * renewals fail (the store out of reach) until a sixth of it is left, the run stops,
   * rejecting with a RunBusyError: past that, another process may take it over.
   * @default 30000
   */
  readonly leaseMs?: number;
  /**
   * Takes the run over from the process that holds it, even though its lease lasts: that
   * process is dead, or stops its work on the run at its next renewal.
   * @default false
   */
  readonly takeOver?: boolean;
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
  /** Finds, in batches, the tasks completed by earlier attempts of this run. */
  readonly #completed: CompletedLookup;
  readonly recorder: Recorder;
  /**
   * Aborted, with a RunBusyError, when another process took the run over: the run's work
   * stops then. Pass it on to work that does not stop by itself.
   */
  readonly signal: AbortSignal;

  constructor(
    record: RunRecord,
    store: Store,
    resumable: number,
    bus: EventBus,
    signal: AbortSignal = new AbortController().signal,
  ) {
    this.id = record.id;
    this.record = record;
    this.store = store;
    this.events = bus;
    this.scope = new KeyScope(record.id, this);
    this.#completed = new CompletedLookup(store, record.id, resumable);
    // Fenced by the run's owner: once the run is taken over, the store refuses its writes.
    this.recorder = new Recorder(store, record.id, record.owner);
    this.signal = signal;
  }

  /**
   * Keeps the run's fan-out starts, sizes and ends, retries and failures, application
   * steps and graphs in the store (task starts and ends are in the task records already).
   * Events are written in groups: at 256, and at most 300 ms after the first of a group,
   * so that a viewer of a running run sees a fan-out start soon after it started. Returns
   * the function that stops listening and writes what is left.
   */
  persistEvents(): () => Promise<void> {
    const prefix = `${this.id}/`;
    let queue: WeftEvent[] = [];
    let writing: Promise<void> = Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const write = () => {
      clearTimeout(timer);
      timer = undefined;
      const batch = queue;
      queue = [];
      // Events are a record of what happened, not the run's result: a failed write is not fatal.
      writing = writing.then(() => this.store.appendEvents(this.id, batch)).catch(() => {});
    };
    const keep = (event: WeftEvent) => {
      if (event.scope !== this.id && !event.scope.startsWith(prefix)) return;
      // A thrown value may be anything (a class instance, a function): keep its plain form.
      queue.push(
        'error' in event && event.error !== undefined
          ? { ...event, error: toWire(event.error) }
          : event,
      );
      if (queue.length >= 256) write();
      // Unref'd: a pending write must not keep the process alive; the end writes it anyway.
      else timer ??= setTimeout(write, eventWriteDelayMs).unref();
    };
    // One subscription per type kept: the bus then knows nobody reads task starts and ends.
    const offs = [...kept].map((type) => this.events.on(type, keep));
    return async () => {
      for (const off of offs) off();
      // A pending timer means a pending group: writing it clears the timer.
      if (queue.length > 0) write();
      await writing;
    };
  }

  /** How many tasks of earlier attempts are available to resume. */
  get resumable(): number {
    return this.#completed.count;
  }

  /**
   * Whether `key` completed in an earlier attempt, and its stored output if so. Keys asked
   * in the same turn are looked up together; ask only when {@link resumable} is not 0.
   */
  completedOutput(key: string): Promise<Completed> {
    return this.#completed.find(key);
  }
}

/**
 * How long, at most, a kept event waits to be written with others: short enough for a
 * viewer of a running run to see it at once, long enough to write a burst together.
 */
const eventWriteDelayMs = 300;

/** Events kept with a run: what task records do not already say. */
const kept: ReadonlySet<WeftEvent['type']> = new Set([
  'map:start',
  // A streamed map's size, once read: a viewer's progress bar gets its end.
  'map:total',
  'map:end',
  'dag:start',
  'dag:end',
  'task:retry',
  'task:fail',
  'app:start',
  'app:step',
  'app:end',
  'run:graph',
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
 * A run has one live owner at a time: the call takes the run's lease in the store, renews
 * it while `fn` works and releases it at the end. Another process (or call) opening the
 * run meanwhile is refused with a RunBusyError; should another process take the run over
 * (`takeOver`), this call stops the run's work and rejects with a RunBusyError.
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
  checkRunStore(store);
  const runId = options.runId ?? randomRunId();
  if (typeof runId !== 'string' || !/^[\w.:@-]{1,200}$/.test(runId)) {
    throw new ValidationError(
      `Run id '${String(runId)}' is not valid: use 1 to 200 letters, digits and . _ : @ -.`,
    );
  }
  const lease = await RunLease.take(store, runId, options.meta ?? {}, {
    leaseMs: leaseMsOf(options.leaseMs),
    takeOver: options.takeOver === true,
  });
  const { record } = lease;
  let run: Run | undefined;
  let stopPersisting = async () => {};
  try {
    // Only the count: outputs are looked up as the fan-outs reach their keys.
    const resumable = await store.countCompleted(runId);
    run = new Run(record, store, resumable, options.events ?? sharedEvents, lease.signal);
    stopPersisting = run.persistEvents();
    const opened = run;
    // Awaited inside the context, so that work started by awaiting the result belongs to the run.
    // A run taken over stops at once, whatever `fn` is waiting for.
    const result = await current.run(opened, async () => await lease.guard(fn(opened)));
    await opened.recorder.flush();
    await stopPersisting();
    await lease.finish('completed');
    if (!lease.isLost) opened.recorder.released();
    return result;
  } catch (error) {
    // What finished before the failure is kept: a resume starts from there. A run taken
    // over is its new owner's: this process writes no more of its tasks.
    if (!lease.isLost) await run?.recorder.flush().catch(() => {});
    await stopPersisting();
    await lease.finish(isAbort(error) ? 'interrupted' : 'failed', toWire(error)).catch(() => {});
    throw error;
  }
}

/** The store methods a run calls: checked up front, so that a store lacking one fails at once. */
const runStoreMethods = [
  'openRun',
  'renewLease',
  'finishRun',
  'getRun',
  'recordTasks',
  'findCompleted',
  'countCompleted',
  'appendEvents',
] as const satisfies readonly (keyof Store)[];

/** Throws a ValidationError naming the methods a run needs that `store` lacks. */
function checkRunStore(store: Store): void {
  const missing = runStoreMethods.filter((name) => typeof store[name] !== 'function');
  if (missing.length === 0) return;
  throw new ValidationError(
    `This store (${String(store.kind)}) was written for an earlier weft: implement ` +
      `${missing.join(', ')} (see the Store interface) to run with it.`,
  );
}

/** `leaseMs` of withRun: a whole number of milliseconds, 3 or more (renewed every third). */
function leaseMsOf(leaseMs: number | undefined): number {
  if (leaseMs === undefined) return defaultLeaseMs;
  if (Number.isSafeInteger(leaseMs) && leaseMs >= 3) return leaseMs;
  throw new ValidationError(
    `withRun's leaseMs must be a whole number of milliseconds, 3 or more; got ${String(leaseMs)}. ` +
      `Leave it out for ${defaultLeaseMs}.`,
  );
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

function randomRunId(): string {
  const time = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `run-${time}-${Math.random().toString(36).slice(2, 8)}`;
}
