/**
 * Values through the bullmq executor: task errors keep their name, code, message and
 * cause; a large input travels through a PostgreSQL run store that the worker opens too,
 * and is refused, alone, with a memory or SQLite store (other machines cannot read them)
 * or outside a run.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryStore, map, openStore, type Store, withRun } from 'weftjs';
import { bullmq, startWorker, type WeftWorker } from 'weftjs/bullmq';
import { freshPostgresSchema, freshQueue, redisUrl } from '../fixtures/services.ts';
import { invocationOf, rejectionOf, runOn, within } from './support/executor-helpers.ts';
import * as tasks from './support/executor-tasks.ts';

const queue = freshQueue('values');
const schema = freshPostgresSchema('bullvalues');
/** Over the executor's default limit of 256 KiB for values sent through Redis. */
const large = 'é'.repeat(200_000);
let worker: WeftWorker | undefined;

before(async () => {
  worker = await startWorker({ connection: redisUrl, queue, store: schema.url });
});
after(async () => {
  await worker?.close();
});

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | undefined)?.code;
}

describe('bullmq executor values', () => {
  it('a task error keeps its name, code, message and cause', async () => {
    const executor = bullmq({ connection: redisUrl, queue });
    try {
      const spec: tasks.ErrorSpec = {
        name: 'QuotaError',
        code: 'E_QUOTA',
        message: 'over quota: 3 of 2',
        cause: { name: 'LimitError', code: 'E_LIMIT', message: 'the limit is 2' },
      };
      const [error] = await within(
        map([spec], tasks.failWith, { executor, onError: 'collect' }),
        'the map',
      );
      const direct = await rejectionOf(
        executor.run(invocationOf(tasks.failWith, spec, 'direct/0')),
        'the run',
      );
      for (const found of [error, direct]) {
        assert.ok(found instanceof Error, 'an Error');
        assert.equal(found.name, spec.name);
        assert.equal(codeOf(found), spec.code);
        assert.equal(found.message, spec.message);
        const cause = found.cause;
        assert.ok(cause instanceof Error, 'its cause is an Error');
        assert.equal(cause.name, spec.cause.name);
        assert.equal(codeOf(cause), spec.cause.code);
        assert.equal(cause.message, spec.cause.message);
      }
    } finally {
      await executor.close();
    }
  });

  it("the start and run time measured on the worker reach the invocation's ran()", async () => {
    const executor = bullmq({ connection: redisUrl, queue });
    try {
      const timings: [number, number][] = [];
      const before = Date.now();
      const output = await within(
        runOn(
          executor,
          invocationOf(tasks.echo, 'timed', 'ran/0', {
            ran: (startedAt, durationMs) => timings.push([startedAt, durationMs]),
          }),
        ),
        'the run',
      );
      const after = Date.now();
      assert.equal(output, 'timed');
      assert.equal(timings.length, 1);
      const [[startedAt, durationMs]] = timings as [[number, number]];
      // The worker's clock reading (performance's) may stray from Date.now() by a little.
      const slack = 50;
      assert.ok(
        startedAt >= before - slack && startedAt <= after + slack,
        `started at ${startedAt}`,
      );
      assert.ok(durationMs >= 0 && startedAt + durationMs <= after + slack, `ran ${durationMs} ms`);
    } finally {
      await executor.close();
    }
  });

  it('shared memory in an input arrives as a copy of its bytes', async () => {
    const executor = bullmq({ connection: redisUrl, queue });
    try {
      const memory = new SharedArrayBuffer(24);
      const floats = new Float64Array(memory, 0, 2);
      floats.set([1.5, -2]);
      const bytes = new Uint8Array(memory, 16, 8);
      bytes.set([1, 2, 3, 4, 5, 6, 7, 8]);
      const [report] = await within(
        map([{ floats, bytes }], tasks.viewsOf, { executor }),
        'the map',
      );
      assert.deepEqual(report, {
        values: [1.5, -2],
        bytes: [1, 2, 3, 4, 5, 6, 7, 8],
        // Each view travels with its own bytes, as the run stores keep typed arrays.
        sameBuffer: false,
        shared: false,
      });
    } finally {
      await executor.close();
    }
  });

  it('a large input and a large output travel through a PostgreSQL run store', async () => {
    const executor = bullmq({ connection: redisUrl, queue });
    const store = await openStore(schema.url);
    try {
      const [digest, repeated] = await within(
        withRun({ store, runId: 'large-pg' }, async () => [
          ...(await map([large], tasks.digestOf, { executor })),
          ...(await map([{ char: 'ü', length: 300_000 }], tasks.repeat, { executor })),
        ]),
        'the run',
      );
      assert.deepEqual(digest, { length: large.length, sha256: sha256(large) });
      assert.equal(repeated, 'ü'.repeat(300_000));
    } finally {
      await executor.close();
      await store.close();
    }
  });

  for (const kind of ['memory', 'sqlite', 'no run'] as const) {
    it(`a large input is refused alone with WEFT_STORE_NOT_SHARED, naming PostgreSQL (${kind})`, async () => {
      const executor = bullmq({ connection: redisUrl, queue });
      let store: Store | undefined;
      let dir: string | undefined;
      if (kind === 'memory') store = new MemoryStore();
      if (kind === 'sqlite') {
        dir = mkdtempSync(join(tmpdir(), 'weft-bullmq-values-'));
        store = await openStore(`sqlite:${join(dir, 'weft.db')}`);
      }
      try {
        const fanOut = () =>
          map(['small', large, 'also small'], tasks.digestOf, { executor, onError: 'collect' });
        const outputs = await within(
          store ? withRun({ store, runId: `large-${kind.replace(' ', '-')}` }, fanOut) : fanOut(),
          'the map',
        );
        assert.deepEqual(outputs[0], { length: 5, sha256: sha256('small') });
        assert.deepEqual(outputs[2], { length: 10, sha256: sha256('also small') });
        const refusal = outputs[1];
        assert.ok(refusal instanceof Error, 'the large item is an Error');
        assert.equal(codeOf(refusal), 'WEFT_STORE_NOT_SHARED');
        assert.match(refusal.message, /PostgreSQL/);
        assert.match(refusal.message, /'executor-test:digestOf'/);
      } finally {
        await executor.close();
        await store?.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
