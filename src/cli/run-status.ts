/** Where a recorded run stands, as the verbs see it: running, or stopped when its process died. */
import { hostname } from 'node:os';
import { ValidationError } from '../core/errors.ts';
import type { RunRecord } from '../core/store.ts';

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

/**
 * Refuses to run `run` while a live process runs it: two processes would run the same tasks.
 * @param again What the user asked, as the advice says it: `Resume it`, `Run it again`.
 * @throws ValidationError naming the run and its process
 */
export function refuseLive(run: RunRecord, again: string): void {
  if (statusOf(run) !== 'running') return;
  const { pid, host } = run.meta as { pid?: unknown; host?: unknown };
  const where =
    typeof pid === 'number'
      ? ` (process ${pid}${typeof host === 'string' && host !== hostname() ? ` on ${host}` : ''})`
      : '';
  throw new ValidationError(
    `Run '${run.id}' is still running${where}. ${again} once it has stopped, or stop it ` +
      'first: two processes would run the same tasks.',
  );
}
