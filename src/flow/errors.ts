/** Errors of flows that users act on. */
import { WeftError } from '../core/errors.ts';

/** A layer failed: names it, and for a ForEach layer how many tasks and which. */
export class LayerFailedError extends WeftError {
  override name = 'LayerFailedError';
  /** The ForEach tasks that failed (empty for a layer without ForEach). */
  readonly failedTasks: readonly number[];
  constructor(message: string, failedTasks: readonly number[], cause: unknown) {
    super('WEFT_LAYER_FAILED', message, { cause });
    this.failedTasks = failedTasks;
  }
}
