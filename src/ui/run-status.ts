/**
 * Where a recorded run stands, as people see it: what `weft runs`, `weft show` and
 * `weft ui` show. Pure and light, so that the CLI verbs import it without the server.
 */
import { isOwnedNow } from '../core/lease.ts';
import type { RunRecord } from '../core/store.ts';
import type { RunStatusView } from './api-types.ts';

/**
 * The recorded status, except that a run still marked running whose lease expired, or
 * whose process on this machine is gone (killed, crashed), shows as `stopped`: it can be
 * resumed.
 */
export function statusOf(run: RunRecord, now = Date.now()): RunStatusView {
  if (run.status !== 'running') return run.status;
  return isOwnedNow(run, now) ? 'running' : 'stopped';
}
