/** What `weft run --run-id <id>` may name: not an option, not a run that ran another job. */
import { ValidationError } from '../core/errors.ts';
import type { RunRecord } from '../core/store.ts';
import { clipped, shellWord } from './text.ts';

/** An id of `weft run --run-id`: withRun's rule (1 to 200 of `\w . : @ -`), starting with a letter or digit. */
const runIdRule = /^[A-Za-z0-9][\w.:@-]{0,199}$/;

/**
 * Refuses an id that `--run-id` does not take: one that starts with `-` (in
 * `--run-id --help` the option took the next word as its value, which is surely not what
 * was meant), or with another character than a letter or digit (`..`, `.hidden`, `_x`),
 * or that holds characters a run id may not hold.
 * @throws ValidationError naming the id and the rule
 */
export function checkRunIdOption(id: string): void {
  if (runIdRule.test(id)) return;
  const rule =
    'a run id starts with a letter or digit, followed by up to 199 letters (a-z, A-Z), ' +
    'digits and . _ : @ -, e.g. --run-id nightly-2';
  throw new ValidationError(
    id.startsWith('-')
      ? `Run id '${clipped(id)}' looks like an option: --run-id takes the word after it as the id; ${rule}.`
      : `Run id '${clipped(id)}' is not valid: ${rule}.`,
  );
}

/** The job a run was started with, as `weft run` records it in the run's meta. */
export interface JobCommand {
  /** The module's absolute path. */
  readonly file: string;
  /** The arguments after the file name. */
  readonly args: readonly string[];
}

/**
 * Refuses, unless `force`, to run `job` under the id of a recorded run that was started
 * with another file or other arguments: its finished tasks would be returned as this
 * job's results. (A run that a live process owns is refused by its lease.)
 * @throws ValidationError naming the run, the job it ran and the way out
 */
export function checkRerun(run: RunRecord, job: JobCommand, force: boolean): void {
  if (force) return;
  const { file, args } = run.meta as { file?: unknown; args?: unknown };
  const recorded =
    typeof file === 'string'
      ? { file, args: Array.isArray(args) ? args.map(String) : [] }
      : undefined;
  if (recorded && sameJob(recorded, job)) return;
  throw new ValidationError(
    `Run '${run.id}' ${recorded ? `was started as: weft run ${command(recorded)}` : 'was not started by weft run'}; ` +
      `this is: weft run ${command(job)}. Its finished tasks would be returned as this job's ` +
      'results. Give another --run-id (or none for a new run), or add --force to run this job ' +
      'under that id anyway.',
  );
}

function sameJob(a: JobCommand, b: JobCommand): boolean {
  return (
    a.file === b.file &&
    a.args.length === b.args.length &&
    a.args.every((arg, i) => arg === b.args[i])
  );
}

function command({ file, args }: JobCommand): string {
  // `--` keeps arguments that start with - for the job, as when they were typed.
  const rest =
    args.length === 0
      ? ''
      : ` ${args.some((arg) => arg.startsWith('-')) ? '-- ' : ''}${args.map(shellWord).join(' ')}`;
  return `${shellWord(file)}${rest}`;
}
