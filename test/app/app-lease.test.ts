/**
 * An application run inside withRun stops when another process takes the run over: no
 * step starts after that, and its actions see the run's abort on their context's signal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWeftError, MemoryStore, withRun } from 'weftjs';
import { ApplicationBuilder, type ApplicationContext, action, expr } from 'weftjs/app';

/** A deferred: a promise and the function that resolves it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const takenOver = (error: unknown) =>
  isWeftError(error, 'WEFT_RUN_BUSY') && /was taken over/.test((error as Error).message);

describe('an application in a run taken over', () => {
  it('starts no step after the takeover, and its running step sees the abort', async () => {
    const store = new MemoryStore();
    const runId = 'app-taken';
    const inStep = deferred<AbortSignal>();
    const gate = deferred();
    let steps = 0;
    const tick = action(
      { reads: ['n'], writes: ['n'] },
      async (state, _inputs, context: ApplicationContext) => {
        steps++;
        inStep.resolve(context.signal);
        // Ignores the signal, as much work does: the application stops all the same.
        await gate.promise;
        return state.update({ n: (state.get('n') as number) + 1 });
      },
    );
    const app = new ApplicationBuilder()
      .withActions({ tick })
      .withTransitions(['tick', 'tick', expr('n < 60')])
      .withState({ n: 0 })
      .withEntrypoint('tick')
      .build();
    // Keeps the process alive while the step waits, as work does: the heartbeat does not.
    const alive = setInterval(() => {}, 60_000);
    try {
      let running: Promise<unknown> | undefined;
      const first = withRun({ store, runId, leaseMs: 60 }, () => {
        running = app.run();
        return running;
      });
      const stepSignal = await inStep.promise;
      const holder = (await store.getRun(runId))?.owner ?? '';
      await store.openRun(
        runId,
        {},
        { owner: 'elsewhere:1:x', leaseMs: 60_000, takeOverFrom: holder },
      );
      await assert.rejects(first, takenOver);
      assert.ok(stepSignal.aborted, "the step's signal is aborted");
      // The running step ends; the application starts no other.
      gate.resolve();
      await assert.rejects(running!, takenOver);
      assert.equal(steps, 1);
    } finally {
      clearInterval(alive);
    }
  });
});
