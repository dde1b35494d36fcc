/** `weft resume <run>`: runs the same job again under the same run id; finished tasks are skipped. */
import { ValidationError } from '../core/errors.ts';
import { openExistingStore } from '../stores/open.ts';
import { statusOf } from '../ui/run-status.ts';
import { type RunOptions, runJob } from './run-job.ts';
import { storeUrl } from './store-option.ts';
import { clipped, printable, shellWord } from './text.ts';

export async function resumeRun(runId: string, options: RunOptions): Promise<void> {
  // Read first, creating nothing: there may be no such run, or no store at all.
  const { store, location } = await openExistingStore(storeUrl(options.store));
  if (!store) {
    throw new ValidationError(
      `No run '${clipped(runId)}': there is no store at ${location} yet. Give the store the run was ` +
        'recorded in with --store, or start a run with: weft run <file>',
    );
  }
  let file: string;
  let args: readonly string[];
  let executor: string | undefined;
  let workers: string | undefined;
  try {
    const run = await store.getRun(runId);
    if (!run) {
      throw new ValidationError(
        `No run '${clipped(runId)}' in ${store.location}. List the runs with: weft runs`,
      );
    }
    if (statusOf(run) === 'completed') {
      process.stdout.write(
        `${printable(`Run '${runId}' already completed: nothing to resume. See it with: weft show ${shellWord(runId)}`)}\n`,
      );
      return;
    }
    const meta = run.meta as {
      file?: unknown;
      args?: unknown;
      executor?: unknown;
      workers?: unknown;
    };
    if (typeof meta.file !== 'string') {
      throw new ValidationError(
        `Run '${runId}' was not started by weft run, so there is no file to run again. ` +
          'Resume it from code: withRun({ store, runId }, …).',
      );
    }
    file = meta.file;
    args = Array.isArray(meta.args) ? meta.args.map(String) : [];
    executor = typeof meta.executor === 'string' ? meta.executor : undefined;
    workers = typeof meta.workers === 'string' ? meta.workers : undefined;
  } finally {
    await store.close();
  }
  // Options given now win over those the run was started with.
  await runJob(file, args, {
    ...options,
    runId,
    ...((options.executor ?? executor) ? { executor: options.executor ?? executor } : {}),
    ...((options.workers ?? workers) ? { workers: options.workers ?? workers } : {}),
  });
}
