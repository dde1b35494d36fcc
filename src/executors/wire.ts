/**
 * Messages between an off-thread executor and its workers. Kept in one place so that
 * the two sides cannot drift apart.
 */
import type { WireError } from '../core/errors.ts';

/** One invocation as sent to a worker. */
export interface WireCall {
  /** Executor-wide id, used to route progress and aborts. */
  readonly id: number;
  readonly name: string;
  readonly module: string;
  readonly input: unknown;
  readonly attempt: number;
  readonly key: string;
  /** The task has a timeout: the worker reports its real start at once, which starts the clock. */
  readonly timed: boolean;
  /**
   * Set when the invocation is aborted while its batch still waits in the pool's queue:
   * the message is copied only when the pool posts it, so the worker then sees this and
   * skips the call (an abort sent on the control channel could arrive after the batch).
   */
  abortedWith?: WireError;
}

/** A batch of invocations: one pool task. */
export interface BatchRequest {
  readonly calls: readonly WireCall[];
  /** BroadcastChannel name for aborts and progress (threads), or undefined (processes use their IPC channel). */
  readonly link: string | undefined;
}

/** `progress`: how many progress reports the task sent, so none is lost on the way. */
export type WireOutcome =
  | { readonly ok: true; readonly value: unknown; readonly progress?: number }
  | { readonly ok: false; readonly error: WireError; readonly progress?: number };

export interface BatchResponse {
  readonly outcomes: readonly WireOutcome[];
  /** Time the worker spent on the batch, for batch sizing. */
  readonly elapsedMs: number;
  /** When the worker started the batch, in milliseconds since the epoch. */
  readonly startedAt: number;
  /**
   * Two numbers per call, in call order: when it started, in milliseconds from
   * `startedAt`, and how long it ran; -1 for a call that never ran. One typed array
   * rather than two fields per outcome, so that timing every task costs one copy.
   */
  readonly timings: Float64Array;
}

/** Control messages, both ways. */
export type ControlMessage =
  | { readonly weft: 'abort'; readonly id: number; readonly reason: WireError }
  | { readonly weft: 'progress'; readonly id: number; readonly value: unknown }
  | { readonly weft: 'started'; readonly id: number };

export function isControlMessage(message: unknown): message is ControlMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    ['abort', 'progress', 'started'].includes((message as ControlMessage).weft)
  );
}
