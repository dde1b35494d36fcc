/** `weft runs`: the runs of a store, newest first. It reads the store and creates nothing. */
import { ValidationError } from '../core/errors.ts';
import { openExistingStore } from '../stores/open.ts';
import { statusOf } from '../ui/run-status.ts';
import { toJson } from './json.ts';
import { storeUrl } from './store-option.ts';
import { table, when } from './table.ts';
import { clipped, printable } from './text.ts';

export interface RunsOptions {
  readonly store?: string;
  readonly limit?: string;
  /** Print the runs as a JSON array. */
  readonly json?: boolean;
}

export async function listRuns(options: RunsOptions): Promise<void> {
  const limit = parseLimit(options.limit);
  const { store, location } = await openExistingStore(storeUrl(options.store));
  if (!store) {
    const said = printable(
      `No runs yet: there is no store at ${location}. Start a run with: weft run <file>`,
    );
    if (options.json) {
      // JSON readers get an empty list, people the reason.
      process.stdout.write('[]\n');
      process.stderr.write(`weft: ${said}\n`);
    } else {
      process.stdout.write(`${said}\n`);
    }
    return;
  }
  try {
    const runs = await store.listRuns({ limit });
    if (options.json) {
      // The status as `weft runs` shows it: a run whose process died is stopped.
      process.stdout.write(`${toJson(runs.map((run) => ({ ...run, status: statusOf(run) })))}\n`);
      return;
    }
    if (runs.length === 0) {
      process.stdout.write(
        store.kind === 'memory'
          ? 'No runs: a memory store holds only the runs of the process that made them.\n'
          : `${printable(`No runs in ${store.location} yet. Start one with: weft run <file>`)}\n`,
      );
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
 * `-n, --limit`: digits only, 1 up to the largest safe integer (beyond it a store is asked
 * for a number it cannot hold).
 * @throws ValidationError naming the option and the value given
 */
function parseLimit(value: string | undefined): number {
  if (value === undefined) return 20;
  const limit = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isSafeInteger(limit) && limit >= 1) return limit;
  throw new ValidationError(
    `-n, --limit must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}, got '${clipped(value)}'. ` +
      'Give how many runs to list, e.g. weft runs -n 50.',
  );
}
