/**
 * A dropped PostgreSQL connection is retried: the server ends the store's connections
 * (pg_terminate_backend, as an administrator or a failover does) several times while a
 * run of 10,000 tasks records them, and the run completes with every record. Writes that
 * are not idempotent (opening a run, appending events) are not applied twice.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import pg from 'pg';
import { map, task, withRun } from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { freshPostgresSchema, postgresUrl, queryPostgres } from '../fixtures/services.ts';

const schema = freshPostgresSchema('retry');

/** A name for one store's connections, so that only they are ended. */
function applicationName(): string {
  return `weft_test_retry_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Ends every connection of the store named `name`; resolves to how many it ended. */
async function terminate(name: string): Promise<number> {
  const { rows } = await queryPostgres(
    'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1',
    [name],
  );
  return rows.filter((row) => row.ended === true).length;
}

describe('PostgreSQL connections ended mid-run', () => {
  it('a run of 10,000 tasks completes with all 10,000 records', { timeout: 120_000 }, async () => {
    const name = applicationName();
    const store = await PostgresStore.open(schema.url, { applicationName: name });
    const ended: number[] = [];
    // Every 1,500th task ends the store's connections: records are being written then.
    const square = task('retry-test:square', async (x: number) => {
      if (x % 1_500 === 750) ended.push(await terminate(name));
      return x * x;
    });
    const runId = `retry-${randomBytes(4).toString('hex')}`;
    try {
      const items = Array.from({ length: 10_000 }, (_, i) => i);
      const out = await withRun({ store, runId }, () => map(items, square, { concurrency: 16 }));
      assert.equal(out.length, 10_000);
      assert.equal(out[9_999], 9_999 * 9_999);
      assert.ok(ended.length >= 6, `connections were ended ${ended.length} times`);
      assert.ok(
        ended.some((count) => count > 0),
        'the store had connections to end',
      );
      assert.equal(await store.countCompleted(runId), 10_000);
      assert.equal((await store.listTasks(runId)).length, 10_000);
      const run = await store.getRun(runId);
      assert.equal(run?.status, 'completed');
      assert.equal(run?.attempts, 1);
    } finally {
      await store.close();
    }
  });

  it('each kind of call survives its connection ending in the middle of it', async () => {
    const name = applicationName();
    const store = await PostgresStore.open(schema.url, { applicationName: name });
    const runId = `retry-calls-${randomBytes(4).toString('hex')}`;
    const record = (key: string) => ({
      key,
      task: 't',
      status: 'completed' as const,
      attempts: 1,
      startedAt: 1,
      durationMs: 1,
      output: key,
    });
    // Each call, and the table it waits for while another connection holds it locked.
    const calls: Array<[string, string, () => Promise<unknown>]> = [
      ['openRun', 'runs', () => store.openRun(runId, {}, { owner: 'retry-owner' })],
      ['recordTasks', 'tasks', () => store.recordTasks(runId, [record('a')])],
      [
        'recordTasks (a large batch, in a transaction)',
        'tasks',
        () =>
          store.recordTasks(
            runId,
            Array.from({ length: 5_000 }, (_, i) => record(`many/${i}`)),
          ),
      ],
      [
        'appendEvents',
        'events',
        () =>
          store.appendEvents(runId, [
            { type: 'map:start', time: 1, scope: 's', task: 't', total: 1 },
          ]),
      ],
      ['putArtifact', 'artifacts', () => store.putArtifact(runId, 'k', Uint8Array.of(1))],
      ['renewLease', 'runs', () => store.renewLease(runId, 'retry-owner', 60_000)],
      ['findCompleted', 'tasks', () => store.findCompleted(runId, ['a'])],
      ['countCompleted', 'tasks', () => store.countCompleted(runId)],
      ['finishRun', 'runs', () => store.finishRun(runId, 'completed', undefined, 'retry-owner')],
    ];
    try {
      for (const [call, table, run] of calls) {
        const ended = await endedMidCall(name, table, run);
        assert.ok(ended > 0, `${call}: its connection was ended`);
      }
      const run = await store.getRun(runId);
      assert.equal(run?.attempts, 1, 'the run was opened once');
      assert.equal(run?.status, 'completed');
      assert.equal((await store.listEvents(runId)).length, 1, 'the event was appended once');
      assert.equal(await store.countCompleted(runId), 5_001);
      assert.deepEqual([...((await store.getArtifact(runId, 'k')) ?? [])], [1]);
    } finally {
      await store.close();
    }
  });
});

describe('a COMMIT whose answer is lost on the way back', () => {
  it('openRun and appendEvents are applied once, as the server says they were', async () => {
    const proxy = await lossyProxy();
    const url = new URL(schema.url);
    url.port = String(proxy.port);
    const store = await PostgresStore.open(url.toString());
    const runId = `lost-commit-${randomBytes(4).toString('hex')}`;
    try {
      proxy.loseNextCommitAnswer();
      const opened = await store.openRun(runId, { note: 1 }, { owner: 'lost-commit' });
      assert.equal(proxy.lost(), 1, 'the answer to COMMIT was lost');
      assert.equal(opened.attempts, 1);
      proxy.loseNextCommitAnswer();
      await store.appendEvents(runId, [
        { type: 'map:start', time: 1, scope: 's', task: 't', total: 1 },
      ]);
      assert.equal(proxy.lost(), 2);
      assert.equal((await store.getRun(runId))?.attempts, 1, 'opened once');
      assert.equal((await store.listEvents(runId)).length, 1, 'appended once');
    } finally {
      await store.close();
      proxy.close();
    }
  });
});

/**
 * A TCP proxy to the test server that, when told, forwards the next COMMIT and then drops
 * the connection instead of forwarding the server's answer: the transaction committed, but
 * the client cannot know.
 */
async function lossyProxy(): Promise<{
  port: number;
  loseNextCommitAnswer: () => void;
  lost: () => number;
  close: () => void;
}> {
  const target = new URL(postgresUrl);
  const sockets = new Set<Socket>();
  let armed = false;
  let lost = 0;
  const commit = Buffer.from('COMMIT\0');
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let dropAnswer = false;
    client.on('data', (chunk: Buffer) => {
      // A simple query message ('Q') holding COMMIT.
      if (armed && chunk[0] === 0x51 && chunk.includes(commit)) {
        armed = false;
        dropAnswer = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!dropAnswer) {
        client.write(chunk);
        return;
      }
      lost++;
      client.destroy();
      upstream.destroy();
    });
    for (const [one, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      one.on('error', () => other.destroy());
      one.on('close', () => other.destroy());
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    loseNextCommitAnswer: () => {
      armed = true;
    },
    lost: () => lost,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/**
 * Runs `call` while another connection holds `table` locked; once one of the store's
 * connections waits for the lock (in the middle of the call), ends the store's
 * connections, then releases the lock. Resolves to how many connections were ended, once
 * the call succeeded.
 */
async function endedMidCall(
  name: string,
  table: string,
  call: () => Promise<unknown>,
): Promise<number> {
  const locker = new pg.Client({ connectionString: postgresUrl });
  await locker.connect();
  try {
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${schema.name}.${table} IN ACCESS EXCLUSIVE MODE`);
    const pending = call();
    // Seen when it rejects, also before the lock is released.
    pending.catch(() => undefined);
    await waitingForLock(name);
    const ended = await terminate(name);
    await locker.query('COMMIT');
    await pending;
    return ended;
  } finally {
    await locker.end();
  }
}

/** Resolves once a connection named `name` waits for a lock (asking the server until then). */
async function waitingForLock(name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await queryPostgres(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
      [name],
    );
    if (rows[0].n > 0) return;
    assert.ok(Date.now() < deadline, 'the call waits for the lock');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
