/**
 * Component names: those a batch refuses (not a non-empty string, repeated, a member of
 * the batch), and odd ones it takes as any other ('__proto__', NUL, a lone surrogate)
 * without touching a prototype.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from 'weftjs';
import { Batch, Dataset } from 'weftjs/batch';

/** A batch class with `components`, made fresh for each case. */
function withComponents(components: unknown): typeof Batch {
  return class Odd extends Batch {
    static override components = components as readonly string[];
    method(): void {}
  };
}

/** Asserts that making a batch of components `names` fails naming the class, `shown` and `fix`. */
function refused(names: unknown, shown: string, fix: RegExp): void {
  const Odd = withComponents(names);
  const check = (error: unknown) =>
    error instanceof ValidationError &&
    error.message.startsWith('Odd.components') &&
    error.message.includes(shown) &&
    fix.test(error.message);
  assert.throws(() => new Odd({}), check, `new Odd() with ${String(shown)}`);
  assert.throws(() => new Dataset({ a: [1] }, Odd), check, `a dataset of Odd with ${shown}`);
}

describe('Batch components: names refused', () => {
  it('refuses names of the members of a batch, which a component would hide', () => {
    const members = ['length', 'index', 'indices', 'data', 'get', 'position', 'component'];
    for (const name of [
      ...members,
      'components',
      'constructor',
      'method',
      'toString',
      'hasOwnProperty',
    ]) {
      refused([name], `"${name}" is a member of Odd`, /rename the component/);
    }
  });

  it('refuses names that are no non-empty string, repeats, and a list that is no array', () => {
    refused([''], 'must be a non-empty string, got ""', /name each component/);
    refused(['images', 3], 'must be a non-empty string, got 3', /name each component/);
    refused([Symbol('s')], 'must be a non-empty string', /name each component/);
    refused(['images', 'images'], 'names "images" twice', /list each component once/);
    refused('images', 'must be an array of names', /static components = \['images'/);
  });
});

describe('Batch components: odd names', () => {
  it("reads and writes a component named '__proto__' as its own key, polluting no prototype", () => {
    const Proto = withComponents(['__proto__', 'labels']);
    const images = [[1], [2]];
    const given = Object.defineProperty({ labels: ['a', 'b'] }, '__proto__', {
      value: images,
      enumerable: true,
    });
    const batch = new Proto(given);
    const own = (value: object) => Object.getOwnPropertyDescriptor(value, '__proto__')?.value;
    assert.equal(own(batch), images);
    assert.equal(batch.component('__proto__'), images);
    assert.ok(batch instanceof Proto, "the batch's prototype is untouched");
    assert.equal(batch.length, 2);
    assert.equal(own(batch.data as object), images, 'data has it as an own key');
    assert.equal(Object.getPrototypeOf(batch.data), Object.prototype);
    assert.deepEqual(Object.keys(batch.get(1) as object), ['__proto__', 'labels']);
    assert.equal(own(batch.get(1) as object), images[1]);

    const replaced = [[3], [4]];
    batch.data = Object.fromEntries([
      ['__proto__', replaced],
      ['labels', ['c', 'd']],
    ]);
    assert.equal(batch.component('__proto__'), replaced);
    assert.ok(batch instanceof Proto);
    // A value without the key leaves the component undefined, not Object.prototype.
    batch.data = { labels: ['e', 'f'] };
    assert.equal(batch.component('__proto__'), undefined);
    assert.equal(({} as { labels?: unknown }).labels, undefined, 'Object.prototype untouched');

    const dataset = new Dataset(
      Object.defineProperty({ labels: ['x', 'y', 'z'] }, '__proto__', {
        value: [[7], [8], [9]],
        enumerable: true,
      }),
      Proto,
    );
    const cut = dataset.createBatch([2, 0]);
    assert.deepEqual(cut.component('__proto__'), [[9], [7]]);
    assert.deepEqual(cut.component('labels'), ['z', 'x']);
    assert.ok(cut instanceof Proto);
  });

  it('takes names with NUL or a lone surrogate as any other', () => {
    const names = ['a\u0000b', '\ud800'];
    const Odd = withComponents(names);
    const batch = new Odd(Object.fromEntries(names.map((name, n) => [name, [n, n + 10]])));
    assert.deepEqual(batch.components, names);
    assert.deepEqual(batch.component('\ud800'), [1, 11]);
    assert.deepEqual(batch.get(1), { 'a\u0000b': 10, '\ud800': 11 });
    assert.deepEqual(Object.keys(batch.data as object), names);
  });
});
