/**
 * An error as the one line the CLI prints: the first line of its message, with the place
 * in the source when a module failed to compile. The whole message stays in the error (and
 * in the run's record) for `--stack`, `WEFT_DEBUG=1` and `weft show --json`.
 */
import { printable } from './text.ts';

/** What the CLI prints of an error. */
export interface ErrorLine {
  /** One printable line. */
  readonly line: string;
  /** Whether the message holds more than the line says. */
  readonly cut: boolean;
}

// esbuild (through the TypeScript loader): a count, then `file:line:column: ERROR: text`.
const compileFailed = /^(?:Transform|Build) failed with (\d+) errors?:$/;
const compileError = /^(.+:\d+:\d+): ERROR: (.*)$/;

/** The line for `error`: an Error, an error as a store records it, or any thrown value. */
export function errorLine(error: unknown): ErrorLine {
  const message = messageOf(error);
  const lines = message.split('\n').filter((line) => line.trim() !== '');
  const [first = '', second = ''] = lines;
  const failed = compileFailed.exec(first);
  const where = failed ? compileError.exec(second) : null;
  if (failed && where) {
    const more = Number(failed[1]) - 1;
    return {
      line: printable(`${first} ${where[1]}: ${where[2]}${more > 0 ? ` (and ${more} more)` : ''}`),
      cut: lines.length > 2,
    };
  }
  const place = syntaxErrorPlace(error);
  return {
    line: printable(`${first.trimEnd()}${place ? ` (${place})` : ''}`),
    cut: lines.length > 1,
  };
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return String((error as { message: unknown }).message);
  }
  return String(error);
}

/** `file:line` of a SyntaxError of a CommonJS module, which Node puts above its stack. */
function syntaxErrorPlace(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, stack } = error as { name?: unknown; stack?: unknown };
  if (name !== 'SyntaxError' || typeof stack !== 'string') return undefined;
  const top = stack.slice(0, stack.indexOf('\n'));
  return !top.startsWith(name) && /^.+:\d+$/.test(top) ? top : undefined;
}
