/** Errors of plans: what a model wrote that weft cannot run, named by task and line. */
import { WeftError } from '../core/errors.ts';

/** A plan that cannot run: an unknown tool, a bad reference, a malformed placeholder. */
export class PlanError extends WeftError {
  override name = 'PlanError';
  /** The task the problem is in, when there is one. */
  readonly idx: number | undefined;
  constructor(message: string, idx?: number) {
    super('WEFT_PLAN', message);
    this.idx = idx;
  }
}

/** A line of planner text that is not a task, a thought or the end marker. */
export class PlanParseError extends WeftError {
  override name = 'PlanParseError';
  /** 1-based line number in the planner's text. */
  readonly line: number;
  /** The line as written. */
  readonly text: string;
  constructor(message: string, line: number, text: string) {
    super('WEFT_PLAN_PARSE', message);
    this.line = line;
    this.text = text;
  }
}

/**
 * The argument list of a plan line cannot be read (an unclosed string, an unknown word, a
 * bad placeholder): `column` is 1-based in the text between the parentheses.
 */
export class ArgsSyntaxError extends WeftError {
  override name = 'ArgsSyntaxError';
  /** 1-based column in the argument text. */
  readonly column: number;
  constructor(message: string, column: number) {
    super('WEFT_PLAN_ARGS', message);
    this.column = column;
  }
}
