/**
 * The memory store passes the shared store conformance suite, plus the few behaviours
 * that are its own: its identity, and refusing work for runs it never opened.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSerializer, isWeftError, MemoryStore } from 'weftjs';
import { describeStoreConformance } from 'weftjs/testing';

describeStoreConformance('memory', () => new MemoryStore());

describe('MemoryStore', () => {
  it('is the memory store, at memory:', () => {
    const store = new MemoryStore();
    assert.equal(store.kind, 'memory');
    assert.equal(store.location, 'memory:');
  });

  it('refuses records, events, artifacts and finishing of a run it never opened', async () => {
    const store = new MemoryStore();
    const record = {
      key: 'k',
      task: 't',
      status: 'completed',
      attempts: 1,
      startedAt: 0,
      durationMs: 0,
    } as const;
    await assert.rejects(store.recordTasks('never-opened', [record]), { name: 'StoreError' });
    await assert.rejects(store.putArtifact('never-opened', 'a', new Uint8Array(1)), {
      name: 'StoreError',
    });
    await assert.rejects(
      store.appendEvents('never-opened', [
        { type: 'map:start', time: 0, scope: 's', task: 't', total: 1 },
      ]),
      { name: 'StoreError' },
    );
    await assert.rejects(store.finishRun('never-opened', 'completed'), {
      name: 'StoreError',
      message: /never-opened/,
    });
  });

  it('validates what it is given before storing anything', async () => {
    const store = new MemoryStore();
    await store.openRun('r');
    const bad: Array<[string, () => Promise<unknown>]> = [
      ['limit', () => store.listRuns({ limit: -1 })],
      ['status', () => store.finishRun('r', 'running' as 'completed')],
      ['record', () => store.recordTasks('r', [{ key: '' } as never])],
      ['bytes', () => store.putArtifact('r', 'a', [1, 2] as unknown as Uint8Array)],
      ['sequence', () => store.saveCheckpoint({ appId: 'a', sequenceId: -1 } as never)],
      ['meta', () => store.openRun('m', [] as never)],
    ];
    for (const [what, call] of bad) {
      await assert.rejects(call(), (error) => isWeftError(error, 'WEFT_VALIDATION'), what);
    }
    assert.deepEqual(await store.listTasks('r'), []);
  });

  it('keeps run meta as a snapshot, and hands out copies of it', async () => {
    const store = new MemoryStore();
    const meta = { tags: ['a'] };
    await store.openRun('snap', meta);
    meta.tags.push('b');
    assert.deepEqual((await store.getRun('snap'))?.meta, { tags: ['a'] });
    const returned = await store.getRun('snap');
    assert.ok(returned);
    (returned.meta.tags as string[]).push('c');
    assert.deepEqual((await store.getRun('snap'))?.meta, { tags: ['a'] });
  });

  it('refuses an event or a checkpoint state it cannot store, naming it', async () => {
    const store = new MemoryStore();
    await store.openRun('e');
    await assert.rejects(
      store.appendEvents('e', [
        { type: 'map:start', time: 0, scope: 's', task: 't', total: 1 },
        {
          type: 'map:end',
          time: 0,
          scope: 's',
          completed: 0,
          failed: 0,
          durationMs: 0,
          error: () => 1,
        },
      ]),
      { code: 'WEFT_SERIALIZATION', message: /Event 1 \('map:end'\) of run 'e'.*value\.error/ },
    );
    assert.deepEqual(await store.listEvents('e'), []);
    await assert.rejects(
      store.saveCheckpoint({
        appId: 'app',
        partitionKey: 'p',
        sequenceId: 3,
        position: 'x',
        state: { socket: new (class Socket {})() },
        status: 'completed',
        createdAt: 0,
      }),
      { code: 'WEFT_SERIALIZATION', message: /application 'app'.*sequence 3.*Socket instance/ },
    );
    assert.equal(await store.loadCheckpoint('app', 'p'), undefined);
  });

  it('uses the serializer it is given', async () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const serializer = createSerializer({
      types: {
        Point: {
          reduce: (value) => (value instanceof Point ? [value.x, value.y] : undefined),
          revive: (stored) => new Point(...(stored as [number, number])),
        },
      },
    });
    const store = new MemoryStore({ serializer });
    await store.openRun('p');
    await store.recordTasks('p', [
      {
        key: 'k',
        task: 't',
        status: 'completed',
        attempts: 1,
        startedAt: 0,
        durationMs: 0,
        output: new Point(1, 2),
      },
    ]);
    const output = (await store.completedOutputs('p')).get('k');
    assert.ok(output instanceof Point);
    assert.deepEqual(output, new Point(1, 2));
  });
});
