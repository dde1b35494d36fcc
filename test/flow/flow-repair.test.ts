/**
 * weftjs/flow: a re-run with the same run id repairs lost artifacts. A completed flow
 * (Shard → ForEach Process → Join) loses one artifact — its SQLite or PostgreSQL row
 * deleted — and the re-run, which lists the artifacts without reading them, recomputes the
 * task that wrote it and the layers downstream, no more, and returns what an uninterrupted
 * run returns. An artifact damaged in place (cut short, zeroed, emptied) is found when
 * read: never read as a wrong value, the read names the store and marks its task, and the
 * next re-run recomputes it and what is downstream.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { asyncPool, MemoryStore, openStore, type Store, StoreError, type TaskRecord } from 'weftjs';
import { type Accessor, Flow, ForEach, LayerFailedError, Parameter } from 'weftjs/flow';
import { freshPostgresSchema, queryPostgres } from '../fixtures/services.ts';

const executor = asyncPool({ concurrency: 4 });
after(() => executor.close());
const dir = mkdtempSync(join(tmpdir(), 'weft-flow-repair-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const taskCount = 8;
/** What Join sets: Process's y of every task, x * 10 + 1. */
const expectedYs = Array.from({ length: taskCount }, (_, x) => x * 10 + 1);

let flowCount = 0;

/** Who ran, in one run of the flow. */
interface Executions {
  shard: number;
  process: number[];
  join: number;
}

interface RepairFlow {
  readonly flow: Flow;
  readonly name: string;
  /** Executions since the last call, which starts the count again. */
  take(): Executions;
  /** While true, Join throws. */
  joinFails: boolean;
  /** Length of the `digits` shard that Process task `i` writes. */
  digits: (i: number) => number;
}

/** Shard (8 elements) → ForEach Process (8 tasks) → Join, counting executions. */
function repairFlow(label: string): RepairFlow {
  const name = `FlowRepair-${label}-${++flowCount}`;
  let executions: Executions = { shard: 0, process: [], join: 0 };
  const made: RepairFlow = {
    flow: new Flow(name, { executor }),
    name,
    take() {
      const taken = executions;
      executions = { shard: 0, process: [], join: 0 };
      taken.process.sort((a, b) => a - b);
      return taken;
    },
    joinFails: false,
    digits: () => 2,
  };
  const { flow } = made;
  const Shard = flow.layer('Shard', (self) => {
    executions.shard++;
    self.shard({ x: Array.from({ length: taskCount }, (_, i) => i) });
    self.set({ scale: 10 });
  });
  const Process = flow.layer(
    'Process',
    {
      foreach: new ForEach({
        parameters: [
          new Parameter({ layer: Shard, attribute: 'x' }),
          new Parameter({ layer: Shard, attribute: 'scale' }),
        ],
      }),
    },
    (self, shard) => {
      executions.process.push(self.index);
      self.set({ y: shard.x * shard.scale + 1 });
      self.shard({ digits: Array.from({ length: made.digits(self.index) }, (_, i) => i) });
    },
    [Shard],
  );
  flow.layer(
    'Join',
    async (self, process) => {
      executions.join++;
      if (made.joinFails) throw new Error('Join broke');
      self.set({ ys: await process.y.toArray() });
    },
    [Process],
  );
  return made;
}

/** What Join wrote in a run. */
async function joined(flow: Flow, store: Store, runId: string): Promise<unknown> {
  const result = await flow.run({ store, runId });
  return (await result.layer('Join')).ys;
}

/** How an artifact's bytes are damaged in place: found when it is read. */
const damages = {
  'cut short by a byte': (data: Buffer) => data.subarray(0, -1),
  zeroed: (data: Buffer) => Buffer.alloc(data.length),
  emptied: () => Buffer.alloc(0),
} as const;

/**
 * Changes an artifact's row in a SQLite store's file, through a connection of its own (the
 * store may be open): deletes it, or damages its bytes.
 */
function changeArtifact(
  file: string,
  runId: string,
  key: string,
  damage?: (data: Buffer) => Buffer,
): void {
  const db = new Database(file);
  try {
    const where = 'WHERE run_id = ? AND key = ?';
    if (damage === undefined) {
      assert.equal(db.prepare(`DELETE FROM artifacts ${where}`).run(runId, key).changes, 1);
      return;
    }
    const { data } = db.prepare(`SELECT data FROM artifacts ${where}`).get(runId, key) as {
      data: Buffer;
    };
    db.prepare(`UPDATE artifacts SET data = ? ${where}`).run(damage(data), runId, key);
  } finally {
    db.close();
  }
}

/** A SQLite store at `name`, in the test's folder. */
function sqlite(name: string) {
  const file = join(dir, name);
  return { url: `sqlite:${file}`, file };
}

/** What reading a damaged artifact of task `task` of Process rejects with. */
function damagedRead(made: RepairFlow, runId: string, file: string, task: number) {
  return (error: unknown) => {
    assert.ok(error instanceof StoreError, `a StoreError, got ${error}`);
    assert.equal(error.code, 'WEFT_ARTIFACT_DAMAGED');
    const { message } = error;
    assert.ok(message.includes(`'${made.name}/Process/${task}/y'`), message);
    assert.ok(message.includes(file), `names the store: ${message}`);
    assert.ok(
      message.includes(`Task ${task} of layer Process, which wrote it, is marked to run again`),
      message,
    );
    assert.ok(message.includes(`flow.run({ runId: '${runId}' })`), message);
    return true;
  };
}

describe('a re-run recomputes lost artifacts, on SQLite reopened between runs', () => {
  it("a ForEach task's artifact deleted: that task and Join run again, nothing else", async () => {
    const { url, file } = sqlite('task-deleted.db');
    const made = repairFlow('Task');
    const runId = `task-${flowCount}`;
    let store = await openStore(url);
    assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
    assert.deepEqual(made.take(), { shard: 1, process: [0, 1, 2, 3, 4, 5, 6, 7], join: 1 });
    await store.close();

    changeArtifact(file, runId, `${made.name}/Process/3/y`);
    store = await openStore(url);
    try {
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      assert.deepEqual(made.take(), { shard: 0, process: [3], join: 1 });
      const result = await made.flow.run({ store, runId });
      assert.deepEqual(await (await result.layer('Process')).y.toArray(), expectedYs);
      assert.deepEqual(made.take(), { shard: 0, process: [], join: 0 }, 'a third run: all done');
    } finally {
      await store.close();
    }
  });

  for (const [damage, apply] of Object.entries(damages)) {
    it(`a ForEach task's artifact ${damage}: reading it marks the task, which the next re-run recomputes with Join`, async () => {
      const { url, file } = sqlite(`task-${damage.replaceAll(' ', '-')}.db`);
      const made = repairFlow('Damaged');
      const runId = `damaged-${flowCount}`;
      let store = await openStore(url);
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      made.take();
      await store.close();

      changeArtifact(file, runId, `${made.name}/Process/3/y`, apply);
      store = await openStore(url);
      try {
        // The re-run lists the artifact, there: it reads none, and nothing runs.
        let result = await made.flow.run({ store, runId });
        assert.deepEqual(made.take(), { shard: 0, process: [], join: 0 });
        const process = await result.layer('Process');
        await assert.rejects(process.y.at(3), damagedRead(made, runId, file, 3));
        await assert.rejects(process.y.toArray(), damagedRead(made, runId, file, 3));
        assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
        assert.deepEqual(made.take(), { shard: 0, process: [3], join: 1 }, 'the next re-run');
        result = await made.flow.run({ store, runId });
        assert.deepEqual(await (await result.layer('Process')).y.toArray(), expectedYs);
        assert.deepEqual(made.take(), { shard: 0, process: [], join: 0 }, 'then all done');
      } finally {
        await store.close();
      }
    });
  }

  it('an artifact found damaged by a task of a re-run fails it, and the next re-run repairs it', async () => {
    const { url, file } = sqlite('damaged-in-rerun.db');
    const made = repairFlow('InRerun');
    const runId = `in-rerun-${flowCount}`;
    let store = await openStore(url);
    assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
    made.take();
    await store.close();

    // Process 0 is found missing, so Join runs again and reads Process 5's damaged y.
    changeArtifact(file, runId, `${made.name}/Process/0/y`);
    changeArtifact(file, runId, `${made.name}/Process/5/y`, damages.zeroed);
    store = await openStore(url);
    try {
      await assert.rejects(made.flow.run({ store, runId }), (error: unknown) => {
        assert.ok(error instanceof LayerFailedError, `a LayerFailedError, got ${error}`);
        return damagedRead(made, runId, file, 5)(error.cause);
      });
      assert.deepEqual(made.take(), { shard: 0, process: [0], join: 1 });
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      assert.deepEqual(made.take(), { shard: 0, process: [5], join: 1 });
    } finally {
      await store.close();
    }
  });

  it("an element of a plain layer's shard deleted: that layer and every task downstream run again", async () => {
    const { url, file } = sqlite('shard.db');
    const made = repairFlow('Shard');
    const runId = `shard-${flowCount}`;
    let store = await openStore(url);
    assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
    made.take();
    await store.close();

    changeArtifact(file, runId, `${made.name}/Shard/0/x/5`);
    store = await openStore(url);
    try {
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      assert.deepEqual(made.take(), { shard: 1, process: [0, 1, 2, 3, 4, 5, 6, 7], join: 1 });
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      assert.deepEqual(made.take(), { shard: 0, process: [], join: 0 });
    } finally {
      await store.close();
    }
  });

  it('a run whose Join failed completes on re-run although an artifact Join reads is gone', async () => {
    const { url, file } = sqlite('failed.db');
    const made = repairFlow('Failed');
    const runId = `failed-${flowCount}`;
    made.joinFails = true;
    let store = await openStore(url);
    await assert.rejects(made.flow.run({ store, runId }), LayerFailedError);
    assert.deepEqual(made.take(), { shard: 1, process: [0, 1, 2, 3, 4, 5, 6, 7], join: 1 });
    await store.close();

    changeArtifact(file, runId, `${made.name}/Process/6/y`);
    made.joinFails = false;
    store = await openStore(url);
    try {
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      assert.deepEqual(made.take(), { shard: 0, process: [6], join: 1 });
    } finally {
      await store.close();
    }
  });

  it('a recomputed task that shards another length: the run and later runs read the new length', async () => {
    const { url, file } = sqlite('length.db');
    const made = repairFlow('Length');
    const runId = `length-${flowCount}`;
    let store = await openStore(url);
    await joined(made.flow, store, runId);
    made.take();
    await store.close();

    changeArtifact(file, runId, `${made.name}/Process/2/digits/0`);
    made.digits = (i) => (i === 2 ? 5 : 2);
    store = await openStore(url);
    try {
      const digitsOf = async () => {
        const result = await made.flow.run({ store, runId });
        const digits = (await result.layer('Process')).digits as Accessor<Accessor<number>>;
        return (await digits.at(2)).toArray();
      };
      assert.deepEqual(await digitsOf(), [0, 1, 2, 3, 4]);
      assert.deepEqual(made.take(), { shard: 0, process: [2], join: 1 });
      assert.equal(
        (await made.flow.run({ store, runId })).info('Process').lengths.get('digits')?.[2],
        5,
      );
      assert.deepEqual(await digitsOf(), [0, 1, 2, 3, 4]);
      assert.deepEqual(made.take(), { shard: 0, process: [], join: 0 });
    } finally {
      await store.close();
    }
  });

  it('an artifact lost after the run: reading it names the store and the re-run', async () => {
    const { url, file } = sqlite('message.db');
    const made = repairFlow('Message');
    const runId = `message-${flowCount}`;
    const store = await openStore(url);
    try {
      const result = await made.flow.run({ store, runId });
      const process = await result.layer('Process');
      changeArtifact(file, runId, `${made.name}/Process/4/y`);
      changeArtifact(file, runId, `${made.name}/Process/5/y`, damages['cut short by a byte']);
      const names = (code: string, key: string) => (error: unknown) => {
        assert.ok(error instanceof StoreError, `a StoreError, got ${error}`);
        assert.equal(error.code, code);
        const { message } = error;
        assert.ok(message.includes(`'${made.name}/Process/${key}'`), message);
        assert.ok(message.includes(file), `names the store: ${message}`);
        assert.ok(message.includes(`flow.run({ runId: '${runId}' })`), message);
        return true;
      };
      await assert.rejects(process.y.at(4), names('WEFT_ARTIFACT_MISSING', '4/y'));
      await assert.rejects(process.y.at(5), names('WEFT_ARTIFACT_DAMAGED', '5/y'));
      assert.match(
        await process.y.at(5).catch((error: Error) => error.message),
        /is damaged \(it holds \d+ of its \d+ bytes\)/,
      );
      // The one missing is found by the re-run, the one damaged was marked when read.
      made.take();
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      assert.deepEqual(made.take(), { shard: 0, process: [4, 5], join: 1 });
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      assert.deepEqual(made.take(), { shard: 0, process: [], join: 0 });
    } finally {
      await store.close();
    }
  });
});

describe('a re-run recomputes lost artifacts, on PostgreSQL', () => {
  const schema = freshPostgresSchema('flowrepair');

  it("a ForEach task's artifact row deleted: that task and Join run again, nothing else", async () => {
    const made = repairFlow('Postgres');
    const runId = `postgres-${flowCount}`;
    let store = await openStore(schema.url);
    assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
    made.take();
    await store.close();

    const deleted = await queryPostgres(
      `DELETE FROM "${schema.name}".artifacts WHERE run_id = $1 AND key = $2`,
      [runId, `${made.name}/Process/1/y`],
    );
    assert.equal(deleted.rowCount, 1);
    store = await openStore(schema.url);
    try {
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      assert.deepEqual(made.take(), { shard: 0, process: [1], join: 1 });
    } finally {
      await store.close();
    }
  });
});

describe('a store that fails to list or read artifacts', () => {
  /** A memory store that fails as a disk that cannot be read does, or loses a key. */
  class FailingStore extends MemoryStore {
    /** Listing the artifacts fails. */
    listingFails = false;
    /** Reading this key fails. */
    failing: string | undefined;
    /** Listed as if missing. */
    hidden: string | undefined;
    /** Recording tasks fails. */
    recordingFails = false;
    override async getArtifact(runId: string, key: string): Promise<Uint8Array | undefined> {
      if (key === this.failing) throw new StoreError(`cannot read ${key}`);
      return super.getArtifact(runId, key);
    }
    override async getArtifacts(
      runId: string,
      keys: readonly string[],
    ): Promise<(Uint8Array | undefined)[]> {
      const failing = keys.find((key) => key === this.failing);
      if (failing !== undefined) throw new StoreError(`cannot read ${failing}`);
      return super.getArtifacts(runId, keys);
    }
    override async *artifactKeys(runId: string, prefix?: string): AsyncIterable<string> {
      if (this.listingFails) throw new StoreError('cannot list the artifacts');
      for await (const key of super.artifactKeys(runId, prefix)) {
        if (key !== this.hidden) yield key;
      }
    }
    override async recordTasks(runId: string, records: readonly TaskRecord[]): Promise<void> {
      if (this.recordingFails) throw new StoreError('cannot record');
      return super.recordTasks(runId, records);
    }
  }

  it('a listing that fails fails the re-run with its error: nothing is recomputed', async () => {
    const store = new FailingStore();
    try {
      const made = repairFlow('FailingList');
      const runId = `failing-list-${flowCount}`;
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      made.take();
      store.listingFails = true;
      await assert.rejects(made.flow.run({ store, runId }), /cannot list the artifacts/);
      assert.deepEqual(made.take(), { shard: 0, process: [], join: 0 });
      store.listingFails = false;
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      assert.deepEqual(made.take(), { shard: 0, process: [], join: 0 });
    } finally {
      await store.close();
    }
  });

  it('a read that fails fails the task with its error, and marks nothing to recompute', async () => {
    const store = new FailingStore();
    try {
      const made = repairFlow('FailingRead');
      const runId = `failing-read-${flowCount}`;
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      made.take();
      // Process 3 looks missing, so Join runs again, and its read of Process 2 fails.
      store.hidden = `${made.name}/Process/3/y`;
      store.failing = `${made.name}/Process/2/y`;
      await assert.rejects(made.flow.run({ store, runId }), /cannot read .*Process\/2\/y/);
      assert.deepEqual(made.take(), { shard: 0, process: [3], join: 1 });
      store.hidden = undefined;
      store.failing = undefined;
      assert.deepEqual(await joined(made.flow, store, runId), expectedYs);
      assert.deepEqual(made.take(), { shard: 0, process: [], join: 1 });
    } finally {
      await store.close();
    }
  });

  it('a damaged artifact whose task cannot be marked says so, and what to do', async () => {
    const store = new FailingStore();
    try {
      const made = repairFlow('Unmarked');
      const runId = `unmarked-${flowCount}`;
      const result = await made.flow.run({ store, runId });
      const key = `${made.name}/Process/6/y`;
      await store.putArtifact(runId, key, Buffer.from('#weft1 2 00000000\nj1'));
      store.recordingFails = true;
      const message = await (await result.layer('Process')).y
        .at(6)
        .then(() => assert.fail('a damaged artifact was read'))
        .catch((error: Error) => error.message);
      assert.match(message, /damaged \(its checksum does not match its content\)/);
      assert.match(
        message,
        /Task 6 of layer Process, which wrote it, could not be marked to run again \(cannot record\): delete the artifact, then run the flow again with the same run id/,
      );
    } finally {
      await store.close();
    }
  });
});
