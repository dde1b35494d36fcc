/**
 * A task's output together with artifacts to store in the same transaction as the task's
 * record, so that they are durable exactly when the task counts as finished: a crash
 * leaves both or neither. The fan-out records the artifacts and hands on only the value.
 */
import type { ArtifactWrite } from './store.ts';

export class WithArtifacts<T = unknown> {
  readonly value: T;
  readonly artifacts: readonly ArtifactWrite[];

  constructor(value: T, artifacts: readonly ArtifactWrite[]) {
    this.value = value;
    this.artifacts = artifacts;
  }
}

/**
 * Returns `value` as a task's output with `artifacts` stored alongside its record. Only
 * for tasks of a recorded fan-out (inside a run): elsewhere the fan-out refuses it.
 */
export function withArtifacts<T>(value: T, artifacts: readonly ArtifactWrite[]): WithArtifacts<T> {
  return new WithArtifacts(value, artifacts);
}
