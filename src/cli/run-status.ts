/**
 * What `weft run --run-id` and `weft resume` do with a run that a live process owns (by
 * the run's lease): refuse, or with --force take it over once the user is sure. The status
 * the verbs show is ui/run-status.ts's, the same as the web UI's.
 */
import { RunBusyError, ValidationError } from '../core/errors.ts';
import { describeHolder, isOwnedNow } from '../core/lease.ts';
import type { RunRecord } from '../core/store.ts';
import { confirm } from './confirm.ts';
import { printable, shellWord } from './text.ts';

/**
 * The refusal of a run that a live process owns, saying what to do: wait, stop that
 * process, or take the run over with --force.
 * @param resume The command that takes the run over, without --force: `weft resume <id>`.
 */
export function busyError(
  id: string,
  owner: string,
  leaseExpiresAt: number,
  resume: string,
): RunBusyError {
  return new RunBusyError(
    id,
    owner,
    leaseExpiresAt,
    `Run '${id}' is running in ${describeHolder(owner)}, whose lease on it lasts until ` +
      `${new Date(leaseExpiresAt).toISOString()} unless renewed. Two processes would run the ` +
      'same tasks: wait for it to finish, or stop it. If that process is stuck or its machine ' +
      `is gone, take the run over with: ${resume} --force`,
  );
}

/**
 * Whether to take `run` over from the live process that owns it: refused without `force`;
 * with `force`, yes once the user answers y on a terminal, or with a warning when stdin is
 * not one. When nobody seems to own it (its lease expired by this machine's clock, or its
 * process died), yes with `force` (the store judges the lease by its own clock, which may
 * be behind this one's), no without.
 * @param resume The command that takes the run over, without --force: `weft resume <id>`.
 * @throws RunBusyError naming the run and its process, without `force`
 * @throws ValidationError when the user does not confirm
 */
export async function takeOverOrRefuse(
  run: RunRecord,
  force: boolean,
  resume: string,
): Promise<boolean> {
  if (!isOwnedNow(run) || run.owner === undefined) return force;
  const until = run.leaseExpiresAt ?? 0;
  if (!force) throw busyError(run.id, run.owner, until, resume);
  const holder = describeHolder(run.owner);
  const risk =
    'if it still runs, it stops at its next lease renewal; until then both may run the same tasks';
  if (process.stdin.isTTY) {
    const sure = await confirm(
      printable(
        `weft: run ${shellWord(run.id)} is running in ${holder}, lease until ` +
          `${new Date(until).toISOString()}. Take it over? ${cap(risk)}. [y/N] `,
      ),
    );
    if (!sure) {
      throw new ValidationError(`Run '${run.id}' was not taken over: it stays with ${holder}.`);
    }
  } else {
    process.stderr.write(
      `${printable(`weft: warning: taking run ${shellWord(run.id)} over from ${holder}; ${risk}`)}\n`,
    );
  }
  return true;
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
