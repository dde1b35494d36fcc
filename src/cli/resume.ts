/** `weft resume <run>`: runs the same job again under the same run id; finished tasks are skipped. */
import { ValidationError } from '../core/errors.ts';
import { openStore } from '../stores/open.ts';
import { type RunOptions, runFile, storeUrl } from './run.ts';
import { statusOf } from './runs.ts';

export async function resumeRun(runId: string, options: RunOptions): Promise<void> {
  const store = await openStore(storeUrl(options.store));
  let file: string;
  let args: readonly string[];
  let executor: string | undefined;
  let workers: string | undefined;
  try {
    const run = await store.getRun(runId);
    if (!run) {
      throw new ValidationError(
        `No run '${runId}' in ${store.location}. List the runs with: weft runs`,
      );
    }
    const status = statusOf(run);
    if (status === 'running') {
      throw new ValidationError(
        `Run '${runId}' is still running (process ${String(run.meta.pid)}). Resume it once it has stopped, ` +
          'or stop it first: two processes would run the same tasks.',
      );
    }
    if (status === 'completed') {
      process.stdout.write(
        `Run '${runId}' already completed: nothing to resume. See it with: weft show ${runId}\n`,
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
  await runFile(file, args, {
    ...options,
    runId,
    ...((options.executor ?? executor) ? { executor: options.executor ?? executor } : {}),
    ...((options.workers ?? workers) ? { workers: options.workers ?? workers } : {}),
  });
}
