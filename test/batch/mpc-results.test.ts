/**
 * Target `mpc`, as in BatchFlow: the method runs once in the caller and returns what runs
 * once per item in child processes, a task (given the item's argument list, with its
 * retries) or an exported function (called with the arguments spread, without `this`).
 * Anything else is a ValidationError naming the method and the fix.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { asyncPool, isWeftError, processes, setDefaultExecutorFactory } from 'weftjs';
import { defaultExecutor } from '../../src/executors/from-env.ts';
import { calls } from './support/conventions.ts';
import { Recording } from './support/remote-executors.ts';
import { Jobs } from './support/remote-mpc.ts';

const executor = processes({ workers: 2 });
after(() => executor.close());

interface Scaled {
  readonly value: number;
  readonly pid: number;
}

describe('target mpc', () => {
  it('maps the task the method returns over the items in child processes', async () => {
    const batch = new Jobs([1, 2, 3, 4]);
    const results: Scaled[] = await calls(batch).byTask(5, { executor });
    assert.deepEqual(
      results.map((result) => result.value),
      [5, 10, 15, 20],
    );
    assert.ok(results.every((result) => result.pid !== process.pid));
    assert.equal(batch.methodRuns, 1);
  });

  it("keeps the returned task's retries", async () => {
    const results = await calls(new Jobs([7, 8])).retried({ executor });
    assert.deepEqual(
      results.map((result: { value: number; attempt: number }) => [result.value, result.attempt]),
      [
        [7, 2],
        [8, 2],
      ],
    );
  });

  it('calls the exported function the method returns with the arguments spread, without this', async () => {
    const batch = new Jobs([1, 2, 3]);
    const results = await calls(batch).byFunction(3, { executor });
    assert.deepEqual(
      results.map(({ value, rest, self }: { value: number; rest: number; self: string }) => [
        value,
        rest,
        self,
      ]),
      [
        [3, 0, 'undefined'],
        [6, 0, 'undefined'],
        [9, 0, 'undefined'],
      ],
    );
    assert.ok(results.every((result: Scaled) => result.pid !== process.pid));
    assert.equal(batch.methodRuns, 1);
  });

  it("puts each failed item's own error in its place, with its name, code and message", async () => {
    const results = await calls(new Jobs([2, 3, 4, 5])).failing({ executor });
    assert.equal(results[0], 2);
    assert.equal(results[2], 4);
    for (const [position, item] of [
      [1, 3],
      [3, 5],
    ] as const) {
      const error = results[position] as Error & { code?: string };
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'OddItemError');
      assert.equal(error.code, 'E_ODD_ITEM');
      assert.equal(error.message, `item ${item} is odd`);
    }
  });

  it('without an executor, runs on a shared pool of child processes', async () => {
    const results: Scaled[] = await calls(new Jobs([1, 2])).byTask(2);
    assert.deepEqual(
      results.map((result) => [result.value, result.pid !== process.pid]),
      [
        [2, true],
        [4, true],
      ],
    );
  });
});

describe('target mpc: what the method may return', () => {
  it('a function its module does not export: a ValidationError naming it and the fix, before any item runs', async () => {
    const recording = new Recording(executor);
    await assert.rejects(
      calls(new Jobs([1, 2])).byHidden({ executor: recording }),
      (error: Error) => {
        assert.ok(isWeftError(error, 'WEFT_VALIDATION'), String(error));
        assert.equal(
          error.message,
          'Jobs.byHidden (target mpc) returned the function hidden, which is not exported from ' +
            './test/batch/support/remote-mpc.ts: child processes find it by its export. Export it ' +
            "from there, or return a task('name', fn) defined at the top level of a module.",
        );
        return true;
      },
    );
    assert.equal(recording.seen.length, 0);
  });

  it('anything but a task or a function: a ValidationError naming the method and the fix', async () => {
    await assert.rejects(calls(new Jobs([1])).byNothing({ executor }), (error: Error) => {
      assert.ok(isWeftError(error, 'WEFT_VALIDATION'), String(error));
      assert.match(error.message, /^Jobs\.byNothing \(target mpc\) returned a number: /);
      assert.match(error.message, /task\('name', fn\) defined at the top level of a module/);
      return true;
    });
  });
});

describe('target mpc and the default executor', () => {
  afterEach(() => setDefaultExecutorFactory(defaultExecutor));

  it('runs the items on the default executor when it is a processes pool (weft run --executor processes)', async () => {
    const recording = new Recording(executor);
    setDefaultExecutorFactory(() => recording);
    const results = await calls(new Jobs([1, 2])).byTask(2);
    assert.equal(results.length, 2);
    assert.equal(recording.seen.length, 2);
  });

  it('runs them on its own pool when the default executor is of another kind', async () => {
    const recording = new Recording(asyncPool());
    setDefaultExecutorFactory(() => recording);
    const results = await calls(new Jobs([1, 2])).byTask(2);
    assert.equal(results.length, 2);
    assert.equal(recording.seen.length, 0);
  });
});
