/**
 * The memory store: runs, task records, checkpoints, artifacts and events kept in Maps
 * of this process, gone when it exits. Values are kept encoded with the serializer, as
 * the SQL stores keep them, so a stored value is a snapshot (changing the original
 * afterwards changes nothing) and a value that cannot be stored fails here exactly as it
 * would there. It suits tests, and runs that need no resume across processes.
 */
import { randomUUID } from 'node:crypto';
import { RunBusyError, StoreError, ValidationError, type WireError } from '../core/errors.ts';
import type { WeftEvent } from '../core/events.ts';
import type { Serializer } from '../core/serializer.ts';
import type {
  Checkpoint,
  ListRunsOptions,
  OpenRunOptions,
  RunQueries,
  RunRecord,
  RunStatus,
  Store,
  StreamTasksOptions,
  TaskRecord,
} from '../core/store.ts';
import { listMemoryRuns, MemoryQueries } from './memory-queries.ts';
import { checkListRuns } from './query-options.ts';
import { defaultSerializer } from './serializer.ts';
import {
  checkArray,
  checkArtifactWrites,
  checkBytes,
  checkCheckpoint,
  checkFinishStatus,
  checkId,
  checkKeys,
  checkLeaseMs,
  checkMeta,
  checkOpenRunOptions,
  checkPrefix,
  checkRunId,
  checkTaskRecord,
  notHeld,
} from './validate.ts';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Turns stored values into text and back.
   * @default defaultSerializer
   */
  readonly serializer?: Serializer;
}

interface StoredRun {
  readonly id: string;
  status: RunStatus;
  readonly createdAt: number;
  updatedAt: number;
  attempts: number;
  meta: string;
  error: string | undefined;
  /** Order of creation, which breaks ties between runs created in the same millisecond. */
  readonly seq: number;
  /** Who holds the lease; undefined once released. */
  owner: string | undefined;
  leaseExpiresAt: number | undefined;
}

interface StoredTask {
  readonly key: string;
  readonly task: string;
  readonly status: TaskRecord['status'];
  readonly attempts: number;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly queuedMs: number;
  /** Encoded output of a completed task; undefined for a failed one. */
  readonly output: string | undefined;
  readonly error: string | undefined;
}

interface StoredCheckpoint {
  readonly appId: string;
  readonly partitionKey: string;
  readonly sequenceId: number;
  readonly position: string;
  readonly state: string;
  readonly status: Checkpoint['status'];
  readonly createdAt: number;
}

/**
 * A {@link Store} kept in memory.
 * @example
 * const store = new MemoryStore();
 * await withRun({ store, runId: 'try-1' }, () => map(items, square));
 */
export class MemoryStore implements Store {
  /** Always `memory`. */
  /** Writes are applied as they are made. */
  readonly writesInOrder = true;
  readonly kind = 'memory';
  /** Always `memory:`. */
  readonly location = 'memory:';

  // TypeScript-private rather than #private: a wrapper made with Object.create(store), as
  // tests use to count or fail calls, must still reach these through the prototype chain.
  private readonly serializer: Serializer;
  private closed = false;
  private runSeq = 0;
  private readonly runs = new Map<string, StoredRun>();
  // A Map keeps insertion order and `set` on an existing key keeps its place: exactly the
  // order listTasks promises ("the order first recorded") when a record is replaced.
  private readonly tasks = new Map<string, Map<string, StoredTask>>();
  /** Checkpoints by application and partition, then by sequence id. */
  private readonly checkpoints = new Map<string, Map<number, StoredCheckpoint>>();
  private readonly artifacts = new Map<string, Map<string, Uint8Array>>();
  private readonly eventLog = new Map<string, string[]>();
  /** The owner of runs opened without one. */
  private readonly defaultOwner = `memory:${randomUUID()}`;

  /** Counts, sums and pages for a viewer of runs, computed over what the store holds. */
  readonly queries: RunQueries;

  constructor(options: MemoryStoreOptions = {}) {
    this.serializer = options.serializer ?? defaultSerializer;
    this.queries = new MemoryQueries({
      runs: this.runs,
      tasks: this.tasks,
      events: this.eventLog,
      toTask: (task) => this.toTask(task, false),
      toEvent: (text) => this.decode(text) as WeftEvent,
      assertOpen: () => this.assertOpen(),
    });
  }

  /**
   * Creates the run (attempts 1), or reopens it: status running, attempts + 1, meta
   * merged; either way takes its lease for `options.owner`.
   * @throws RunBusyError while another owner's lease on the run lasts
   */
  async openRun(
    id: string,
    meta: Readonly<Record<string, unknown>> = {},
    options: OpenRunOptions = {},
  ): Promise<RunRecord> {
    this.assertOpen();
    checkRunId(id);
    checkMeta(id, meta);
    const { owner, leaseMs, takeOverFrom } = checkOpenRunOptions(id, options, this.defaultOwner);
    const now = Date.now();
    const existing = this.runs.get(id);
    if (existing) {
      const holder = existing.owner;
      const free =
        holder === undefined ||
        holder === owner ||
        holder === takeOverFrom ||
        (existing.leaseExpiresAt ?? 0) <= now;
      if (!free) throw new RunBusyError(id, holder, existing.leaseExpiresAt ?? 0);
      const merged = { ...(this.decode(existing.meta) as object), ...meta };
      existing.meta = this.encode(merged, `Run meta of '${id}'`);
      existing.status = 'running';
      existing.attempts += 1;
      existing.updatedAt = now;
      // A reopened run has not failed (yet): the error of the attempt before is history.
      existing.error = undefined;
      existing.owner = owner;
      existing.leaseExpiresAt = now + leaseMs;
      return this.toRun(existing);
    }
    const run: StoredRun = {
      id,
      status: 'running',
      createdAt: now,
      updatedAt: now,
      attempts: 1,
      meta: this.encode({ ...meta }, `Run meta of '${id}'`),
      error: undefined,
      seq: this.runSeq++,
      owner,
      leaseExpiresAt: now + leaseMs,
    };
    this.runs.set(id, run);
    return this.toRun(run);
  }

  /** Extends `owner`'s lease to `leaseMs` from now; false when `owner` no longer holds the run. */
  async renewLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    this.assertOpen();
    checkRunId(id);
    checkId(owner, `Owner of run '${id}'`);
    checkLeaseMs(id, leaseMs);
    const run = this.runs.get(id);
    if (run?.owner !== owner) return false;
    run.leaseExpiresAt = Date.now() + leaseMs;
    return true;
  }

  /**
   * Marks a run finished, with the error that ended it if any, and releases its lease.
   * With `owner`, does nothing when another owner holds the run (it was taken over).
   */
  async finishRun(
    id: string,
    status: Exclude<RunStatus, 'running'>,
    error?: WireError,
    owner?: string,
  ): Promise<void> {
    this.assertOpen();
    checkRunId(id);
    checkFinishStatus(id, status);
    if (owner !== undefined) checkId(owner, `Owner of run '${id}'`);
    const run = this.requireRun(id);
    const encodedError =
      error === undefined ? undefined : this.encode(error, `Error of run '${id}'`);
    if (owner !== undefined && run.owner !== owner) return;
    run.status = status;
    run.error = encodedError;
    run.updatedAt = Date.now();
    run.owner = undefined;
    run.leaseExpiresAt = undefined;
  }

  /** The run, or undefined when there is none with this id. */
  async getRun(id: string): Promise<RunRecord | undefined> {
    this.assertOpen();
    checkRunId(id);
    const run = this.runs.get(id);
    return run && this.toRun(run);
  }

  /**
   * Runs, newest first (by creation time, then by order of creation), filtered and paged
   * as `options` say.
   */
  async listRuns(options: ListRunsOptions = {}): Promise<RunRecord[]> {
    this.assertOpen();
    return listMemoryRuns(this.runs, checkListRuns(options)).map((run) => this.toRun(run));
  }

  /**
   * Records finished tasks in one write, with their artifacts: every output is encoded and
   * every artifact checked before anything is written, so a batch with an output or an
   * artifact that cannot be stored leaves the run unchanged.
   * With `owner`, writes only while that owner holds the run.
   * @throws SerializationError naming the key when an output or an artifact cannot be stored
   * @throws RunBusyError when `owner` no longer holds the run
   */
  async recordTasks(runId: string, records: readonly TaskRecord[], owner?: string): Promise<void> {
    this.assertOpen();
    checkRunId(runId);
    checkArray(records, `Task records of run '${runId}'`);
    if (owner !== undefined) checkId(owner, `Owner of run '${runId}'`);
    const run = this.requireRun(runId);
    if (owner !== undefined && run.owner !== owner) {
      throw notHeld(runId, owner, run.owner, run.leaseExpiresAt);
    }
    const encoded = records.map((record) => this.encodeTask(runId, record));
    // Copies, made before anything is written: the caller may reuse the bytes afterwards.
    const artifacts = records.flatMap((record) =>
      checkArtifactWrites(runId, record).map(
        ({ key, data }) => [key, new Uint8Array(data)] as const,
      ),
    );
    let tasks = this.tasks.get(runId);
    if (!tasks) {
      tasks = new Map();
      this.tasks.set(runId, tasks);
    }
    for (const task of encoded) tasks.set(task.key, task);
    if (artifacts.length > 0) {
      const stored = this.runArtifacts(runId);
      for (const [key, data] of artifacts) stored.set(key, data);
    }
  }

  /** Outputs of the run's completed tasks, by key, in the order first recorded. */
  async completedOutputs(runId: string): Promise<Map<string, unknown>> {
    this.assertOpen();
    checkRunId(runId);
    const outputs = new Map<string, unknown>();
    for (const task of this.tasks.get(runId)?.values() ?? []) {
      if (task.status === 'completed') outputs.set(task.key, this.decodeOutput(task));
    }
    return outputs;
  }

  /** The outputs of those of `keys` that completed in the run, by key. */
  async findCompleted(runId: string, keys: readonly string[]): Promise<Map<string, unknown>> {
    this.assertOpen();
    checkRunId(runId);
    checkKeys(runId, keys);
    const tasks = this.tasks.get(runId);
    const outputs = new Map<string, unknown>();
    for (const key of keys) {
      const task = tasks?.get(key);
      if (task?.status === 'completed') outputs.set(key, this.decodeOutput(task));
    }
    return outputs;
  }

  /** How many tasks of the run completed. */
  async countCompleted(runId: string): Promise<number> {
    this.assertOpen();
    checkRunId(runId);
    let count = 0;
    for (const task of this.tasks.get(runId)?.values() ?? []) {
      if (task.status === 'completed') count++;
    }
    return count;
  }

  /** Every task record of the run, in the order first recorded. */
  async listTasks(runId: string): Promise<TaskRecord[]> {
    this.assertOpen();
    checkRunId(runId);
    return [...(this.tasks.get(runId)?.values() ?? [])].map((task) => this.toTask(task, true));
  }

  /**
   * Every task record of the run, in the order first recorded, each decoded as it is
   * reached; records added meanwhile are reached too.
   */
  async *streamTasks(runId: string, options: StreamTasksOptions = {}): AsyncIterable<TaskRecord> {
    this.assertOpen();
    checkRunId(runId);
    const outputs = options.outputs ?? true;
    for (const task of this.tasks.get(runId)?.values() ?? []) {
      this.assertOpen();
      yield this.toTask(task, outputs);
    }
  }

  /** Saves an application state; a checkpoint with the same sequence id is replaced. */
  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.assertOpen();
    const { appId, partitionKey, sequenceId, position, status, createdAt } = checkpoint;
    checkCheckpoint(checkpoint);
    const state = this.encode(
      checkpoint.state,
      `Checkpoint state of application '${appId}' (partition '${partitionKey}', sequence ${sequenceId})`,
    );
    const slot = checkpointSlot(appId, partitionKey);
    let saved = this.checkpoints.get(slot);
    if (!saved) {
      saved = new Map();
      this.checkpoints.set(slot, saved);
    }
    saved.set(sequenceId, { appId, partitionKey, sequenceId, position, state, status, createdAt });
  }

  /** The checkpoint with the highest sequence id, or the one with `sequenceId`. */
  async loadCheckpoint(
    appId: string,
    partitionKey = '',
    sequenceId?: number,
  ): Promise<Checkpoint | undefined> {
    this.assertOpen();
    checkId(appId, 'Application id');
    const saved = this.checkpoints.get(checkpointSlot(appId, partitionKey));
    if (!saved) return undefined;
    let found: StoredCheckpoint | undefined;
    if (sequenceId === undefined) {
      for (const checkpoint of saved.values()) {
        if (!found || checkpoint.sequenceId > found.sequenceId) found = checkpoint;
      }
    } else {
      found = saved.get(sequenceId);
    }
    return found && { ...found, state: this.decode(found.state) as Record<string, unknown> };
  }

  /** Stores a copy of the bytes under a key of a run, replacing what was there. */
  async putArtifact(runId: string, key: string, data: Uint8Array): Promise<void> {
    this.assertOpen();
    checkRunId(runId);
    checkId(key, 'Artifact key');
    checkBytes(runId, key, data);
    this.requireRun(runId);
    this.runArtifacts(runId).set(key, new Uint8Array(data));
  }

  /** The artifacts of a run, by key, made when it has none yet. */
  private runArtifacts(runId: string): Map<string, Uint8Array> {
    let artifacts = this.artifacts.get(runId);
    if (!artifacts) {
      artifacts = new Map();
      this.artifacts.set(runId, artifacts);
    }
    return artifacts;
  }

  /** A copy of the bytes stored under the key, or undefined. */
  async getArtifact(runId: string, key: string): Promise<Uint8Array | undefined> {
    this.assertOpen();
    checkRunId(runId);
    checkId(key, 'Artifact key');
    const data = this.artifacts.get(runId)?.get(key);
    // A copy, so that the caller changing the bytes does not change the store.
    return data && new Uint8Array(data);
  }

  /** Copies of the bytes stored under the keys, in order, undefined where there are none. */
  async getArtifacts(runId: string, keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    this.assertOpen();
    checkRunId(runId);
    checkArray(keys, `The artifact keys read from run '${runId}'`);
    for (const key of keys) checkId(key, 'Artifact key');
    const artifacts = this.artifacts.get(runId);
    return keys.map((key) => {
      const data = artifacts?.get(key);
      return data && new Uint8Array(data);
    });
  }

  /** The keys of the run's artifacts that start with `prefix`, in the order first stored. */
  async *artifactKeys(runId: string, prefix?: string): AsyncIterable<string> {
    this.assertOpen();
    checkRunId(runId);
    const start = checkPrefix(runId, prefix);
    // A snapshot: artifacts stored meanwhile are not listed, none is listed twice.
    for (const key of [...(this.artifacts.get(runId)?.keys() ?? [])]) {
      if (key.startsWith(start)) yield key;
    }
  }

  /**
   * Appends events of a run: all of them, or none when one cannot be stored.
   * @throws SerializationError naming the event when it cannot be stored
   */
  async appendEvents(runId: string, events: readonly WeftEvent[]): Promise<void> {
    this.assertOpen();
    checkRunId(runId);
    checkArray(events, `Events of run '${runId}'`);
    this.requireRun(runId);
    const encoded = events.map((event, i) => {
      if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
        throw new ValidationError(`Event ${i} of run '${runId}' is not an event object.`);
      }
      return this.encode(event, `Event ${i} ('${event.type}') of run '${runId}'`);
    });
    let stored = this.eventLog.get(runId);
    if (!stored) {
      stored = [];
      this.eventLog.set(runId, stored);
    }
    stored.push(...encoded);
  }

  /** The run's events, in the order appended. */
  async listEvents(runId: string): Promise<WeftEvent[]> {
    this.assertOpen();
    checkRunId(runId);
    return (this.eventLog.get(runId) ?? []).map((text) => this.decode(text) as WeftEvent);
  }

  /** Drops everything stored. Later calls reject with a StoreError; closing again does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.runs.clear();
    this.tasks.clear();
    this.checkpoints.clear();
    this.artifacts.clear();
    this.eventLog.clear();
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new StoreError(
        'The memory store is closed, and what it held is gone. Create a new MemoryStore, ' +
          'or close the store only after the runs that use it.',
      );
    }
  }

  private requireRun(id: string): StoredRun {
    const run = this.runs.get(id);
    if (!run) {
      throw new StoreError(`Run '${id}' does not exist in the memory store: open it with openRun.`);
    }
    return run;
  }

  private encodeTask(runId: string, record: TaskRecord): StoredTask {
    checkTaskRecord(runId, record);
    const { key, task, status, attempts, startedAt, durationMs, queuedMs = 0 } = record;
    return {
      key,
      task,
      status,
      attempts,
      startedAt,
      durationMs,
      queuedMs,
      // Only a completed task has an output to resume from; a failed one keeps its error.
      output:
        status === 'completed'
          ? this.encode(record.output, `Task output for key '${key}'`)
          : undefined,
      error:
        record.error === undefined
          ? undefined
          : this.encode(record.error, `Task error for key '${key}'`),
    };
  }

  private toTask(task: StoredTask, withOutput: boolean): TaskRecord {
    return {
      key: task.key,
      task: task.task,
      status: task.status,
      attempts: task.attempts,
      startedAt: task.startedAt,
      durationMs: task.durationMs,
      queuedMs: task.queuedMs,
      ...(withOutput && task.status === 'completed' ? { output: this.decodeOutput(task) } : {}),
      ...(task.error === undefined ? {} : { error: this.decode(task.error) as WireError }),
    };
  }

  private decodeOutput(task: StoredTask): unknown {
    return task.output === undefined ? undefined : this.decode(task.output);
  }

  private encode(value: unknown, key: string): string {
    return this.serializer.encode(value, key);
  }

  private decode(text: string): unknown {
    return this.serializer.decode(text);
  }

  private toRun(run: StoredRun): RunRecord {
    return {
      id: run.id,
      status: run.status,
      createdAt: run.createdAt,
      updatedAt: run.updatedAt,
      attempts: run.attempts,
      meta: this.decode(run.meta) as Record<string, unknown>,
      ...(run.error === undefined ? {} : { error: this.decode(run.error) as WireError }),
      ...(run.owner === undefined
        ? {}
        : { owner: run.owner, leaseExpiresAt: run.leaseExpiresAt ?? 0 }),
    };
  }
}

// JSON quotes both parts, so no pair of ids can collide with another in one string.
function checkpointSlot(appId: string, partitionKey: string): string {
  return JSON.stringify([appId, partitionKey]);
}
