/** dag: outcomes iterated as nodes finish. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asyncPool,
  type DagOutcome,
  DependencyFailedError,
  dag,
  inline,
  type TaskContext,
} from 'weftjs';
import {
  deferred,
  drainMicrotasks,
  failsOnThree,
  guard,
  isValidation,
  square,
  waitForAbort,
} from '../fixtures/map-dag-tasks.ts';
import { gatedNode, outcomes } from './support.ts';

describe('dag: iterating', () => {
  it('yields { id, ok, value | error } in completion order', guard, async () => {
    const log: string[] = [];
    const a = gatedNode('a', log);
    const b = gatedNode('b', log);
    const iterator = dag(
      [
        a.node,
        b.node,
        { id: 'bad', task: failsOnThree, input: 3 },
        { id: 'after-a', task: square, input: 5, dependencies: ['a'] },
      ],
      { onError: 'collect', executor: asyncPool() },
    )[Symbol.asyncIterator]();
    const seen: DagOutcome[] = [];
    const next = async () => {
      const result = await iterator.next();
      assert.equal(result.done, false);
      seen.push(result.value as DagOutcome);
    };
    await next(); // 'bad' fails at once
    b.gate.resolve();
    await next();
    a.gate.resolve();
    await next();
    await next();
    assert.deepEqual((await iterator.next()).done, true);
    assert.deepEqual(
      seen.map((o) => [o.id, o.ok]),
      [
        ['bad', false],
        ['b', true],
        ['a', true],
        ['after-a', true],
      ],
    );
    const [bad, bOutcome, , afterA] = seen;
    assert.ok(bad && !bad.ok && bad.error.message === 'bad item 3');
    assert.deepEqual(bOutcome, { id: 'b', ok: true, value: 'B' });
    assert.deepEqual(afterA, { id: 'after-a', ok: true, value: 25 });
  });

  it('yields a DependencyFailedError outcome for a failed dependent', async () => {
    const seen = await outcomes(
      [
        { id: 'bad', task: failsOnThree, input: 3 },
        { id: 'child', task: square, input: 1, dependencies: ['bad'] },
      ],
      { onError: 'collect', executor: inline() },
    );
    assert.deepEqual(
      seen.map((o) => o.id),
      ['bad', 'child'],
    );
    const child = seen[1]!;
    assert.ok(!child.ok && child.error instanceof DependencyFailedError);
  });

  it('stops the dag and aborts running nodes when the loop breaks', guard, async () => {
    const log: string[] = [];
    const gated = gatedNode('gated', log);
    const aborted = deferred<unknown>();
    let laterRan = false;
    const seen: string[] = [];
    for await (const outcome of dag(
      [
        { id: 'fast', task: square, input: 3 },
        gated.node,
        {
          id: 'hangs',
          task: (_: unknown, ctx: TaskContext) =>
            waitForAbort(ctx.signal).catch((reason: unknown) => {
              aborted.resolve(reason);
              throw reason;
            }),
        },
        {
          id: 'later',
          task: () => {
            laterRan = true;
          },
          dependencies: ['gated'],
        },
      ],
      { executor: asyncPool() },
    )) {
      seen.push(outcome.id);
      break;
    }
    assert.deepEqual(seen, ['fast']);
    assert.equal(((await aborted.promise) as Error).name, 'AbortError');
    // The dependency of 'later' finishes only after the loop stopped: 'later' must not start.
    gated.gate.resolve();
    await drainMicrotasks();
    assert.deepEqual(log, ['start:gated', 'end:gated']);
    assert.equal(laterRan, false);
  });

  it('cannot be iterated after being awaited', async () => {
    const result = dag([{ id: 'a', task: square, input: 2 }]);
    await result;
    assert.throws(() => result[Symbol.asyncIterator](), isValidation(/already being consumed/));
  });
});
