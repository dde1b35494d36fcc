/**
 * inbatchParallel's options: bad decorator options fail when the decorator is made,
 * naming the option; bad call options fail the call before any item runs; a call's own
 * target and debug override the decorator's and are checked the same way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from 'weftjs';
import { Batch, type InbatchParallelOptions, inbatchParallel } from 'weftjs/batch';
import { calls } from './support/conventions.ts';

/** Asserts that `fn` throws a ValidationError whose message matches every pattern. */
function refuses(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (error: Error) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${error}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

const bad = (options: unknown) => () => inbatchParallel(options as InbatchParallelOptions);

describe('decorator options', () => {
  it('init is required: a standard init, a name or a function', () => {
    refuses(bad({}), /init is required/, /'indices', 'items', 'run_once'/);
    refuses(bad({ init: 3 }), /init is required/, /got 3/);
    refuses(bad({ init: '' }), /init is required/);
    refuses(bad(undefined), /needs an options object with init/);
  });

  it('an unknown target is refused, naming the accepted ones', () => {
    refuses(
      bad({ init: 'indices', target: 'gpu' }),
      /unknown target 'gpu'/,
      /threads \(t\), async \(a\), mpc \(processes, m\) or for \(f\)/,
    );
  });

  it('debug must be a boolean', () => {
    refuses(
      bad({ init: 'indices', target: 'for', debug: 'yes' }),
      /debug must be true or false, got 'yes'/,
    );
  });

  it("debug: true needs target 'for', also when the target is left to its default (threads)", () => {
    refuses(
      bad({ init: 'indices', target: 'async', debug: true }),
      /debug: true needs target 'for'/,
      /'async'/,
    );
    refuses(
      bad({ init: 'indices', target: 't', debug: true }),
      /debug: true needs target 'for'/,
      /'threads'/,
    );
    refuses(
      bad({ init: 'indices', debug: true }),
      /debug: true needs target 'for'/,
      /the default, 'threads'/,
    );
    assert.equal(typeof inbatchParallel({ init: 'indices', target: 'f', debug: true }), 'function');
  });

  it('debug: true on an async method is refused when the decorator is applied, or the function form made', () => {
    const decorate = inbatchParallel({ init: 'indices', target: 'for', debug: true });
    refuses(
      () =>
        decorate(async function fetchAll() {}, {
          kind: 'method',
          name: 'fetchAll',
        } as ClassMethodDecoratorContext),
      /@inbatchParallel on fetchAll: debug stops at the first error of target 'for', but an async method always runs on 'async'/,
    );
    refuses(
      () =>
        inbatchParallel(
          { init: 'indices', target: 'for', debug: true },
          async function fetchAll() {},
        ),
      /inbatchParallel\(options, fetchAll\): debug stops at the first error/,
    );
  });

  it('nWorkers given to the decorator must be a whole number ≥ 1', () => {
    for (const nWorkers of [0, 2.5, '2']) {
      refuses(
        bad({ init: 'indices', nWorkers }),
        /inbatchParallel: nWorkers must be a whole number ≥ 1/,
      );
    }
  });

  it('post must be a method name or a function', () => {
    refuses(bad({ init: 'indices', post: 3 }), /post must be a method name or a function, got 3/);
  });

  it('the function form needs a function', () => {
    refuses(() => inbatchParallel({ init: 'indices' }, 'nope' as never), /fn must be a function/);
  });

  it('a post that names no method fails the call before any item runs', async () => {
    class Posted extends Batch {
      ran = 0;
      @inbatchParallel({ init: 'indices', target: 'for', post: 'missing' })
      work() {
        this.ran++;
      }
    }
    const batch = calls(new Posted([1, 2]));
    await assert.rejects(batch.work(), {
      name: 'ValidationError',
      message: /Posted\.work: post 'missing' is no method of Posted/,
    });
    assert.equal(batch.ran, 0);
  });
});

class Counted extends Batch {
  ran = 0;

  @inbatchParallel({ init: 'indices', target: 'for' })
  loop(i: number) {
    this.ran++;
    if (i === 1) throw new Error(`item ${i} broke`);
    return i;
  }

  @inbatchParallel({ init: 'indices', target: 'for', debug: true })
  debugged(i: number) {
    this.ran++;
    return i;
  }
}

describe('call options', () => {
  it('nWorkers must be a whole number ≥ 1, Infinity allowed', async () => {
    const batch = calls(new Counted([0]));
    for (const nWorkers of [0, -1, 0.5, 1.5, '2', Number.NaN, null]) {
      await assert.rejects(batch.debugged({ nWorkers }), {
        name: 'ValidationError',
        message: /Counted\.debugged: nWorkers must be a whole number ≥ 1 \(or Infinity\)/,
      });
    }
    assert.equal(batch.ran, 0);
    await batch.debugged({ nWorkers: Number.POSITIVE_INFINITY });
    await batch.debugged({ nWorkers: 3 });
    assert.equal(batch.ran, 2);
  });

  it('a bad target, debug, signal or executor fails the call, naming it', async () => {
    const batch = calls(new Counted([0]));
    await assert.rejects(
      batch.loop({ target: 'gpu' }),
      /Counted\.loop: unknown target 'gpu'; use threads \(t\)/,
    );
    await assert.rejects(
      batch.loop({ debug: 1 }),
      /Counted\.loop: debug must be true or false, got 1/,
    );
    await assert.rejects(
      batch.loop({ signal: {} }),
      /Counted\.loop: signal must be an AbortSignal, got an object/,
    );
    await assert.rejects(
      batch.loop({ executor: 'inline' }),
      /Counted\.loop: executor must be an Executor/,
    );
    assert.equal(batch.ran, 0);
  });

  it("a call's debug and target override the decorator's and are checked the same way", async () => {
    const batch = calls(new Counted([0, 1, 2]));
    // The decorator's target is for: debug at the call stops at the first error, unwrapped.
    await assert.rejects(batch.loop({ debug: true }), { message: 'item 1 broke' });
    assert.equal(batch.ran, 2);
    // The decorator's debug goes with for; moving the call to async refuses it.
    await assert.rejects(batch.debugged({ target: 'async' }), {
      name: 'ValidationError',
      message: /Counted\.debugged: debug: true needs target 'for'/,
    });
    // ...unless the call also turns debug off.
    batch.ran = 0;
    await batch.debugged({ target: 'a', debug: false });
    assert.equal(batch.ran, 3);
  });

  it('a call target of for with debug works on a method whose decorator has another target', async () => {
    const threaded = inbatchParallel(
      { init: 'indices', target: 'threads' },
      function threaded(i: number) {
        if (i === 0) throw new Error('first');
        return i;
      },
    );
    await assert.rejects(threaded.call(new Batch([1, 2]), { target: 'f', debug: true }), {
      message: 'first',
    });
  });

  it('a parallel method called on anything but a batch fails, saying how to call it', async () => {
    const work = inbatchParallel({ init: 'indices', target: 'for' }, function work() {});
    await assert.rejects(work.call({} as Batch), {
      name: 'ValidationError',
      message: /work is a parallel method: call it on a batch .*work\.call\(batch, …\)/,
    });
  });
});
