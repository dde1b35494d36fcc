/**
 * weftjs/flow: attribute names are plain keys. `toString`, `constructor`, `valueOf`,
 * `hasOwnProperty` and `__proto__` go through set, shard, a ForEach Parameter (sharded
 * and broadcast), an Accessor read downstream, FlowResult and a resume on SQLite, and
 * through the copies sent to workers; a literal `__proto__:` and names that are not
 * identifiers are refused with a message saying what to write.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { asyncPool, KeyScope, MemoryStore, openStore, ValidationError } from 'weftjs';
import { Accessor, Flow, ForEach, LayerFailedError, Parameter } from 'weftjs/flow';
import type { LayerOutput } from '../../src/flow/layer.ts';
import { flowRef, remoteLayerTask, type WireView } from '../../src/flow/remote.ts';

const executor = asyncPool({ concurrency: 4 });
after(() => executor.close());
const dir = mkdtempSync(join(tmpdir(), 'weft-flow-attributes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Names that objects inherit, and the one that sets a prototype. */
const names = ['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__proto__'] as const;

let flowCount = 0;

describe('attribute names that objects inherit are plain attributes', () => {
  for (const name of names) {
    it(`${name}: set, shard, ForEach parameters, accessors downstream and resume on SQLite`, async () => {
      const flow = new Flow(`FlowAttributes-${++flowCount}`, { executor });
      let failing = true;
      const processed: number[] = [];
      const Source = flow.layer('Source', (self) => {
        self.shard({ [name]: [1, 2, 3] });
      });
      const Plain = flow.layer('Plain', (self) => {
        self.set({ [name]: 100 });
      });
      const Process = flow.layer(
        'Process',
        {
          foreach: new ForEach({
            parameters: [
              new Parameter({ layer: Source, attribute: name }),
              new Parameter({ layer: Plain, attribute: name }),
            ],
          }),
        },
        (self, source, plain) => {
          processed.push(self.index);
          if (failing && self.index === 1) throw new Error('task 1 broke');
          assert.deepEqual(Object.keys(source), [name]);
          self.set({ [name]: source[name] + plain[name] });
        },
        [Source, Plain],
      );
      flow.layer(
        'Join',
        async (self, process, source) => {
          const sums = process[name] as Accessor<number>;
          self.set({
            [name]: await sums.toArray(),
            last: await sums.at(-1),
            sources: await (source[name] as Accessor<number>).slice(1),
          });
        },
        [Process, Source],
      );
      const url = `sqlite:${join(dir, `${flowCount}.db`)}`;
      const runId = `attributes-${flowCount}`;
      const store = await openStore(url);
      try {
        await assert.rejects(flow.run({ store, runId }), (error: unknown) => {
          assert.ok(error instanceof LayerFailedError, `got ${error}`);
          assert.deepEqual(error.failedTasks, [1]);
          return true;
        });
        failing = false;
        processed.length = 0;
        const result = await flow.run({ store, runId });
        assert.deepEqual(processed, [1], 'the resume runs the failed task alone');

        const join = await result.layer('Join');
        assert.deepEqual(Object.keys(join).sort(), [name, 'last', 'sources'].sort());
        assert.deepEqual(join[name], [101, 102, 103]);
        assert.equal(join.last, 103);
        assert.deepEqual(join.sources, [2, 3]);
        const plain = await result.layer(Plain);
        assert.deepEqual(Object.keys(plain), [name]);
        assert.equal(plain[name], 100);
        const process = await result.layer(Process);
        assert.ok(process[name] instanceof Accessor);
        assert.deepEqual(await process[name].toArray(), [101, 102, 103]);
        assert.equal(result.info(Source).kinds.get(name), 'shard');
        assert.deepEqual(result.info(Source).lengths.get(name), [3]);
        assert.equal(result.info(Plain).kinds.get(name), 'value');
        assert.deepEqual([...result.info(Process).kinds], [[name, 'value']]);
      } finally {
        await store.close();
      }
    });
  }

  it('a worker gets each name in its views and sends it back as written', async () => {
    const flow = new Flow(`FlowAttributes-${++flowCount}`);
    const Up = flow.layer('Up', () => {});
    flow.layer(
      'Work',
      async (self, up) => {
        for (const name of names) {
          const values = up[name] as Accessor<number>;
          self.set({ [name]: (await values.toArray()).concat(up[`${name}_plain`]) });
        }
      },
      [Up],
    );
    const view: WireView = {
      values: new Map(names.map((name, i) => [`${name}_plain`, i])),
      accessors: new Map(names.map((name, i) => [name, [{ v: i * 10 }]])),
    };
    // As a worker receives it: a copy.
    const input = structuredClone({
      flow: flowRef(flow.name),
      layer: 'Work',
      index: 0,
      splits: 1,
      attempt: 1,
      views: [view],
    });
    const output = (await remoteLayerTask.fn(input, {
      signal: new AbortController().signal,
      attempt: 1,
      key: 'work/0',
      scope: new KeyScope('work/0'),
      progress: () => {},
    })) as LayerOutput;
    const back = structuredClone(output);
    assert.deepEqual(
      [...back.values],
      names.map((name, i) => [name, [i * 10, i]]),
    );
  });
});

describe('names that cannot be attributes are refused, saying what to write', () => {
  const store = new MemoryStore();
  after(() => store.close());

  it("a literal's __proto__: (a prototype, not an attribute) is refused by set and shard", async () => {
    for (const how of ['set', 'shard'] as const) {
      const flow = new Flow(`FlowAttributes-${++flowCount}`, { store, executor });
      flow.layer('Literal', (self) => {
        // biome-ignore lint/suspicious/noExplicitAny: the mistake under test.
        self[how]({ __proto__: { hidden: [1] } } as any);
      });
      await assert.rejects(flow.run(), (error: unknown) => {
        assert.ok(error instanceof LayerFailedError, `got ${error}`);
        const cause = error.cause;
        assert.ok(cause instanceof ValidationError, `got ${cause}`);
        assert.match(cause.message, new RegExp(`${how}\\(\\) takes a plain object`));
        assert.match(cause.message, /\['__proto__'\]/);
        return true;
      });
    }
  });

  it('a Parameter attribute that is not an identifier is refused when made', () => {
    const flow = new Flow(`FlowAttributes-${++flowCount}`, { store });
    const Source = flow.layer('Source', () => {});
    for (const attribute of ['a-b', '1x', 'a b', 'a/b']) {
      assert.throws(
        () => new Parameter({ layer: Source, attribute }),
        (error: unknown) =>
          error instanceof ValidationError &&
          error.message.includes(`'${attribute}' is not a valid attribute name`),
        attribute,
      );
    }
  });

  it('a view refuses a name its layer did not write, even one objects inherit', async () => {
    const flow = new Flow(`FlowAttributes-${++flowCount}`, { store, executor });
    const Source = flow.layer('Source', (self) => {
      self.set({ foo: 1 });
    });
    const seen: string[] = [];
    flow.layer(
      'Reader',
      (_self, source) => {
        for (const name of ['toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
          assert.throws(
            () => source[name],
            (error: unknown) =>
              error instanceof ValidationError &&
              error.message === `Layer Source has no attribute '${name}'; it has foo.`,
          );
          seen.push(name);
        }
      },
      [Source],
    );
    await flow.run();
    assert.equal(seen.length, 4);
  });
});
