/** dag: stopping by AbortSignal. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dag, type TaskContext } from 'weftjs';
import { deferred, guard, waitForAbort } from '../fixtures/map-dag-tasks.ts';

describe('dag: AbortSignal', () => {
  it('aborting mid-way rejects with signal.reason and aborts running nodes', guard, async () => {
    const controller = new AbortController();
    const started = deferred();
    const aborted = deferred<unknown>();
    let laterRan = false;
    const all = dag(
      [
        {
          id: 'running',
          task: (_: unknown, ctx: TaskContext) => {
            started.resolve();
            return waitForAbort(ctx.signal).catch((reason: unknown) => {
              aborted.resolve(reason);
              throw reason;
            });
          },
        },
        {
          id: 'later',
          task: () => {
            laterRan = true;
          },
          dependencies: ['running'],
        },
      ],
      { signal: controller.signal },
    ).then(
      () => assert.fail('the dag should reject'),
      (reason: unknown) => reason,
    );
    await started.promise;
    const reason = new Error('cancelled by the test');
    controller.abort(reason);
    assert.equal(await all, reason);
    assert.equal(await aborted.promise, reason);
    assert.equal(laterRan, false);
  });

  it(
    'an already-aborted signal rejects with its reason without running anything',
    guard,
    async () => {
      const controller = new AbortController();
      const reason = new Error('aborted before the dag');
      controller.abort(reason);
      let runs = 0;
      await assert.rejects(
        Promise.resolve(
          dag(
            [
              {
                id: 'a',
                task: () => {
                  runs++;
                },
              },
            ],
            { signal: controller.signal },
          ),
        ),
        (error: unknown) => error === reason,
      );
      assert.equal(runs, 0);
    },
  );
});
