/** `weft runs`: the runs of a store, newest first. */
import { hostname } from 'node:os';
import { ValidationError } from '../core/errors.ts';
import type { RunRecord } from '../core/store.ts';
import { openStore } from '../stores/open.ts';
import { storeUrl } from './run.ts';
import { table, when } from './table.ts';

export interface RunsOptions {
  readonly store?: string;
  readonly limit?: string;
}

export async function listRuns(options: RunsOptions): Promise<void> {
  const store = await openStore(storeUrl(options.store));
  try {
    const limit = options.limit === undefined ? 20 : Number(options.limit);
    if (!(Number.isInteger(limit) && limit > 0)) {
      throw new ValidationError(`--limit must be a whole number ≥ 1, got '${options.limit}'.`);
    }
    const runs = await store.listRuns({ limit });
    if (runs.length === 0) {
      process.stdout.write(`No runs in ${store.location} yet. Start one with: weft run <file>\n`);
      return;
    }
    const rows = runs.map((run) => [
      run.id,
      statusOf(run),
      String(run.attempts),
      when(run.createdAt),
      when(run.updatedAt),
      typeof run.meta.file === 'string' ? run.meta.file : '',
    ]);
    process.stdout.write(
      `${table(['RUN', 'STATUS', 'TRIES', 'STARTED', 'UPDATED', 'FILE'], rows)}\n`,
    );
  } finally {
    await store.close();
  }
}

/**
 * The recorded status, except that a run still marked running whose process on this
 * machine is gone (killed, crashed) shows as stopped: it can be resumed.
 */
export function statusOf(run: RunRecord): string {
  if (run.status !== 'running') return run.status;
  const { pid, host } = run.meta as { pid?: unknown; host?: unknown };
  if (typeof pid !== 'number' || host !== hostname()) return 'running';
  try {
    process.kill(pid, 0);
    return 'running';
  } catch (error) {
    // EPERM: the process lives, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'running' : 'stopped';
  }
}
