/**
 * The executor conformance suite: one set of cases that every executor passes, run
 * through the public `map` and `dag` API and directly through `run` and `runBatch`. A new
 * executor is proven by calling {@link describeExecutorConformance} from its test file.
 *
 * Tasks share no memory with the test (they may run in other threads, processes or
 * machines), so the cases observe them only through outputs, errors and progress
 * reports, and synchronise on events and promises rather than on sleeps.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { dag } from '../core/dag.ts';
import { EventBus, type TaskProgressEvent, type WeftEvent } from '../core/events.ts';
import type { Executor, Settled, TaskInvocation } from '../core/executor.ts';
import { KeyScope } from '../core/keys.ts';
import { map } from '../core/map.ts';
import type { Progress, Task } from '../core/task.ts';
import * as tasks from './conformance-tasks.ts';

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
}

/** How long a case waits for an expected event or settlement before it fails. */
const deadlineMs = 3_000;
/** Bound of one case, so that a hang fails the case instead of the whole run. */
const caseOptions = { timeout: 10_000 } as const;

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
 * unknown tasks and a worker that dies. The executor must be able to run two tasks at
 * once unless its `maxConcurrency` is 1 (a pool needs at least two workers).
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
    const executor = (): Executor => {
      assert.ok(made, 'the executor is made in before()');
      return made;
    };

    before(async () => {
      await probe?.closed;
      made = makeExecutor();
    });
    after(async () => {
      await made?.close();
    });

    /**
     * Wraps a case whose tasks settle only when their signal aborts. If the case fails,
     * such a task may be left running for good, holding a worker: the executor is then
     * closed and replaced, so that the cases after it are not starved.
     */
    const replacingOnFailure = (fn: () => Promise<void>) => async (): Promise<void> => {
      try {
        await fn();
      } catch (error) {
        const stuck = made;
        made = makeExecutor();
        await settleWithin(stuck?.close() ?? Promise.resolve(), 'close()').catch(() => {});
        throw error;
      }
    };

    describe('results', () => {
      it('map returns the outputs of a sync task in input order', caseOptions, async () => {
        const items = range(1, 20);
        assert.deepEqual(
          await map(items, tasks.double, { executor: executor() }),
          items.map((x) => x * 2),
        );
      });

      it('map returns the outputs of an async task in input order', caseOptions, async () => {
        // Each item waits a different time, so they finish out of order.
        const items = range(1, 20);
        assert.deepEqual(
          await map(items, tasks.doubleLater, { executor: executor() }),
          items.map((x) => x * 2),
        );
      });

      it(
        'map over 1,000 items returns every output, which sum correctly',
        caseOptions,
        async () => {
          const items = range(1, 1000);
          const outputs = await map(items, tasks.double, { executor: executor() });
          assert.equal(outputs.length, 1000);
          assert.deepEqual(
            outputs,
            items.map((x) => x * 2),
          );
          assert.equal(
            outputs.reduce((total, x) => total + x, 0),
            1_001_000,
          );
        },
      );

      it('iterating a map streams the outputs in input order', caseOptions, async () => {
        const streamed: number[] = [];
        for await (const output of map(range(1, 30), tasks.doubleLater, {
          executor: executor(),
        })) {
          streamed.push(output);
        }
        assert.deepEqual(
          streamed,
          range(1, 30).map((x) => x * 2),
        );
      });

      it(
        'dag runs a node once its dependencies finish, with their outputs',
        caseOptions,
        async () => {
          const results = await dag(
            [
              { id: 'a', task: tasks.double, input: 1 },
              { id: 'b', task: tasks.double, input: 2 },
              {
                id: 'c',
                task: tasks.sum,
                dependencies: ['a', 'b'],
                input: (done) => [done.get('a'), done.get('b')],
              },
            ],
            { executor: executor() },
          );
          assert.deepEqual(
            results,
            new Map([
              ['a', 2],
              ['b', 4],
              ['c', 6],
            ]),
          );
        },
      );

      it('run returns the output of one invocation', caseOptions, async () => {
        const output = await runOne(executor(), invocation(tasks.double, 21, 'direct:run/0'));
        assert.equal(output, 42);
      });

      it(
        'runBatch returns Settled outcomes in order, with errors in place',
        caseOptions,
        async () => {
          const inputs = [2, 3, 4, 5, 6];
          const outcomes = await executor().runBatch(
            inputs.map((x, i) => invocation(tasks.failOdd, x, `direct:runBatch/${i}`)),
          );
          assert.equal(outcomes.length, inputs.length);
          outcomes.forEach((outcome: Settled, i) => {
            const x = inputs[i]!;
            if (x % 2 === 0) {
              assert.deepEqual(outcome, { ok: true, value: x * 2 }, `outcome ${i}`);
            } else {
              assert.equal(outcome.ok, false, `outcome ${i} fails`);
              assertTaskError(outcome.ok ? undefined : outcome.error, `odd ${x}`);
            }
          });
        },
      );
    });

    describe('errors', () => {
      it(
        'a task error reaches the caller with its message, name and code',
        caseOptions,
        async () => {
          const error = await rejectionOf(
            map(['it broke'], tasks.fail, { executor: executor(), scope: new KeyScope() }),
            'map of a failing task',
          );
          assert.equal(codeOf(error), 'WEFT_TASK_FAILED');
          assert.equal((error as { key?: unknown }).key, 'map:conformance:fail/0');
          assertTaskError((error as Error).cause, 'it broke');

          const direct = await rejectionOf(
            runOne(executor(), invocation(tasks.fail, 'directly', 'direct:fail/0')),
            'run of a failing task',
          );
          assertTaskError(direct, 'directly');
        },
      );

      it(
        "onError 'collect' puts Error instances in place of failed items",
        caseOptions,
        async () => {
          const outputs = await map([1, 2, 3, 4], tasks.failOdd, {
            executor: executor(),
            onError: 'collect',
          });
          assert.equal(outputs.length, 4);
          assertTaskError(outputs[0], 'odd 1');
          assert.equal(outputs[1], 4);
          assertTaskError(outputs[2], 'odd 3');
          assert.equal(outputs[3], 8);
        },
      );

      it(
        'a failed dag node rejects the dag with the task error as cause',
        caseOptions,
        async () => {
          const error = await rejectionOf(
            dag([{ id: 'broken', task: tasks.fail, input: 'node broke' }], {
              executor: executor(),
            }),
            'dag with a failing node',
          );
          assert.equal(codeOf(error), 'WEFT_TASK_FAILED');
          assertTaskError((error as Error).cause, 'node broke');
        },
      );
    });

    describe('values round-trip', () => {
      for (const sample of roundTripSamples()) {
        it(sample.label, caseOptions, async () => {
          const [output] = await map([sample.value], tasks.echo, { executor: executor() });
          assert.deepEqual(output, { value: sample.value, tag: sample.tag });
        });
      }
    });

    describe('context', () => {
      it(
        'ctx.attempt is 1, ctx.key is the engine key, ctx.signal an AbortSignal',
        caseOptions,
        async () => {
          const log = new EventLog();
          const reports = await map(['x', 'y'], tasks.context, {
            executor: executor(),
            scope: new KeyScope(),
            events: log.bus,
          });
          const starts = log.events.filter((event) => event.type === 'task:start');
          assert.deepEqual(
            reports,
            ['x', 'y'].map((input, i) => ({
              input,
              attempt: 1,
              key: `map:conformance:context/${i}`,
              signalIsAbortSignal: true,
              aborted: false,
            })),
          );
          assert.deepEqual(
            starts.map((event) => event.key).sort(),
            reports.map((report) => report.key),
          );

          const nodes = await dag([{ id: 'only', task: tasks.context, input: 'z' }], {
            executor: executor(),
            scope: new KeyScope(),
          });
          assert.equal((nodes.get('only') as tasks.ContextReport).key, 'dag/only');
        },
      );

      it('ctx.progress() reaches the events bus as task:progress events', caseOptions, async () => {
        const log = new EventLog();
        const items = [1, 2, 3];
        assert.deepEqual(
          await map(items, tasks.progress, {
            executor: executor(),
            scope: new KeyScope(),
            events: log.bus,
          }),
          items,
        );
        for (const [i, x] of items.entries()) {
          const key = `map:conformance:progress/${i}`;
          const expected: Progress[] = [0.5, { done: 1, total: 2, message: `item ${x}` }];
          for (const value of expected) {
            const event = await log.waitFor(
              `task:progress ${JSON.stringify(value)} from ${key}`,
              (e) =>
                e.type === 'task:progress' && e.key === key && isDeepStrictEqual(e.progress, value),
            );
            assert.equal((event as TaskProgressEvent).task, 'conformance:progress');
            assert.equal((event as TaskProgressEvent).item, i);
          }
        }

        // Directly through run(): progress goes to the invocation's own progress().
        const reported: Progress[] = [];
        let allReported: () => void = () => {};
        const both = new Promise<void>((resolve) => {
          allReported = resolve;
        });
        const output = await runOne(
          executor(),
          invocation(tasks.progress, 7, 'direct:progress/0', (value) => {
            reported.push(value);
            if (reported.length === 2) allReported();
          }),
        );
        assert.equal(output, 7);
        await settleWithin(both, 'two progress reports from run()');
        assert.deepEqual(reported, [0.5, { done: 1, total: 2, message: 'item 7' }]);
      });
    });

    describe('retries', () => {
      it(
        'a task failing on attempts 1 and 2 returns its value on attempt 3',
        caseOptions,
        async () => {
          const log = new EventLog();
          const outputs = await map([5], tasks.flaky, { executor: executor(), events: log.bus });
          assert.deepEqual(outputs, [{ x: 5, attempt: 3 }]);
          const retries = log.events.filter((event) => event.type === 'task:retry');
          assert.deepEqual(
            retries.map((event) => event.attempt),
            [1, 2],
          );
        },
      );
    });

    describe('timeouts', () => {
      it(
        'a task over timeoutMs fails with WEFT_TIMEOUT, its signal aborted where it runs',
        caseOptions,
        replacingOnFailure(async () => {
          const log = new EventLog();
          const error = await rejectionOf(
            map(['slow'], tasks.hangUntilTimeout, {
              executor: executor(),
              scope: new KeyScope(),
              events: log.bus,
            }),
            'map of a task that never finishes within timeoutMs',
          );
          assert.equal(codeOf(error), 'WEFT_TASK_FAILED');
          assert.equal(codeOf((error as Error).cause), 'WEFT_TIMEOUT');
          // The task reports 'aborted' when its own signal aborts, wherever it runs.
          await log.waitFor(
            `'${tasks.abortedMessage}' progress from the timed-out task`,
            (event) =>
              isProgress(event, tasks.abortedMessage) &&
              event.key === 'map:conformance:hangUntilTimeout/0',
          );
        }),
      );
    });

    describe('fail fast', () => {
      it(
        "onError 'throw': a failure aborts running tasks where they run, and nothing new starts",
        caseOptions,
        replacingOnFailure(async () => {
          const log = new EventLog();
          // One task hangs until aborted (none for an executor running one task at a time),
          // then, once it runs, one fails; the concurrency leaves no room for a third.
          const hangers = executor().maxConcurrency > 1 ? 1 : 0;
          let pulledAfterFailure = false;
          async function* items(): AsyncGenerator<tasks.FailFastItem> {
            for (let id = 0; id < hangers; id++) yield { kind: 'hang', id };
            for (let id = 0; id < hangers; id++) {
              await log.waitFor(`'${tasks.startedMessage}' progress from item ${id}`, (event) =>
                isProgress(event, tasks.startedMessage, id),
              );
            }
            yield { kind: 'fail', id: hangers };
            pulledAfterFailure = true;
            yield { kind: 'value', id: hangers + 1 };
          }
          const error = await rejectionOf(
            map(items(), tasks.failFast, {
              executor: executor(),
              concurrency: hangers + 1,
              events: log.bus,
            }),
            'fail-fast map',
          );
          assert.equal(codeOf(error), 'WEFT_TASK_FAILED');
          assertTaskError((error as Error).cause, `item ${hangers} fails`);
          for (let id = 0; id < hangers; id++) {
            await log.waitFor(`'${tasks.abortedMessage}' progress from item ${id}`, (event) =>
              isProgress(event, tasks.abortedMessage, id),
            );
          }
          assert.equal(pulledAfterFailure, false, 'no item is read after the failure');
          assert.deepEqual(
            log.events.filter((event) => event.type === 'task:start').map((event) => event.item),
            range(0, hangers),
          );
        }),
      );
    });

    describe('concurrency', () => {
      it('with concurrency 2, never more than 2 tasks run at once', caseOptions, async () => {
        const log = new EventLog();
        const expected = Math.min(2, executor().maxConcurrency);
        // A task runs from its 'started' report until its 'ended' report or its result,
        // whichever the test sees first.
        const running = new Set<string>();
        const finished = new Set<string>();
        let most = 0;
        log.bus.on((event) => {
          if (isProgress(event, tasks.startedMessage) && !finished.has(event.key)) {
            running.add(event.key);
            most = Math.max(most, running.size);
          } else if (
            isProgress(event, tasks.endedMessage) ||
            event.type === 'task:end' ||
            event.type === 'task:fail'
          ) {
            running.delete(event.key);
            finished.add(event.key);
          }
        });
        const items = Array.from({ length: 8 }, () => 20);
        assert.deepEqual(
          await map(items, tasks.busy, { executor: executor(), concurrency: 2, events: log.bus }),
          items,
        );
        assert.equal(finished.size, items.length);
        assert.ok(most <= expected, `${most} tasks ran at once; the bound is ${expected}`);
        assert.equal(most, expected, `${expected} tasks should have run at once`);
      });
    });

    if (remote) {
      describe('remote executors', () => {
        it(
          'a plain closure is refused with WEFT_PLAIN_FUNCTION and nothing runs',
          caseOptions,
          async () => {
            const log = new EventLog();
            let called = false;
            const closure = (x: number) => {
              called = true;
              return x;
            };
            const error = await rejectionOf(
              map([1], closure, { executor: executor(), events: log.bus }),
              'map of a plain closure',
            );
            assert.equal(codeOf(error), 'WEFT_PLAIN_FUNCTION');
            assert.equal(called, false);
            assert.deepEqual(
              log.events.filter((event) => event.type === 'task:start'),
              [],
            );
          },
        );

        it(
          'an input holding a function fails with WEFT_NOT_CLONEABLE, naming the task',
          caseOptions,
          async () => {
            const [error] = await map([{ label: 'bad', onDone: () => 1 }], tasks.echo, {
              executor: executor(),
              onError: 'collect',
            });
            assert.ok(error instanceof Error, 'the output is an Error');
            assert.equal(codeOf(error), 'WEFT_NOT_CLONEABLE');
            assert.match(error.message, /'conformance:echo'/);
            assert.match(error.message, /a function/);
          },
        );

        it('an input holding a function fails only its own item', caseOptions, async () => {
          // Many small tasks first, so that the executor sends the items below in one batch.
          await map(range(1, 200), tasks.double, { executor: executor() });
          const items: unknown[] = range(0, 11).map((i) => ({ i }));
          items[5] = { i: 5, callbacks: [() => 5] };
          const outputs = await map(items, tasks.echo, {
            executor: executor(),
            onError: 'collect',
          });
          assert.equal(outputs.length, items.length);
          assert.ok(outputs[5] instanceof Error, 'item 5 is an Error');
          assert.equal(codeOf(outputs[5]), 'WEFT_NOT_CLONEABLE');
          assert.deepEqual(
            outputs.filter((_, i) => i !== 5),
            items.filter((_, i) => i !== 5).map((value) => ({ value, tag: '[object Object]' })),
          );
        });

        it('an output holding a function fails with WEFT_NOT_CLONEABLE', caseOptions, async () => {
          const [error] = await map([1], tasks.returnsFunction, {
            executor: executor(),
            onError: 'collect',
          });
          assert.ok(error instanceof Error, 'the output is an Error');
          assert.equal(codeOf(error), 'WEFT_NOT_CLONEABLE');
          assert.match(error.message, /'conformance:returnsFunction'/);
        });

        it('a task the worker cannot find fails with WEFT_UNKNOWN_TASK', caseOptions, async () => {
          const outputs = await map([1, 2], tasks.notTopLevel(), {
            executor: executor(),
            onError: 'collect',
          });
          assert.equal(outputs.length, 2);
          for (const error of outputs) {
            assert.ok(error instanceof Error, 'the output is an Error');
            assert.equal(codeOf(error), 'WEFT_UNKNOWN_TASK');
            assert.match(error.message, /'conformance:notTopLevel'/);
          }
        });

        it(
          'a worker that dies fails only its task with WEFT_WORKER_CRASHED',
          caseOptions,
          async () => {
            const items: tasks.CrashItem[] = range(0, 6).map((value) =>
              value === 2 ? { value, exitCode: 7 } : { value },
            );
            const outputs = await map(items, tasks.exitWorker, {
              executor: executor(),
              onError: 'collect',
              concurrency: 3,
            });
            assert.equal(outputs.length, items.length);
            outputs.forEach((output, i) => {
              if (i !== 2) assert.equal(output, i, `item ${i}`);
            });
            const crash = outputs[2];
            assert.ok(crash instanceof Error, 'item 2 is an Error');
            assert.equal(codeOf(crash), 'WEFT_WORKER_CRASHED');
            assert.match(crash.message, /'conformance:exitWorker'/);

            // The executor replaced the worker and goes on.
            assert.deepEqual(
              await map(range(1, 8), tasks.double, { executor: executor() }),
              range(1, 8).map((x) => x * 2),
            );
          },
        );
      });
    }

    describe('close', () => {
      it(
        'after close(), new work is rejected with an error, not left hanging',
        caseOptions,
        async () => {
          const extra = makeExecutor();
          try {
            assert.deepEqual(await map([1, 2], tasks.double, { executor: extra }), [2, 4]);
          } finally {
            await extra.close();
          }
          const viaMap = await rejectionOf(
            map([1], tasks.double, { executor: extra }),
            'map on a closed executor',
          );
          assert.ok(viaMap instanceof Error, 'map rejects with an Error');
          const viaRun = await rejectionOf(
            runOne(extra, invocation(tasks.double, 1, 'direct:closed/0')),
            'run on a closed executor',
          );
          assert.ok(viaRun instanceof Error, 'run rejects with an Error');
        },
      );
    });
  });
}

/** Makes one executor to read its `remote` flag, and closes it. */
function probeRemote(makeExecutor: () => Executor): { remote: boolean; closed: Promise<void> } {
  const probe = makeExecutor();
  return { remote: probe.remote, closed: probe.close() };
}

/** A sample value, and the type tag the task must see. */
interface Sample {
  readonly label: string;
  readonly value: unknown;
  readonly tag: string;
}

function roundTripSamples(): Sample[] {
  return [
    {
      label: 'numbers',
      value: [0, 1, -7, 3.25, -0.125, Number.MAX_SAFE_INTEGER, 1e-300],
      tag: '[object Array]',
    },
    { label: 'a number', value: 42.5, tag: '[object Number]' },
    { label: 'an empty string', value: '', tag: '[object String]' },
    { label: 'a unicode string', value: 'ünï ✓ 𝄞 "q" \\ \n\t', tag: '[object String]' },
    {
      label: 'nested objects and arrays',
      value: { a: [1, { b: [2, [3, 'x']] }], c: { d: { e: 'deep', f: true } }, g: [] },
      tag: '[object Object]',
    },
    {
      label: 'a Map (with non-string keys and nested values)',
      value: new Map<unknown, unknown>([
        ['a', 1],
        [2, { nested: [1, 2] }],
        ['inner', new Map([['x', new Set([1])]])],
      ]),
      tag: '[object Map]',
    },
    { label: 'a Set', value: new Set([1, 'two', 3]), tag: '[object Set]' },
    {
      label: 'a Date',
      value: new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 123)),
      tag: '[object Date]',
    },
    { label: 'a BigInt', value: 2n ** 100n, tag: '[object BigInt]' },
    {
      label: 'BigInts, Dates, Maps and Sets inside an object',
      value: {
        big: -(2n ** 70n),
        when: new Date(0),
        tags: new Set(['a', 'b']),
        index: new Map([['k', [1]]]),
      },
      tag: '[object Object]',
    },
    {
      label: 'a Float64Array',
      value: new Float64Array([1.5, -2.25, Math.PI, 0]),
      tag: '[object Float64Array]',
    },
    { label: 'a Uint8Array', value: new Uint8Array([0, 1, 127, 255]), tag: '[object Uint8Array]' },
    {
      label: 'typed arrays inside an object',
      value: { f: new Float64Array([0.5]), u: new Uint8Array([9, 8]) },
      tag: '[object Object]',
    },
    {
      label: 'undefined and null inside objects and arrays',
      value: { a: undefined, b: null, c: [undefined, null, 1], d: { e: undefined } },
      tag: '[object Object]',
    },
  ];
}

/** Records the events of one case, and waits for those it expects. */
class EventLog {
  readonly bus = new EventBus();
  readonly events: WeftEvent[] = [];
  readonly #waiters = new Set<{
    test: (event: WeftEvent) => boolean;
    done: (event: WeftEvent) => void;
  }>();

  constructor() {
    this.bus.on((event) => {
      this.events.push(event);
      for (const waiter of this.#waiters) if (waiter.test(event)) waiter.done(event);
    });
  }

  /** Resolves with the first event, past or future, that passes `test`; fails after a deadline. */
  waitFor(what: string, test: (event: WeftEvent) => boolean): Promise<WeftEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        done: (event: WeftEvent) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`No ${what} within ${deadlineMs} ms.`));
      }, deadlineMs);
      this.#waiters.add(waiter);
    });
  }
}

/** True for a `task:progress` event carrying `message` (from item `item`, if given). */
function isProgress(event: WeftEvent, message: string, item?: number): event is TaskProgressEvent {
  return (
    event.type === 'task:progress' &&
    typeof event.progress === 'object' &&
    event.progress.message === message &&
    (item === undefined || event.item === item)
  );
}

/** An invocation made by hand, for `run` and `runBatch`. */
function invocation<I>(
  task: Task<I, unknown>,
  input: I,
  key: string,
  progress: (value: Progress) => void = () => {},
): TaskInvocation {
  return {
    task: task as Task,
    input,
    key,
    attempt: 1,
    signal: new AbortController().signal,
    scope: new KeyScope(key),
    progress,
    started: () => {},
  };
}

/** `executor.run` as a promise, also when it returns a value or throws synchronously. */
async function runOne(executor: Executor, call: TaskInvocation): Promise<unknown> {
  return executor.run(call);
}

/** Raised when a promise the case waits for is still pending after the deadline. */
class StillPendingError extends Error {
  override name = 'StillPendingError';
}

/** Waits for `promise` to settle, failing the case if it is still pending after the deadline. */
function settleWithin<T>(promise: PromiseLike<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StillPendingError(`${what} was still pending after ${deadlineMs} ms.`)),
      deadlineMs,
    );
  });
  return Promise.race([Promise.resolve(promise), deadline]).finally(() => clearTimeout(timer));
}

/** The reason `promise` rejects with; fails the case if it fulfils or stays pending. */
async function rejectionOf(promise: PromiseLike<unknown>, what: string): Promise<unknown> {
  let value: unknown;
  try {
    value = await settleWithin(promise, what);
  } catch (error) {
    if (error instanceof StillPendingError) throw error;
    return error;
  }
  assert.fail(`${what} should have rejected, but fulfilled with ${String(value)}.`);
}

/** An error's `code` (errors that crossed a boundary are recognised by it, not by class). */
function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | undefined)?.code;
}

/** Checks an error thrown by the conformance tasks: an Error with its message, name and code. */
function assertTaskError(error: unknown, message: string): void {
  assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
  assert.equal(error.message, message);
  assert.equal(error.name, 'ConformanceError');
  assert.equal(codeOf(error), tasks.conformanceErrorCode);
}

/** The whole numbers from `from` to `to`, both included. */
function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
