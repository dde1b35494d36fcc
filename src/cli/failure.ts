/** How a verb hands `main` an error together with what to print after it. */

/**
 * A verb failed: `main` prints `error` as it prints any error, then the lines `after` it
 * (how to resume the run). `error` is undefined when nothing more needs saying, as for a
 * run stopped with Ctrl-C, which said so when it happened.
 */
export class CommandFailure extends Error {
  override name = 'CommandFailure';
  /** What went wrong; undefined when it was already told. */
  readonly error: unknown;
  /** Lines to print after the error, without the `weft: ` prefix. */
  readonly after: readonly string[];

  constructor(error: unknown, after: readonly string[]) {
    super('The command failed.', { cause: error });
    this.error = error;
    this.after = after;
  }
}
