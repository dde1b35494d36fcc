/**
 * inbatchParallel's inits: the standard ones (`indices`, `items`, `run_once`), component
 * inits, method and function inits, and what each argument set a custom init yields
 * means: `args(positional, named)` both, an array positional, a plain object named, any
 * other value one argument.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from 'weftjs';
import { Args, args, Batch, inbatchParallel } from 'weftjs/batch';
import { calls } from './support/conventions.ts';

/** Every method records the arguments of each of its item calls. */
class Probe extends Batch {
  seen: unknown[][] = [];

  note(...given: unknown[]): number {
    this.seen.push(given);
    return this.seen.length;
  }

  @inbatchParallel({ init: 'indices', target: 'for' })
  byIndex(...given: unknown[]) {
    return this.note(...given);
  }

  @inbatchParallel({ init: 'items', target: 'for' })
  byItem(...given: unknown[]) {
    return this.note(...given);
  }

  @inbatchParallel({ init: 'run_once', target: 'for' })
  once(...given: unknown[]) {
    return this.note(...given);
  }

  @inbatchParallel({ init: 'sets', target: 'for' })
  bySets(...given: unknown[]) {
    return this.note(...given);
  }

  /** The argument sets `bySets` runs with, set by each test. */
  nextSets: unknown = [];
  initCalls: unknown[][] = [];

  sets(...given: unknown[]) {
    this.initCalls.push(given);
    return this.nextSets;
  }
}

class Images extends Batch {
  static override components = ['images', 'labels'];
  declare images: unknown[];
  declare labels: string[];
  seen: unknown[][] = [];

  @inbatchParallel({ init: 'labels', target: 'for' })
  byLabel(...given: unknown[]) {
    this.seen.push(given);
  }

  @inbatchParallel({ init: 'items', target: 'for' })
  byItem(...given: unknown[]) {
    this.seen.push(given);
  }
}

describe('standard inits', () => {
  it("'indices' gives each id of the batch as the first argument", async () => {
    const probe = calls(new Probe([10, 20, 30]));
    await probe.byIndex('x');
    assert.deepEqual(probe.seen, [
      [0, 'x'],
      [1, 'x'],
      [2, 'x'],
    ]);
  });

  it("'indices' gives the batch's own ids when it has an index", async () => {
    const probe = calls(new Probe([10, 20], { index: ['a', 'b'] }));
    await probe.byIndex();
    assert.deepEqual(probe.seen, [['a'], ['b']]);
  });

  it("'items' gives each item as one argument, never unpacking arrays or plain objects", async () => {
    const items = [[1, 2], { a: 1 }, 'text', Object.create(null) as object];
    const probe = calls(new Probe(items));
    await probe.byItem('call');
    assert.equal(probe.seen.length, 4);
    probe.seen.forEach((given, i) => {
      assert.equal(given.length, 2);
      assert.equal(given[0], items[i]);
      assert.equal(given[1], 'call');
    });
  });

  it("'items' of a batch with components gives one object of each item's components", async () => {
    const batch = calls(new Images({ images: ['i0', 'i1'], labels: ['cat', 'dog'] }));
    await batch.byItem();
    assert.deepEqual(batch.seen, [
      [{ images: 'i0', labels: 'cat' }],
      [{ images: 'i1', labels: 'dog' }],
    ]);
  });

  it("'run_once' calls the method once, with the call's arguments only", async () => {
    const probe = calls(new Probe([1, 2, 3]));
    await probe.once('src', { fmt: 'raw' });
    assert.deepEqual(probe.seen, [['src', { fmt: 'raw' }]]);
  });

  it("a component's name gives each item's element of that component, never unpacked", async () => {
    const labels = [['a', 'b'], { named: true }];
    const batch = calls(new Images({ images: [0, 1], labels: labels as unknown as string[] }));
    await batch.byLabel(7);
    assert.deepEqual(batch.seen, [
      [labels[0], 7],
      [labels[1], 7],
    ]);
    assert.equal(batch.seen[0]![0], labels[0]);
  });
});

describe('custom inits', () => {
  it('a method init is called with the call positional arguments and { ...extra, ...callNamed }', async () => {
    const probe = calls(new Probe([1]));
    probe.nextSets = [[1]];
    await probe.bySets('p', 2, { named: 'n', nWorkers: 1 });
    await probe.bySets();
    assert.deepEqual(probe.initCalls, [['p', 2, { named: 'n' }], [{}]]);
  });

  it('a function init is called with the batch as this and extra options', async () => {
    const seen: unknown[] = [];
    const init = function (this: Batch, ...given: unknown[]) {
      seen.push(this, given);
      return [1, 2];
    };
    class WithExtra extends Batch {
      @inbatchParallel({ init, target: 'for', scale: 3 })
      twice(x: number, ...rest: unknown[]) {
        return [x, rest];
      }
      @inbatchParallel({ init, target: 'for', scale: 3, post: (results: unknown[]) => results })
      kept(x: number, ...rest: unknown[]) {
        return [x, rest];
      }
    }
    const batch = calls(new WithExtra([]));
    await batch.twice('a', { mode: 'm' });
    assert.equal(seen[0], batch);
    assert.deepEqual(seen[1], ['a', { scale: 3, mode: 'm' }]);
    // The extra option reaches init (and post) but never the method.
    assert.deepEqual(await batch.kept('a', { mode: 'm' }), [
      [1, ['a', { mode: 'm' }]],
      [2, ['a', { mode: 'm' }]],
    ]);
  });

  it('an init may return a promise of an iterable, or a generator', async () => {
    const probe = calls(new Probe([]));
    probe.nextSets = Promise.resolve([['p']]);
    await probe.bySets();
    probe.nextSets = (function* () {
      yield 'g0';
      yield 'g1';
    })();
    await probe.bySets();
    assert.deepEqual(probe.seen, [['p'], ['g0'], ['g1']]);
  });

  it('an array is positional arguments, a plain object named ones, args() both, anything else one argument', async () => {
    const date = new Date(0);
    const probe = calls(new Probe([]));
    probe.nextSets = [[1, 2], { a: 1 }, args([3], { b: 2 }), 'one', date, [[4, 5]], new Args()];
    await probe.bySets('c', { d: 4 });
    assert.deepEqual(probe.seen, [
      [1, 2, 'c', { d: 4 }],
      ['c', { a: 1, d: 4 }],
      [3, 'c', { b: 2, d: 4 }],
      ['one', 'c', { d: 4 }],
      [date, 'c', { d: 4 }],
      [[4, 5], 'c', { d: 4 }],
      ['c', { d: 4 }],
    ]);
  });

  it("the call's named arguments win over the init's", async () => {
    const probe = calls(new Probe([]));
    probe.nextSets = [{ mode: 'init', keep: 1 }];
    await probe.bySets({ mode: 'call' });
    assert.deepEqual(probe.seen, [[{ mode: 'call', keep: 1 }]]);
  });

  it('args() refuses positional arguments that are not an array, and named ones that are not a plain object', () => {
    assert.throws(() => args('x' as never), {
      name: 'ValidationError',
      message: /positional must be an array/,
    });
    assert.throws(() => args([], new Date() as never), {
      name: 'ValidationError',
      message: /named must be a plain object, got a Date/,
    });
  });
});

describe('bad inits', () => {
  it('a string that is no standard init, component or method fails the call, naming the class, the init and what it may be', async () => {
    class Plain extends Batch {
      ran = 0;
      @inbatchParallel({ init: 'imagez', target: 'for' })
      work() {
        this.ran++;
      }
    }
    const batch = calls(new Plain([1]));
    await assert.rejects(batch.work(), (error: Error) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /Plain\.work: init 'imagez'/);
      assert.match(error.message, /'indices', 'items', 'run_once'/);
      assert.match(error.message, /a method of Plain, or a function/);
      return true;
    });
    assert.equal(batch.ran, 0);
    const images = calls(new Images({ images: [], labels: [] }));
    const Misnamed = inbatchParallel({ init: 'image', target: 'for' }, function misnamed() {});
    await assert.rejects(Misnamed.call(images), /a component \(images, labels\)/);
  });

  it('an init that returns no iterable fails the call', async () => {
    const probe = calls(new Probe([1]));
    for (const wrong of [undefined, 3, 'abc']) {
      probe.nextSets = wrong;
      await assert.rejects(probe.bySets(), {
        name: 'ValidationError',
        message: /Probe\.bySets: init returned .*; it must return an iterable/,
      });
    }
    assert.deepEqual(probe.seen, []);
  });

  it('an init that throws fails the call with its own error', async () => {
    const failure = new Error('init broke');
    const broken = inbatchParallel(
      {
        init: () => {
          throw failure;
        },
        target: 'for',
      },
      function broken() {},
    );
    await assert.rejects(broken.call(new Batch([1])), (error) => error === failure);
  });
});
