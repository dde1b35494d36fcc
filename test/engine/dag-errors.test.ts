/** dag: failures (onError 'throw' and 'collect') and what they do to dependents. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asyncPool,
  type DagOutcome,
  DependencyFailedError,
  dag,
  EventBus,
  inline,
  KeyScope,
  type TaskContext,
  TaskFailedError,
} from 'weftjs';
import {
  deferred,
  failsOnThree,
  guard,
  records,
  sleep,
  square,
  waitForAbort,
} from '../fixtures/map-dag-tasks.ts';
import { gatedNode } from './support.ts';

describe("dag: onError 'throw' (the default)", () => {
  it(
    'rejects with a TaskFailedError naming the failed node, and aborts the others',
    guard,
    async () => {
      const cAborted = deferred<unknown>();
      let bRan = false;
      const scope = new KeyScope('throw-test');
      const error = await dag(
        [
          {
            id: 'c',
            task: (_: unknown, ctx: TaskContext) =>
              waitForAbort(ctx.signal).catch((reason: unknown) => {
                cAborted.resolve(reason);
                throw reason;
              }),
          },
          { id: 'a', task: failsOnThree, input: 3 },
          {
            id: 'b',
            task: () => {
              bRan = true;
            },
            dependencies: ['a'],
          },
        ],
        { executor: asyncPool(), scope },
      ).then(
        () => assert.fail('the dag should reject'),
        (reason: unknown) => reason,
      );
      assert.ok(error instanceof TaskFailedError);
      assert.equal(error.code, 'WEFT_TASK_FAILED');
      assert.equal(error.task, 'mapDag.failsOnThree');
      assert.equal(error.key, 'throw-test/dag/a');
      assert.equal((error.cause as Error).message, 'bad item 3');
      assert.equal(await cAborted.promise, error, 'running node aborted with the failure');
      assert.equal(bRan, false);
    },
  );

  it('throws from an iterated dag after the outcomes before the failure', async () => {
    const seen: DagOutcome[] = [];
    await assert.rejects(
      (async () => {
        for await (const outcome of dag(
          [
            { id: 'ok', task: square, input: 2 },
            { id: 'bad', task: failsOnThree, input: 3, dependencies: ['ok'] },
          ],
          { executor: inline() },
        ))
          seen.push(outcome);
      })(),
      (error: unknown) => error instanceof TaskFailedError && error.task === 'mapDag.failsOnThree',
    );
    assert.deepEqual(seen, [{ id: 'ok', ok: true, value: 4 }]);
  });
});

describe("dag: onError 'collect'", () => {
  it(
    'fails dependents transitively with DependencyFailedError; independent nodes succeed',
    guard,
    async () => {
      const ran: string[] = [];
      const track =
        (id: string) =>
        (x: unknown): unknown => {
          ran.push(id);
          return x;
        };
      const results = await dag(
        [
          { id: 'a', task: failsOnThree, input: 3 },
          { id: 'b', task: track('b'), dependencies: ['a'] },
          { id: 'c', task: track('c'), dependencies: ['b'] },
          { id: 'd', task: slowDoubleNode, input: 5 },
          { id: 'e', task: track('e'), dependencies: ['d', 'c'] },
          { id: 'f', task: track('f'), dependencies: ['d'], input: (done) => done.get('d') },
        ],
        { onError: 'collect', executor: asyncPool() },
      );
      const a = results.get('a');
      assert.ok(a instanceof Error);
      assert.equal(a.message, 'bad item 3');
      assert.equal(results.get('d'), 10);
      assert.equal(results.get('f'), 10);
      assert.deepEqual(ran, ['f'], 'dependents of the failure never ran');
      const expectations: [string, RegExp][] = [
        ['b', /^Node 'b' did not run: its dependency 'a' failed: bad item 3$/],
        ['c', /^Node 'c' did not run: its dependency 'a' failed \(via 'b'\): bad item 3$/],
        ['e', /^Node 'e' did not run: its dependency 'a' failed \(via 'c'\): bad item 3$/],
      ];
      for (const [id, message] of expectations) {
        const error = results.get(id);
        assert.ok(error instanceof DependencyFailedError, `${id} got ${String(error)}`);
        assert.equal(error.code, 'WEFT_DEPENDENCY_FAILED');
        assert.equal(error.node, id);
        assert.equal(error.rootCause, 'a');
        assert.equal(error.cause, a);
        assert.match(error.message, message);
      }
    },
  );

  it('fails a dependent at once, without waiting for its other dependencies', guard, async () => {
    const log: string[] = [];
    const slow = gatedNode('slow', log);
    const iterator = dag(
      [
        slow.node,
        { id: 'bad', task: failsOnThree, input: 3 },
        { id: 'after', task: () => 'never', dependencies: ['slow', 'bad'] },
      ],
      { onError: 'collect', executor: asyncPool() },
    )[Symbol.asyncIterator]();
    const first = await iterator.next();
    const second = await iterator.next();
    assert.equal(slow.gate.settled, false, 'slow is still running');
    assert.deepEqual(
      [first.value?.id, first.value?.ok, second.value?.id, second.value?.ok],
      ['bad', false, 'after', false],
    );
    slow.gate.resolve();
    assert.deepEqual((await iterator.next()).value, { id: 'slow', ok: true, value: 'SLOW' });
    assert.equal((await iterator.next()).done, true);
  });

  it('reports completed and failed counts in dag:end', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    await dag(
      [
        { id: 'ok', task: square, input: 2 },
        { id: 'bad', task: failsOnThree, input: 3 },
        { id: 'dependent', task: square, input: 1, dependencies: ['bad'] },
      ],
      { onError: 'collect', events: bus, scope: new KeyScope('counts') },
    );
    const start = seen[0]!;
    assert.ok(start.type === 'dag:start');
    assert.equal(start.total, 3);
    assert.equal(start.scope, 'counts/dag');
    const end = seen.at(-1)!;
    assert.ok(end.type === 'dag:end');
    assert.equal(end.completed, 1);
    assert.equal(end.failed, 2);
    assert.equal(end.error, undefined);
  });

  it('counts a node whose input function threw as failed in dag:end', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    await dag(
      [
        {
          id: 'bad-input',
          task: square,
          input: () => {
            throw new Error('no input');
          },
        },
        { id: 'bad-task', task: failsOnThree, input: 3 },
      ],
      { onError: 'collect', events: bus },
    );
    const end = seen.at(-1)!;
    assert.ok(end.type === 'dag:end');
    assert.equal(end.completed, 0);
    assert.equal(end.failed, 2);
  });
});

/** A plain function as a node's task: doubles after a tick. */
async function slowDoubleNode(x: number): Promise<number> {
  await sleep(1);
  return x * 2;
}
