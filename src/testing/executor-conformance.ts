/**
 * The executor conformance suite: one set of cases that every executor passes, run
 * through the public `map` and `dag` API and directly through `run` and `runBatch`. A new
 * executor is proven by calling {@link describeExecutorConformance} from its test file.
 *
 * Tasks share no memory with the test (they may run in other threads, processes or
 * machines), so the cases observe them only through outputs, errors and progress
 * reports, and synchronise on events and promises rather than on sleeps. The cases are
 * grouped by concern in the `executor-conformance-*` modules beside this one.
 */
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Executor } from '../core/executor.ts';
import { describeAborts } from './executor-conformance-abort.ts';
import { describeClose } from './executor-conformance-close.ts';
import { describeConcurrency } from './executor-conformance-concurrency.ts';
import { describeContext } from './executor-conformance-context.ts';
import { describeMemory } from './executor-conformance-crash.ts';
import { describeRemote } from './executor-conformance-remote.ts';
import { describeResults } from './executor-conformance-results.ts';
import { type ConformanceSuite, settleWithin } from './executor-conformance-support.ts';
import { describeValues } from './executor-conformance-values.ts';

/** Options of {@link describeExecutorConformance}. */
export interface ExecutorConformanceOptions {
  /**
   * Whether the executor runs tasks outside this thread, which adds the cases for plain
   * closures, values that cannot be copied, unknown tasks and crashed workers. When not
   * given, one executor is made while the suite is declared, only to read its `remote`
   * flag, and closed at once: pass it when making an executor is costly.
   * @default the executor's `remote`
   */
  readonly remote?: boolean;
  /**
   * Makes an executor like the one under test whose workers may use at most `megabytes`
   * of heap. Given, it adds the case of a task that leaks memory: it must fail alone,
   * with `WEFT_WORKER_CRASHED` and a message saying its worker ran out of memory, and the
   * executor must go on. Only for remote executors.
   * @default no memory case
   * @example (megabytes) => processes({ workers: 2, maxMemoryMb: megabytes })
   */
  readonly makeMemoryCapped?: (megabytes: number) => Executor;
}

/**
 * Declares the executor conformance suite with `node:test`: one `describe` block named
 * after the executor, which makes one executor with `makeExecutor` before its cases and
 * closes it after them (the `close()` case makes and closes one more).
 *
 * The cases cover ordered results of sync and async tasks, `dag`, `run` and `runBatch`;
 * errors (message, name and `code` across the boundary, `onError: 'collect'`); values
 * that must round-trip (Map, Set, Date, BigInt, typed arrays, nested data, `undefined`);
 * the task context (attempt, key, signal, progress reaching the event bus); retries;
 * timeouts and fail-fast aborts reaching the task where it runs; the concurrency bound;
 * `close()`; and, for remote executors, plain closures, values that cannot be copied,
 * unknown tasks, a worker that dies, and (with `makeMemoryCapped`) one that runs out of
 * memory. The executor must be able to run two tasks at once unless its
 * `maxConcurrency` is 1 (a pool needs at least two workers).
 *
 * The tasks it runs are defined in `weftjs/testing`'s conformance tasks module, which
 * workers of a remote executor must be able to import.
 *
 * @param name Shown in the test report, e.g. `threads`.
 * @param makeExecutor Makes a fresh executor; called once per suite (plus once for the
 *   `close()` case, and once more to read `remote` when `options.remote` is not given).
 * @param options See {@link ExecutorConformanceOptions}.
 * @example
 * import { describeExecutorConformance } from 'weftjs/testing';
 * describeExecutorConformance('threads', () => threads({ workers: 2 }));
 */
export function describeExecutorConformance(
  name: string,
  makeExecutor: () => Executor,
  options: ExecutorConformanceOptions = {},
): void {
  describe(`executor conformance: ${name}`, () => {
    const probe = options.remote === undefined ? probeRemote(makeExecutor) : undefined;
    const remote = options.remote ?? probe!.remote;
    let made: Executor | undefined;
    const suite: ConformanceSuite = {
      executor: () => {
        assert.ok(made, 'the executor is made in before()');
        return made;
      },
      makeExecutor,
      replacingOnFailure: (fn) => async () => {
        try {
          await fn();
        } catch (error) {
          const stuck = made;
          made = makeExecutor();
          await settleWithin(stuck?.close() ?? Promise.resolve(), 'close()').catch(() => {});
          throw error;
        }
      },
    };

    before(async () => {
      await probe?.closed;
      made = makeExecutor();
    });
    after(async () => {
      await made?.close();
    });

    describeResults(suite);
    describeValues(suite);
    describeContext(suite);
    describeAborts(suite);
    describeConcurrency(suite);
    if (remote) {
      describeRemote(suite);
      if (options.makeMemoryCapped) describeMemory(options.makeMemoryCapped);
    }
    describeClose(suite);
  });
}

/** Makes one executor to read its `remote` flag, and closes it. */
function probeRemote(makeExecutor: () => Executor): { remote: boolean; closed: Promise<void> } {
  const probe = makeExecutor();
  return { remote: probe.remote, closed: probe.close() };
}
