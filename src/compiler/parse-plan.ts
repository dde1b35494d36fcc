/**
 * Planner text in LLMCompiler's format, parsed as it streams:
 *
 *   Thought: I need both temperatures first.
 *   1. search("weather in SF")
 *   2. search(query="weather in NYC")
 *   3. compare($1, $2)
 *   4. join()
 *   <END_OF_PLAN>
 *
 * Chunks may split anywhere, mid-line or mid-token; each task is yielded as soon as its
 * line is complete, with the thought written before it and the tasks its placeholders
 * name. `join()` and `<END_OF_PLAN>` end the plan. As in LLMCompiler, a task whose
 * arguments are not literals (`5. search(Austin Powers)`) is kept, with the text between
 * its parentheses as its one argument. Any other line that starts like a task but cannot
 * be read is skipped. Either way a diagnostic names the line; `onMalformed: 'throw'`
 * makes both a PlanParseError instead.
 */
import { parseArgs } from './args.ts';
import { ArgsSyntaxError, PlanParseError } from './errors.ts';
import { LineSplitter } from './lines.ts';
import { hasMalformedPlaceholder, referencedTasks } from './placeholders.ts';
import type { CompilerTask, ToolArgs } from './schedule.ts';

/** A plan line that was not read as written, and what became of it. */
export interface PlanDiagnostic {
  /** 1-based line number. */
  readonly line: number;
  /** The line, without the spaces around it. */
  readonly text: string;
  readonly message: string;
  /**
   * `'skipped'`: the line is not in the plan (no `tool(arguments)`, an unknown tool, a
   * task number too large). `'raw-arguments'`: its task is in the plan, but its arguments
   * are not literals, so the text between its parentheses, exactly as written, is its one
   * positional argument — as LLMCompiler passes it.
   */
  readonly outcome: 'skipped' | 'raw-arguments';
}

/** Options of {@link parsePlan}. */
export interface ParsePlanOptions {
  /** Known tool names: a task calling another is malformed. @default any name */
  readonly tools?: Iterable<string>;
  /**
   * `'skip'`: a task line that cannot be read is reported to `onDiagnostic` and skipped,
   * except one whose only fault is arguments that are not literals: that task is kept with
   * its argument text whole, as LLMCompiler keeps it, and reported too.
   * `'throw'`: any of these lines is a PlanParseError.
   * @default 'skip'
   */
  readonly onMalformed?: 'skip' | 'throw';
  /** Hears the lines that were not read as written: skipped, or kept with raw arguments. */
  readonly onDiagnostic?: (diagnostic: PlanDiagnostic) => void;
  /** Called with the thought that ends the plan (after the last task), if any. */
  readonly onThought?: (thought: string) => void;
}

const taskLine = /^\s*(\d+)\s*\.\s*(.*)$/s;
const call = /^([A-Za-z_][\w.-]*)\s*\(([\s\S]*)\)\s*$/;
const thoughtLine = /^\s*Thought\s*:\s*(.*)$/is;
const endMarker = '<END_OF_PLAN>';

/** Text as it is quoted in a message: a model's line can be megabytes long. */
function excerpt(text: string): string {
  return text.length <= 200
    ? text
    : `${text.slice(0, 100)}…(${text.length - 180} more)…${text.slice(-80)}`;
}

/**
 * Parses planner text from a stream of chunks (or one string) into tasks, yielding each
 * as soon as its line is complete. Every task carries its `dependencies`: the task numbers
 * its `$N` / `${N}` placeholders name, ascending, as LLMCompiler's parser computes them
 * (except that a reference to the task itself or a later one is kept, not dropped, so
 * that scheduling reports it).
 * @example
 * for await (const task of parsePlan('1. search("SF")\n2. search(NYC)\n3. diff($1, $2)')) {
 *   // { idx: 1, tool: 'search', args: ['SF'], dependencies: [] }
 *   // { idx: 2, tool: 'search', args: ['NYC'], dependencies: [] }, with a diagnostic
 *   // { idx: 3, tool: 'diff', args: ['$1', '$2'], dependencies: [1, 2] }
 * }
 */
export async function* parsePlan(
  text: AsyncIterable<string> | Iterable<string> | string,
  options: ParsePlanOptions = {},
): AsyncGenerator<CompilerTask, void, undefined> {
  const tools = options.tools === undefined ? undefined : new Set(options.tools);
  // Only new text is searched for line breaks: a long line in tiny chunks stays linear.
  const lines = new LineSplitter();
  let lineNumber = 0;
  let thought: string | undefined;
  let ended = false;

  const onLine = (raw: string): CompilerTask | undefined => {
    lineNumber++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trim();
    if (trimmed === '') return undefined;
    const task = taskLine.exec(line);
    // The marker ends the plan, unless it is inside a task line (a quoted argument).
    if (!task && trimmed.includes(endMarker)) {
      ended = true;
      return undefined;
    }
    const thoughtMatch = thoughtLine.exec(line);
    if (thoughtMatch) {
      thought = thoughtMatch[1]!.trim();
      return undefined;
    }
    // Free text between tasks (a model thinking aloud) is not part of the plan.
    if (!task) return undefined;
    const idx = Number(task[1]);
    if (!Number.isSafeInteger(idx))
      return malformed(`task number ${excerpt(task[1]!)} is too large`);
    let body = task[2]!.trim();
    // `4. join()<END_OF_PLAN>` on one line.
    if (body.endsWith(endMarker)) {
      body = body.slice(0, -endMarker.length).trim();
      ended = true;
    }
    const parsed = call.exec(body);
    if (!parsed) return malformed(`'${excerpt(body)}' is not tool(arguments)`);
    const tool = parsed[1]!;
    if (tool === 'join') {
      ended = true;
      return undefined;
    }
    if (tools && !tools.has(tool)) {
      return malformed(`'${tool}' is not a tool; the tools are ${[...tools].join(', ')}`);
    }
    const argText = parsed[2]!;
    let args: ToolArgs;
    try {
      args = parseArgs(argText);
    } catch (error) {
      if (!(error instanceof ArgsSyntaxError)) throw error;
      // Skipped as before when the text would fail the plan's scheduling (a `${name}`
      // that is no placeholder): one unreadable line must not fail the whole plan.
      if (options.onMalformed === 'throw' || hasMalformedPlaceholder(argText)) {
        return malformed(`its arguments cannot be read: ${error.message}`);
      }
      // LLMCompiler hands such a line's argument text, untrimmed, to the tool as its one argument.
      args = [argText];
      report(
        'raw-arguments',
        `its arguments are not literals (${excerpt(error.message)}), so task ${idx} gets the text between its parentheses as its one argument`,
      );
    }
    const dependencies = referencedTasks(args);
    const made: CompilerTask =
      thought === undefined
        ? { idx, tool, args, dependencies }
        : { idx, tool, args, dependencies, thought };
    thought = undefined;
    return made;

    function malformed(message: string): undefined {
      if (options.onMalformed === 'throw') {
        throw new PlanParseError(described(message), lineNumber, trimmed);
      }
      report('skipped', message);
      return undefined;
    }

    function report(outcome: PlanDiagnostic['outcome'], message: string): void {
      options.onDiagnostic?.({
        line: lineNumber,
        text: trimmed,
        message: described(message),
        outcome,
      });
    }

    function described(message: string): string {
      return `Plan line ${lineNumber} (${excerpt(trimmed)}): ${message}.`;
    }
  };

  const chunks = typeof text === 'string' ? [text] : text;
  for await (const chunk of chunks as AsyncIterable<string>) {
    if (typeof chunk !== 'string') continue;
    for (const line of lines.push(chunk)) {
      const task = onLine(line);
      if (task) yield task;
      if (ended) break;
    }
    if (ended) break;
  }
  const last = ended ? undefined : lines.end();
  if (last !== undefined) {
    const task = onLine(last);
    if (task) yield task;
  }
  if (thought !== undefined) options.onThought?.(thought);
}
