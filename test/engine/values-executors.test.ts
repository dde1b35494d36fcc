/**
 * Off-thread executors give back what the task returned, as this thread would: values
 * cross by structured clone, which turns a Buffer into a Uint8Array, an object without a
 * prototype into a plain object, and drops an error's code; weft restores them on arrival.
 * A class instance would arrive as a plain object without its methods: it is refused,
 * naming the key, the path and the class.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type Executor, isWeftError, map, processes, threads } from 'weftjs';
import {
  inspectInput,
  kept,
  makeSample,
  movedBuffer,
  type SampleName,
  sample,
} from '../fixtures/values-tasks.ts';

const keptNames = Object.keys(kept) as SampleName[];

for (const [name, make] of [
  ['threads', () => threads({ workers: 1 })],
  ['processes', () => processes({ workers: 1 })],
] as const) {
  describe(`values from ${name}`, () => {
    const executor: Executor = make();
    after(() => executor.close());

    it('are the values the task returned', async () => {
      const outputs = await map(keptNames, sample, { executor });
      keptNames.forEach((sampleName, i) => {
        const expected = makeSample(sampleName);
        assert.deepStrictEqual(outputs[i], expected, sampleName);
      });
      assert.ok(Buffer.isBuffer(outputs[0]));
      const {
        list,
        map: entries,
        set,
        nested,
      } = outputs[2] as ReturnType<(typeof kept)['buffers in containers']>;
      assert.ok(Buffer.isBuffer(list[0]) && !Buffer.isBuffer(list[1]) && Buffer.isBuffer(list[2]));
      const bufferKey = [...entries.keys()].find((key) => key !== 'b');
      assert.ok(Buffer.isBuffer(entries.get('b')) && Buffer.isBuffer(bufferKey));
      assert.equal(entries.get(bufferKey), list[2], 'a Buffer reached twice is one Buffer');
      assert.ok(Buffer.isBuffer([...set][0]));
      assert.ok(Buffer.isBuffer(nested.deeper[0]!.bytes));
      const [error] = outputs[3] as Error[];
      assert.ok(error instanceof TypeError);
      assert.equal((error as Error & { code: string }).code, 'E_BAD');
      assert.equal(Object.getPrototypeOf(outputs[4]), null);
    });

    it('are given inputs as this thread gives them: Buffers, objects without a prototype', async () => {
      const input = () => ({
        bytes: Buffer.from('héllo'),
        bare: Object.assign(Object.create(null), { a: 1 }),
        list: [Buffer.from('a'), Buffer.from('b')],
      });
      const [here] = await map([input()], inspectInput);
      const [there] = await map([input()], inspectInput, { executor });
      assert.deepStrictEqual(here, { text: 'héllo', isBuffer: true, bare: true });
      assert.deepStrictEqual(there, here);
    });

    it('keep arrays with extra properties, as this thread does', async () => {
      const names: SampleName[] = ['array with extra properties', 'RegExp match'];
      const outputs = await map(names, sample, { executor });
      for (const [i, sampleName] of names.entries()) {
        assert.deepStrictEqual(outputs[i], makeSample(sampleName));
      }
    });

    // Buffers move between threads only; a child process always gets a copy.
    if (name === 'threads') {
      it('move a transferred Buffer, which arrives a Buffer', async () => {
        const [moved] = await map([64], movedBuffer, { executor });
        assert.ok(Buffer.isBuffer(moved));
        assert.deepStrictEqual(moved, Buffer.alloc(64, 7));
      });
    }

    it('refuse a class instance, naming the key, the path and the class', async () => {
      const names: SampleName[] = [
        'class instance',
        'class instance nested',
        'Array subclass',
        'Map subclass',
      ];
      const outputs = await map(names, sample, { executor, onError: 'collect' });
      const expected = [
        /returned an instance of class Point at output,/,
        /returned an instance of class Point at output\.points\.get\("p"\),/,
        /returned an instance of class Row at output,/,
        /returned an instance of class Lookup at output,/,
      ];
      outputs.forEach((error, i) => {
        assert.ok(isWeftError(error, 'WEFT_NOT_CLONEABLE'), String(error));
        assert.match((error as Error).message, new RegExp(`\\(map:values:sample[^ ]*/${i}\\)`));
        assert.match((error as Error).message, expected[i]!);
      });
    });
  });
}
