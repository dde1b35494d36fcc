/**
 * Checks of what callers hand a store, made before anything is written so that bad input is
 * a ValidationError naming the field (as the memory store words it), not a database error.
 */
import { RunBusyError, SerializationError, ValidationError } from '../core/errors.ts';
import {
  type ArtifactWrite,
  type Checkpoint,
  defaultLeaseMs,
  type OpenRunOptions,
  type RunStatus,
  type TaskRecord,
} from '../core/store.ts';
import { hasLoneSurrogate } from './sql/key-codec.ts';

const finishStatuses: ReadonlySet<string> = new Set(['completed', 'failed', 'interrupted']);
const recordStatuses: ReadonlySet<string> = new Set(['completed', 'failed']);

/** Throws unless `value` is a non-empty string. */
export function checkId(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    throw new ValidationError(`${what} must be a non-empty string, got ${describe(value)}.`);
  }
}

/** The longest run id, in bytes of UTF-8: every store keeps it in an index of its own. */
export const maxRunIdBytes = 1024;

/**
 * Throws unless `id` is a run id every store keeps exactly: a non-empty string of
 * well-formed Unicode, without NUL, of at most {@link maxRunIdBytes} bytes of UTF-8.
 */
export function checkRunId(id: unknown): asserts id is string {
  checkId(id, 'Run id');
  if (id.includes('\0') || hasLoneSurrogate(id)) {
    throw new ValidationError(
      `Run id ${JSON.stringify(id)} holds a NUL or a lone surrogate (half of a character), ` +
        'which a database cannot keep exactly: use another id.',
    );
  }
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > maxRunIdBytes) {
    throw new ValidationError(
      `Run id '${id.slice(0, 40)}…' is ${bytes} bytes long (UTF-8), over the ${maxRunIdBytes} ` +
        'bytes a store keeps: use a shorter id.',
    );
  }
}

/** Throws unless `meta` is a plain object. */
export function checkMeta(id: string, meta: unknown): asserts meta is Record<string, unknown> {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new ValidationError(`Run meta of '${id}' must be an object, got ${describe(meta)}.`);
  }
}

/** {@link OpenRunOptions} checked, with their defaults. */
export interface LeaseRequest {
  readonly owner: string;
  readonly leaseMs: number;
  readonly takeOverFrom: string | undefined;
}

/**
 * The refusal of a write fenced by `owner` (see `Store.recordTasks`) when the run is held
 * by `holder` now, or by nobody (finished, or released).
 */
export function notHeld(
  runId: string,
  owner: string,
  holder: string | null | undefined,
  leaseExpiresAt: number | null | undefined,
): RunBusyError {
  const now = holder ? `is held by '${holder}' now` : 'is held by no one now (it was finished)';
  return new RunBusyError(
    runId,
    holder ?? '',
    Number(leaseExpiresAt ?? 0),
    `Run '${runId}' ${now}, not by '${owner}': that owner's lease was lost (the run was ` +
      'taken over), so its task records were not written. Its process stops its work on ' +
      'the run and leaves the run to its holder.',
  );
}

/**
 * The options of openRun, checked and completed.
 * @param defaultOwner the owner when none is given: a token of the store object
 */
export function checkOpenRunOptions(
  id: string,
  options: OpenRunOptions,
  defaultOwner: string,
): LeaseRequest {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`Options of openRun('${id}') must be an object.`);
  }
  const { owner = defaultOwner, leaseMs = defaultLeaseMs, takeOverFrom } = options;
  checkId(owner, `Owner of run '${id}'`);
  checkLeaseMs(id, leaseMs);
  if (takeOverFrom !== undefined) checkId(takeOverFrom, `takeOverFrom of run '${id}'`);
  return { owner, leaseMs, takeOverFrom };
}

/** Throws unless `leaseMs` is a positive number of milliseconds. */
export function checkLeaseMs(id: string, leaseMs: unknown): asserts leaseMs is number {
  if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new ValidationError(
      `The lease of run '${id}' must last a positive number of milliseconds, got ${describe(leaseMs)}.`,
    );
  }
}

/** Throws unless `keys` is an array of task keys. */
export function checkKeys(runId: string, keys: unknown): asserts keys is readonly string[] {
  checkArray(keys, `Keys looked up in run '${runId}'`);
  for (const key of keys) checkId(key, `A key looked up in run '${runId}'`);
}

/** The prefix of artifactKeys, checked: a string, '' (every key) when absent. */
export function checkPrefix(runId: string, prefix: unknown): string {
  if (prefix === undefined) return '';
  if (typeof prefix !== 'string') {
    throw new ValidationError(
      `The prefix of the artifact keys listed in run '${runId}' must be a string, got ${describe(prefix)}.`,
    );
  }
  return prefix;
}

/** Throws unless `status` is one a run can finish with. */
export function checkFinishStatus(
  id: string,
  status: unknown,
): asserts status is Exclude<RunStatus, 'running'> {
  if (typeof status !== 'string' || !finishStatuses.has(status)) {
    throw new ValidationError(
      `Run '${id}' cannot finish as ${describe(status)}: use 'completed', 'failed' or 'interrupted'.`,
    );
  }
}

/** Throws unless `record` is a task record of run `runId` that a store can keep. */
export function checkTaskRecord(runId: string, record: unknown): asserts record is TaskRecord {
  if (typeof record !== 'object' || record === null) {
    throw new ValidationError(`A task record of run '${runId}' is ${describe(record)}.`);
  }
  const { key, task, status, attempts, startedAt, durationMs } = record as TaskRecord;
  checkId(key, `Task key in run '${runId}'`);
  if (typeof task !== 'string' || !isRecordStatus(status)) {
    throw new ValidationError(
      `Task record '${key}' needs a task name and a status of 'completed' or 'failed'.`,
    );
  }
  if (!(Number.isFinite(attempts) && Number.isFinite(startedAt) && Number.isFinite(durationMs))) {
    throw new ValidationError(
      `Task record '${key}' needs numeric attempts, startedAt and durationMs.`,
    );
  }
  const { queuedMs } = record as TaskRecord;
  if (queuedMs !== undefined && !(Number.isFinite(queuedMs) && queuedMs >= 0)) {
    throw new ValidationError(
      `Task record '${key}' has queuedMs ${describe(queuedMs)}: give a number of milliseconds ≥ 0, or leave it out.`,
    );
  }
}

/** Throws unless `status` is one a task record or a checkpoint can have. */
export function isRecordStatus(status: unknown): status is 'completed' | 'failed' {
  return typeof status === 'string' && recordStatuses.has(status);
}

/** Throws unless `value` is an array. */
export function checkArray(value: unknown, what: string): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw new ValidationError(`${what} must be an array.`);
}

/** Throws unless `data` is bytes. */
export function checkBytes(runId: string, key: string, data: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new ValidationError(
      `Artifact '${key}' of run '${runId}' must be a Uint8Array (or Buffer), got ${describe(data)}.`,
    );
  }
}

const noArtifacts: readonly ArtifactWrite[] = [];

/**
 * The artifacts of a task record (none when it has none), each with a key and bytes, as
 * putArtifact takes them. A refusal is a SerializationError naming the artifact and the
 * task, as for an output that cannot be stored: the record fails alone (the recorder
 * writes the others of its group), and nothing of the write is stored.
 */
export function checkArtifactWrites(runId: string, record: TaskRecord): readonly ArtifactWrite[] {
  const { artifacts } = record;
  if (artifacts === undefined) return noArtifacts;
  const task = `task '${record.key}' in run '${runId}'`;
  if (!Array.isArray(artifacts)) {
    throw new SerializationError(
      `The artifacts of ${task} cannot be stored: they must be an array of { key, data }, got ${describe(artifacts)}.`,
    );
  }
  for (const [i, artifact] of (artifacts as unknown[]).entries()) {
    const { key, data } = (artifact ?? {}) as Partial<ArtifactWrite>;
    if (typeof key !== 'string' || key === '') {
      throw new SerializationError(
        `Artifact ${i} of ${task} cannot be stored: its key must be a non-empty string, got ${describe(key)}.`,
      );
    }
    if (!(data instanceof Uint8Array)) {
      throw new SerializationError(
        `Artifact '${key}' of ${task} cannot be stored: its data must be a Uint8Array (or Buffer), got ${describe(data)}.`,
      );
    }
  }
  return artifacts;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === '') return "''";
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/**
 * Throws unless a checkpoint's fields are well formed. The sequence id stops at 2^31 − 1,
 * the largest SQL INTEGER, so that every store accepts the same checkpoints.
 */
export function checkCheckpoint(checkpoint: Checkpoint): void {
  const { appId, partitionKey, sequenceId, position, status, createdAt } = checkpoint;
  checkId(appId, 'Application id');
  if (typeof partitionKey !== 'string') {
    throw new ValidationError(
      `Partition key of application '${appId}' must be a string ('' for none).`,
    );
  }
  if (!Number.isSafeInteger(sequenceId) || sequenceId < 0 || sequenceId > 2 ** 31 - 1) {
    throw new ValidationError(
      `Sequence id of application '${appId}' must be an integer from 0 to 2147483647, got ${sequenceId}.`,
    );
  }
  if (typeof position !== 'string' || !isRecordStatus(status)) {
    throw new ValidationError(
      `Checkpoint of application '${appId}' needs a string position and a status of 'completed' or 'failed'.`,
    );
  }
  if (!Number.isFinite(createdAt)) {
    throw new ValidationError(`Checkpoint of application '${appId}' needs a numeric createdAt.`);
  }
}
