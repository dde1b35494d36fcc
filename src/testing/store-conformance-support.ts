/**
 * What the store conformance cases share: fresh ids, sample records, values and events,
 * and the assertions that compare what a store read back with what it was given.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TaskFailedError, toWire } from '../core/errors.ts';
import type { WeftEvent } from '../core/events.ts';
import type { ArtifactWrite, Checkpoint, Store, TaskRecord } from '../core/store.ts';

/** Options every case is declared with. */
export interface CaseOptions {
  readonly timeout: number;
}

/** A fresh id, so that cases sharing a database never meet. */
export function freshId(label: string): string {
  return `conformance-${label}-${randomUUID()}`;
}

/** Opens runs with fresh ids on the suite's store, so that cases sharing a database never meet. */
export function freshRunOpener(store: () => Store): (label: string) => Promise<string> {
  return async (label) => {
    const id = freshId(label);
    await store().openRun(id);
    return id;
  };
}

export function completedRecord(key: string, output: unknown): TaskRecord {
  return {
    key,
    task: 'conformance:task',
    status: 'completed',
    attempts: 1,
    startedAt: 1_700_000_000_000,
    durationMs: 12,
    output,
  };
}

export function failedRecord(key: string, error: TaskRecord['error']): TaskRecord {
  return {
    key,
    task: 'conformance:task',
    status: 'failed',
    attempts: 2,
    startedAt: 1_700_000_000_500,
    durationMs: 7,
    queuedMs: 40.5,
    ...(error === undefined ? {} : { error }),
  };
}

/** Compares records field by field, since a store may or may not set absent fields. */
export function assertRecords(
  actual: readonly TaskRecord[],
  expected: readonly TaskRecord[],
): void {
  assert.deepEqual(
    actual.map((record) => record.key),
    expected.map((record) => record.key),
    'keys in recorded order',
  );
  expected.forEach((want, i) => {
    const got = actual[i]!;
    for (const field of ['task', 'status', 'attempts', 'startedAt', 'durationMs'] as const) {
      assert.equal(got[field], want[field], `${want.key}: ${field}`);
    }
    assert.equal(got.queuedMs, want.queuedMs ?? 0, `${want.key}: queuedMs`);
    if (want.status === 'completed') {
      assert.deepStrictEqual(
        comparable(got.output),
        comparable(want.output),
        `${want.key}: output`,
      );
    }
    assert.deepStrictEqual(got.error, want.error, `${want.key}: error`);
  });
}

export function checkpoint(appId: string, partitionKey: string, sequenceId: number): Checkpoint {
  return {
    appId,
    partitionKey,
    sequenceId,
    position: `action-${sequenceId}`,
    state: {
      count: sequenceId,
      history: [`step ${sequenceId}`],
      seen: new Set([sequenceId]),
      at: new Date(1_700_000_000_000 + sequenceId),
      partition: partitionKey,
    },
    status: sequenceId % 2 === 0 ? 'completed' : 'failed',
    createdAt: 1_700_000_000_000 + sequenceId * 1_000,
  };
}

export function assertCheckpoint(actual: Checkpoint | undefined, expected: Checkpoint): void {
  assert.ok(actual, `checkpoint ${expected.sequenceId} of '${expected.partitionKey}' is found`);
  assert.deepStrictEqual(comparable(actual), comparable(expected));
}

export function startEvent(key: string, item: number): WeftEvent {
  return {
    type: 'task:start',
    time: 1_700_000_000_000 + item,
    scope: 'map:e',
    key,
    task: 'conformance:task',
    item,
    attempt: 1,
  };
}

export function sampleEvents(): WeftEvent[] {
  const base = { time: 1_700_000_000_000, scope: 'map:square' } as const;
  const task = { ...base, key: 'map:square/1', task: 'square', item: 1 } as const;
  return [
    { ...base, type: 'map:start', task: 'square', total: 2, label: 'square' },
    { ...task, type: 'task:start', attempt: 1 },
    {
      ...task,
      type: 'task:progress',
      attempt: 1,
      progress: { done: 1, total: 2, message: 'half' },
    },
    { ...task, type: 'task:progress', attempt: 1, progress: 0.75 },
    { ...task, type: 'task:retry', attempt: 1, error: new Error('flaky'), delayMs: 100 },
    {
      ...task,
      type: 'task:fail',
      attempt: 2,
      durationMs: 3.5,
      queuedMs: 1.25,
      error: sampleError(),
    },
    { ...base, type: 'map:end', completed: 1, failed: 1, durationMs: 9, error: undefined },
    { ...base, type: 'dag:start', task: undefined, total: undefined, label: 'dag', hidden: true },
  ];
}

/** A weft error with a code, own properties and a cause, as a failed task leaves. */
export function sampleError(): Error {
  const cause = Object.assign(new RangeError('x must be positive'), { code: 'E_RANGE', x: -1 });
  return new TaskFailedError('square', 'map:square/1', 2, cause);
}

/** One value of every type the serializer contract promises, by label. */
export function sampleValues(): Record<string, unknown> {
  const bytes = Uint8Array.of(0, 1, 127, 128, 255);
  return {
    string: 'plain, "quoted", <tagged>, üñí©ødé ✓, \u2028 and \n',
    'empty string': '',
    integer: 42,
    float: -3.25,
    'max safe integer': Number.MAX_SAFE_INTEGER,
    true: true,
    false: false,
    null: null,
    undefined: undefined,
    'array with undefined': [1, undefined, 'three'],
    'object with undefined': { kept: 1, missing: undefined },
    NaN: Number.NaN,
    Infinity: Number.POSITIVE_INFINITY,
    '-Infinity': Number.NEGATIVE_INFINITY,
    '-0': -0,
    Date: new Date('2024-02-29T12:34:56.789Z'),
    Map: new Map<unknown, unknown>([
      ['a', 1],
      [2, 'two'],
      [true, { nested: [1] }],
    ]),
    Set: new Set([1, 'one', 2n]),
    BigInt: 123_456_789_012_345_678_901_234_567_890n,
    'negative BigInt': -42n,
    RegExp: /^weft-(\d+)$/giu,
    Int8Array: Int8Array.of(-128, 0, 127),
    Uint8Array: bytes,
    Uint8ClampedArray: Uint8ClampedArray.of(0, 255),
    Int16Array: Int16Array.of(-32_768, 32_767),
    Uint16Array: Uint16Array.of(0, 65_535),
    Int32Array: Int32Array.of(-2_147_483_648, 2_147_483_647),
    Uint32Array: Uint32Array.of(0, 4_294_967_295),
    Float32Array: Float32Array.of(1.5, Number.NaN, -0),
    Float64Array: Float64Array.of(Math.PI, Number.NEGATIVE_INFINITY),
    BigInt64Array: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n),
    BigUint64Array: BigUint64Array.of(0n, 2n ** 64n - 1n),
    ArrayBuffer: bytes.buffer.slice(0),
    error: sampleError(),
    nested: {
      rows: [{ id: 1n, at: new Date(0), tags: new Set(['x']) }, undefined, [Number.NaN, -0]],
      index: new Map([['row', { bytes: Uint8Array.of(9), why: new Error('plain error') }]]),
      deeper: { deeper: { deeper: { value: 'bottom', none: null } } },
    },
  };
}

/**
 * The value with every Error replaced by its wire form (name, message, stack, code,
 * cause, own properties), so that deep equality compares errors by what a store keeps
 * rather than by prototype. Other values are kept, inside copies of their containers.
 */
export function comparable(value: unknown): unknown {
  if (value instanceof Error) return { error: toWire(value) };
  if (value instanceof Map) {
    return new Map([...value].map(([key, entry]) => [comparable(key), comparable(entry)]));
  }
  if (value instanceof Set) return new Set([...value].map(comparable));
  if (Array.isArray(value)) return value.map(comparable);
  if (typeof value === 'object' && value !== null && isPlain(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, entry]) => [key, comparable(entry)]),
    );
  }
  return value;
}

export function isPlain(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

export function assertTime(time: number, calledAt: number): void {
  assert.ok(Number.isFinite(time), `a time in milliseconds, not ${time}`);
  // A SQL store may take the time from its server and round it: allow a second either way.
  const slack = 1_000;
  assert.ok(
    time >= calledAt - slack && time <= Date.now() + slack,
    `${time} is the time of the call (${calledAt})`,
  );
}

export function assertNewestFirst(times: readonly number[]): void {
  for (let i = 1; i < times.length; i++) {
    assert.ok(times[i - 1]! >= times[i]!, `run ${i - 1} is not older than run ${i}`);
  }
}

/** The rejection reason of `promise`; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>, what = 'the call'): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail(`${what} resolved, but it was expected to reject`);
}

/** A completed record of `key` that hands `artifacts` to the store with it. */
export function withArtifacts(key: string, artifacts: readonly ArtifactWrite[]): TaskRecord {
  return { ...completedRecord(key, `output of ${key}`), artifacts };
}

/** Every key `artifactKeys` yields, sorted by code unit. */
export async function listedKeys(store: Store, runId: string, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.artifactKeys(runId, prefix)) keys.push(key);
  return keys.sort();
}
