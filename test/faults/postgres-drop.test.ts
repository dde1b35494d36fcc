/**
 * Dropped PostgreSQL connections: while a `weft run` writes to a PostgreSQL store, the
 * server ends every connection of that process (pg_terminate_backend, as a restart or a
 * network cut would), a few times at random moments. Writes are idempotent and retried on
 * a new connection, so the run completes with the output of an uninterrupted run, and no
 * task runs twice.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { freshPostgresSchema, queryPostgres } from '../fixtures/services.ts';
import { startWeft } from '../fixtures/weft-cli.ts';
import {
  assertBoundedRepeats,
  chance,
  executionsReached,
  job,
  replayable,
  scratch,
  uninterruptedOutput,
} from './harness.ts';

const count = 300;
/** Times the connections are dropped during the run. */
const drops = 3;
const dir = scratch('pgdrop');

let reference: string;
before(async () => {
  reference = await uninterruptedOutput(count);
});

/** Ends the connections whose application name is `name`; returns how many there were. */
async function dropConnections(name: string): Promise<number> {
  const { rows } = await queryPostgres(
    'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity ' +
      'WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1',
    [name],
  );
  return rows.filter((row: { ended: boolean }) => row.ended).length;
}

describe('dropped PostgreSQL connections', { timeout: 120_000 }, () => {
  const schema = freshPostgresSchema('faultdrop');

  it('a run whose connections are ended mid-write completes, each task run once', async (t) => {
    const random = chance(t);
    // A name of its own, so that only this run's connections are ended.
    const name = `weft-fault-${randomBytes(4).toString('hex')}`;
    const url = new URL(schema.url);
    url.searchParams.set('application_name', name);
    const log = join(dir, 'executions.log');
    await replayable(random, async () => {
      const started = startWeft(
        [
          'run',
          job,
          String(count),
          '--store',
          url.toString(),
          // In this process: the executor plays no part here, and workers would only slow the test.
          '--executor',
          'asyncPool',
          '--no-progress',
        ],
        { env: { WEFT_FAULT_LOG: log } },
      );
      // Moments spread over the run, in order, none at its very end.
      const moments = Array.from({ length: drops }, () => random.between(1, count - 50)).sort(
        (a, b) => a - b,
      );
      for (const moment of moments) {
        if (!(await executionsReached(log, moment, started.finished))) {
          assert.fail(
            `weft ended before ${moment} executions:\n${(await started.finished).stderr}`,
          );
        }
        let ended = await dropConnections(name);
        // The pool may be between connections (one just ended, the next not open yet): try
        // again after each further execution until one is ended.
        for (let next = moment + 1; ended === 0 && next < count; next++) {
          if (!(await executionsReached(log, next, started.finished))) break;
          ended = await dropConnections(name);
        }
        assert.ok(ended > 0, `connections of the run were ended at ${moment} executions`);
        t.diagnostic(`${ended} connections ended after ${moment} executions`);
      }
      const end = await started.finished;
      assert.equal(end.code, 0, `the run failed:\n${end.stderr}`);
      assert.equal(end.stdout.trim(), reference, 'outputs equal an uninterrupted run');
      assertBoundedRepeats(log, count, 0);
    });
  });
});
