/**
 * A synchronous operator in a child process stops between examples once its apply is
 * cancelled: the chunk runner lets the process's event loop run now and then, so the
 * pool's abort message reaches it. Each example appends its index to a log file; once the
 * apply rejected, a task on the pool's one process proves the process is free, and the
 * log shows how far the stopped chunk went.
 */
import assert from 'node:assert/strict';
import { watch } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { processes } from 'weftjs';
import { CompositeOperator, type Tensor, zeros } from 'weftjs/compose';
import { blocksLogged, double } from './support/operators.ts';
import { Workdir } from './support/workdir.ts';

const executor = processes({ workers: 1 });
after(() => executor.close());

const examples = 20;

/** Resolves once `work` logged `n` examples, woken by changes to its folder. */
async function logged(work: Workdir, n: number): Promise<void> {
  const done = new AbortController();
  const changes = watch(work.dir, { signal: done.signal });
  try {
    if (finished(work) >= n) return;
    for await (const _ of changes) if (finished(work) >= n) return;
  } catch (error) {
    if (!done.signal.aborted) throw error;
  } finally {
    done.abort();
  }
}

function finished(work: Workdir): number {
  let count = 0;
  for (const runs of work.executions().values()) count += runs;
  return count;
}

describe('a synchronous operator in a child process', () => {
  it('stops between examples when the apply is cancelled', async () => {
    const work = new Workdir();
    try {
      const composite = new CompositeOperator({
        operators: [blocksLogged],
        examplesPerTask: examples,
        executor,
      });
      const controller = new AbortController();
      const reason = new Error('cancelled by the test');
      const applying = composite.apply(zeros([examples, 1]), {
        extraParams: { dir: work.dir, ms: 50 },
        signal: controller.signal,
      });
      await logged(work, 2);
      controller.abort(reason);
      const atStop = finished(work);
      await assert.rejects(applying, (error) => error === reason);
      // The pool's one process runs this only once the stopped chunk let it go.
      const next = new CompositeOperator({ operators: [double], executor });
      assert.deepEqual(((await next.apply(zeros([1, 1]))) as Tensor).toArray(), [[0]]);
      const count = finished(work);
      // The example it was in, and one more the abort's message may take to arrive.
      assert.ok(
        count <= atStop + 2,
        `${count} of ${examples} examples finished, ${atStop} at the stop`,
      );
    } finally {
      work.remove();
    }
  });
});
