/**
 * How a parallel method is called: a last plain-object argument holds the call's named
 * arguments, of which weft takes its options out; the method gets named arguments only
 * when there are some; post gets the results, the call's arguments and the extra options;
 * the function form and subclasses; an async method runs in this thread whatever its target.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { threadId } from 'node:worker_threads';
import { type Executor, inline } from 'weftjs';
import { Batch, inbatchParallel } from 'weftjs/batch';
import { calls } from './support/conventions.ts';

class Echo extends Batch {
  seen: unknown[][] = [];

  @inbatchParallel({ init: 'indices', target: 'for', extra: 'decorator' })
  echo(...given: unknown[]) {
    this.seen.push(given);
    return given.length;
  }
}

/** An executor that counts the tasks it ran for `inner`. */
function counting(inner: Executor): Executor & { ran: number } {
  const counted = {
    name: inner.name,
    remote: inner.remote,
    concurrency: inner.concurrency,
    maxConcurrency: inner.maxConcurrency,
    ran: 0,
    check: (task: Parameters<Executor['check']>[0]) => inner.check(task),
    run(invocation: Parameters<Executor['run']>[0]) {
      counted.ran++;
      return inner.run(invocation);
    },
    runBatch: (invocations: Parameters<Executor['runBatch']>[0]) => inner.runBatch(invocations),
    close: () => inner.close(),
  };
  return counted;
}

describe("a call's arguments", () => {
  it('weft takes nWorkers, target, debug, signal and executor out of the named arguments', async () => {
    const batch = calls(new Echo([1, 2]));
    const executor = counting(inline());
    await batch.echo('p', {
      keep: 'k',
      nWorkers: 2,
      target: 'for',
      debug: false,
      signal: new AbortController().signal,
      executor,
    });
    assert.deepEqual(batch.seen, [
      [0, 'p', { keep: 'k' }],
      [1, 'p', { keep: 'k' }],
    ]);
    // The executor given ran the items.
    assert.equal(executor.ran, 2);
  });

  it('the method gets no named argument when there are none, also after weft took its options out', async () => {
    const batch = calls(new Echo([1]));
    await batch.echo('p');
    await batch.echo('p', { nWorkers: 1, target: 'f' });
    await batch.echo({});
    assert.deepEqual(batch.seen, [[0, 'p'], [0, 'p'], [0]]);
  });

  it('a last argument that is not a plain object is positional', async () => {
    const batch = calls(new Echo([1]));
    const date = new Date(0);
    const list = [{ a: 1 }];
    await batch.echo(date);
    await batch.echo(list);
    const bare = Object.create(null) as Record<string, unknown>;
    bare.named = true;
    await batch.echo(bare);
    // A plain object meant as the last positional argument goes before an empty named one.
    await batch.echo({ a: 1 }, {});
    assert.deepEqual(batch.seen, [
      [0, date],
      [0, list],
      [0, { named: true }],
      [0, { a: 1 }],
    ]);
  });

  it('extra decorator options never reach the method', async () => {
    const batch = calls(new Echo([1]));
    await batch.echo({ own: 1 });
    assert.deepEqual(batch.seen, [[0, { own: 1 }]]);
  });
});

describe('post', () => {
  class Posted extends Batch {
    postCalls: unknown[][] = [];

    @inbatchParallel({ init: 'indices', target: 'for', post: 'collect', scale: 10 })
    scaled(i: number, by: number) {
      return i * by;
    }

    collect(results: number[], ...rest: unknown[]) {
      assert.ok(this instanceof Posted);
      this.postCalls.push([results, ...rest]);
      return Promise.resolve({ total: results.reduce((a, b) => a + b, 0) });
    }
  }

  it('is called with the results, the call positional arguments and { ...extra, ...callNamed }; its awaited value is the call value', async () => {
    const batch = calls(new Posted([0, 0, 0]));
    assert.deepEqual(await batch.scaled(2, { nWorkers: 1, tag: 't' }), { total: 6 });
    assert.deepEqual(await batch.scaled(1), { total: 3 });
    assert.deepEqual(batch.postCalls, [
      [[0, 2, 4], 2, { scale: 10, tag: 't' }],
      [[0, 1, 2], 1, { scale: 10 }],
    ]);
  });

  it('may be a function, called with the batch as this', async () => {
    const seen: unknown[] = [];
    const post = function (this: Batch, results: unknown[], ...rest: unknown[]) {
      seen.push(this, results, rest);
      return 'posted';
    };
    const work = inbatchParallel({ init: 'items', target: 'for', post }, (x: number) => x + 1);
    const batch = new Batch([1, 2]);
    assert.equal(await work.call(batch), 'posted');
    assert.deepEqual(seen, [batch, [2, 3], [{}]]);
  });

  it('without post, a call that succeeds returns the batch', async () => {
    const batch = new Echo([1]);
    assert.equal(await calls(batch).echo(), batch);
  });
});

describe('forms', () => {
  it('the function form works without classes or decorators and takes the function name', async () => {
    const double = inbatchParallel(
      { init: 'items', target: 'for', post: (results: unknown[]) => results },
      function double(this: Batch, x: number, by = 2) {
        return [x * by, this.length];
      },
    );
    assert.equal(double.name, 'double');
    assert.deepEqual(await double.call(new Batch([1, 2, 3])), [
      [2, 3],
      [4, 3],
      [6, 3],
    ]);
    assert.deepEqual(await double.call(new Batch([5]), 10), [[50, 1]]);
  });

  it('a parallel method is inherited and runs on the subclass instance', async () => {
    class Base extends Batch {
      @inbatchParallel({ init: 'indices', target: 'for' })
      fill(i: number, value: number) {
        this.data[i] = value * this.factor();
      }
      factor() {
        return 1;
      }
    }
    class Sub extends Base {
      override factor() {
        return 3;
      }
    }
    const sub = new Sub([0, 0]);
    assert.equal(await calls(sub).fill(2), sub);
    assert.deepEqual(sub.data, [6, 6]);
  });

  it('a decorated method of a subclass calls methods of its superclass', async () => {
    class Base extends Batch {
      square(x: number) {
        return x * x;
      }
    }
    class Sub extends Base {
      @inbatchParallel({ init: 'items', target: 'a', post: 'keep' })
      squares(x: number) {
        return super.square(x);
      }
      keep(results: number[]) {
        return results;
      }
    }
    assert.deepEqual(await calls(new Sub([1, 2, 3])).squares(), [1, 4, 9]);
  });
});

describe('nested calls', () => {
  class Rows extends Batch {
    @inbatchParallel({ init: 'items', target: 'for', post: 'keep' })
    sums(row: number[], target: string) {
      // Each item runs a parallel call of its own, on the same in-thread target.
      return calls(new Cells(row)).doubled({ target, nWorkers: 1 });
    }
    keep(results: unknown[]) {
      return results;
    }
  }
  class Cells extends Batch {
    @inbatchParallel({ init: 'items', target: 'for', post: 'total' })
    doubled(x: number) {
      return 2 * x;
    }
    total(results: number[]) {
      return results.reduce((a, b) => a + b, 0);
    }
  }

  it('an item may make a parallel call of its own, on for and async', async () => {
    const rows = calls(
      new Rows([
        [1, 2],
        [3, 4],
      ]),
    );
    assert.deepEqual(await rows.sums('for'), [6, 14]);
    assert.deepEqual(await rows.sums('async'), [6, 14]);
  });
});

/** Set by the test that reads it: a worker thread importing this module would see undefined. */
let marker: string | undefined;

describe('async methods', () => {
  class Async extends Batch {
    @inbatchParallel({ init: 'indices', target: 'threads', post: 'keep' })
    async onThreads(i: number) {
      await Promise.resolve();
      return [i, threadId, marker];
    }

    @inbatchParallel({ init: 'indices', post: 'keep' })
    async byDefault(i: number) {
      return [i, threadId, marker];
    }

    @inbatchParallel({ init: 'indices', target: 'mpc', post: 'keep' })
    async onProcesses(i: number) {
      return [i, threadId, marker];
    }

    keep(results: unknown[]) {
      return results;
    }
  }

  it('run in this thread, on async, whatever the target says', async () => {
    marker = 'main';
    const batch = calls(new Async([1, 2]));
    for (const method of ['onThreads', 'byDefault', 'onProcesses'] as const) {
      assert.deepEqual(await batch[method](), [
        [0, threadId, 'main'],
        [1, threadId, 'main'],
      ]);
    }
  });

  it("refuse debug, which only target 'for' has", async () => {
    const batch = calls(new Async([1, 2]));
    await assert.rejects(batch.byDefault({ target: 'for', debug: true }), {
      name: 'ValidationError',
      message:
        /Async\.byDefault: debug stops at the first error of target 'for', but an async method always runs on 'async'/,
    });
  });
});
