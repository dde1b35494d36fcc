/** `weft run <file>`: runs a module's default export as a recorded run, with live progress. */
import { checkRunIdOption } from './run-id.ts';
import { type RunOptions, runJob } from './run-job.ts';

/**
 * `weft run`: refuses a `--run-id` that is not a run id (see {@link checkRunIdOption}),
 * then runs `file` as {@link runJob} does.
 */
export async function runFile(
  file: string,
  args: readonly string[],
  options: RunOptions,
): Promise<void> {
  if (options.runId !== undefined) checkRunIdOption(options.runId);
  await runJob(file, args, options);
}
