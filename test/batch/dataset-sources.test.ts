/** Datasets: their sources, the batches they cut (copies, unless shared), and the sources they refuse. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from 'weftjs';
import { action, Batch, Dataset } from 'weftjs/batch';

class Doubled extends Batch<Float64Array> {
  @action
  double(): void {
    for (let position = 0; position < this.length; position++) this.data[position]! *= 2;
  }
}

class Labelled extends Batch {
  static override components = ['images', 'labels'];
  declare images: Float32Array;
  declare labels: string[];
}

describe('Dataset', () => {
  it('cuts an array into batches of the dataset ids asked for, in that order', () => {
    const dataset = new Dataset(['a', 'b', 'c', 'd', 'e']);
    assert.equal(dataset.length, 5);
    assert.deepEqual(dataset.indices, [0, 1, 2, 3, 4]);
    const batch = dataset.createBatch([3, 1]);
    assert.ok(batch instanceof Batch);
    assert.deepEqual(batch.data, ['d', 'b']);
    assert.deepEqual(batch.indices, [3, 1]);
    assert.equal(batch.position(1), 1);
    assert.equal(batch.get(3), 'd');
  });

  it('makes batches of the class given', () => {
    class Words extends Batch {}
    const batch = new Dataset(['x', 'y'], Words).createBatch([1]);
    assert.ok(batch instanceof Words);
    assert.equal(new Dataset(['x'], Words).pipeline().dataset.BatchClass, Words);
  });

  it('copies the items of a typed array that is not in shared memory, consecutive or not', () => {
    const data = Float64Array.from([0, 10, 20, 30, 40]);
    const dataset = new Dataset(data);
    const consecutive = dataset.createBatch([1, 2, 3]).data as Float64Array;
    assert.ok(consecutive instanceof Float64Array);
    assert.deepEqual([...consecutive], [10, 20, 30]);
    assert.notEqual(consecutive.buffer, data.buffer);
    consecutive[0] = -1;
    assert.equal(data[1], 10, 'a write to the batch is not a write to the dataset');
    assert.deepEqual([...(dataset.createBatch([1, 2]).data as Float64Array)], [10, 20]);
    const picked = dataset.createBatch([4, 0]).data as Float64Array;
    assert.ok(picked instanceof Float64Array);
    assert.deepEqual([...picked], [40, 0]);
    assert.notEqual(picked.buffer, data.buffer);
  });

  it('copies a Buffer into a Buffer (whose own slice would be a view)', () => {
    const data = Buffer.from([1, 2, 3, 4]);
    const dataset = new Dataset(data);
    for (const ids of [
      [1, 2],
      [3, 0],
    ]) {
      const batch = dataset.createBatch(ids).data as Buffer;
      assert.ok(Buffer.isBuffer(batch));
      assert.deepEqual(
        [...batch],
        ids.map((id) => data[id]),
      );
      batch.fill(0);
    }
    assert.deepEqual([...data], [1, 2, 3, 4]);
  });

  it('gives every epoch the dataset as it was: an action in place changes its batch only', async () => {
    const epochs: number[][] = [];
    const pipeline = new Dataset(Float64Array.from([1, 2, 3, 4]), Doubled).pipeline().double();
    for await (const batch of pipeline.gen({ batchSize: 4, nEpochs: 2, prefetch: 2 })) {
      epochs.push(batch.data as unknown as number[]);
    }
    assert.deepEqual(
      epochs.map((data) => [...data]),
      [
        [2, 4, 6, 8],
        [2, 4, 6, 8],
      ],
    );
  });

  it('keeps data in a SharedArrayBuffer shared with its batches', () => {
    const data = new Int32Array(new SharedArrayBuffer(4 * 6)).fill(1);
    const dataset = new Dataset(data);
    const batch = dataset.createBatch([2, 3, 4]);
    (batch.data as Int32Array)[0] = 7;
    assert.equal(data[2], 7, 'a write to the batch is a write to the dataset');
    assert.ok((batch.data as Int32Array).buffer instanceof SharedArrayBuffer);
    // Picked items are a copy, in shared memory all the same (threads still share it).
    const picked = dataset.createBatch([5, 0]).data as Int32Array;
    assert.ok(picked.buffer instanceof SharedArrayBuffer);
    assert.notEqual(picked.buffer, data.buffer);
  });

  it('cuts every component alike', () => {
    const images = Float32Array.from([0.5, 1.5, 2.5]);
    const dataset = new Dataset({ images, labels: ['a', 'b', 'c'] }, Labelled);
    assert.equal(dataset.length, 3);
    const batch = dataset.createBatch([1, 2]);
    assert.ok(batch instanceof Labelled);
    assert.deepEqual([...batch.images], [1.5, 2.5]);
    assert.notEqual(batch.images.buffer, images.buffer, 'a copy, as for any data not shared');
    assert.deepEqual(batch.labels, ['b', 'c']);
    assert.deepEqual(batch.get(2), { images: 2.5, labels: 'c' });
  });

  it('makes an index of n ids whose batches carry ids and no data', () => {
    const dataset = new Dataset(1_000_000);
    assert.equal(dataset.length, 1_000_000);
    const batch = dataset.createBatch([999_999, 5]);
    assert.equal(batch.data, undefined);
    assert.deepEqual(batch.indices, [999_999, 5]);
    assert.equal(batch.length, 2);
    assert.equal(batch.position(5), 1);
  });

  it('refuses components of different lengths, unknown components and components without a declaration', () => {
    assert.throws(
      () => new Dataset({ images: new Float32Array(3), labels: ['a'] }, Labelled),
      (error) =>
        error instanceof ValidationError &&
        /'images' has 3 items and 'labels' has 1/.test(error.message),
    );
    assert.throws(
      () => new Dataset({ images: new Float32Array(1), masks: [1] }, Labelled),
      (error) =>
        error instanceof ValidationError &&
        /no component 'masks': its components are images, labels/.test(error.message),
    );
    assert.throws(
      () => new Dataset({ images: [1] }),
      (error) =>
        error instanceof ValidationError && /declare static components/.test(error.message),
    );
    assert.throws(
      () => new Dataset([1, 2], Labelled),
      (error) => error instanceof ValidationError && /give an object of them/.test(error.message),
    );
  });

  it('refuses other sources, bad sizes and ids it does not hold', () => {
    for (const source of [-1, 1.5, Number.NaN, 'abc', null, new DataView(new ArrayBuffer(2))]) {
      assert.throws(() => new Dataset(source as never), ValidationError, String(source));
    }
    const dataset = new Dataset(['a', 'b']);
    assert.throws(
      () => dataset.createBatch([0, 2]),
      (error) =>
        error instanceof ValidationError && /2 is not an id of this dataset/.test(error.message),
    );
  });
});
