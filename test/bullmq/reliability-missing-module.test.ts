/**
 * A job whose task's module the worker's project lacks: the worker runs in a copy of the
 * project (its package.json, sources, dependencies and test fixtures) without this
 * folder, so the task defined in support/only-here.ts cannot be found there. That task
 * fails with an error naming the task, its module and the worker's project root; the
 * worker goes on, and the next tasks, whose module it has, succeed.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { asyncPool, isWeftError, map } from 'weftjs';
import { bullmq } from 'weftjs/bullmq';
import { counted, countedInputs } from '../fixtures/bullmq-counted.ts';
import { freshQueue, redisUrl } from '../fixtures/services.ts';
import { root } from '../fixtures/weft-cli.ts';
import { onlyHere } from './support/only-here.ts';
import { startWorkers } from './support/workers.ts';

const queue = freshQueue('nomod');

/** A copy of the project without test/bullmq: links to what it keeps, a copy of package.json. */
function projectWithoutThisFolder(): string {
  const copy = mkdtempSync(join(tmpdir(), 'weft-bullmq-project-'));
  after(() => rmSync(copy, { recursive: true, force: true }));
  copyFileSync(join(root, 'package.json'), join(copy, 'package.json'));
  for (const kept of ['src', 'node_modules', 'tsconfig.json']) {
    symlinkSync(join(root, kept), join(copy, kept));
  }
  mkdirSync(join(copy, 'test'));
  symlinkSync(join(root, 'test/fixtures'), join(copy, 'test/fixtures'));
  return copy;
}

describe('a task whose module the worker lacks', { timeout: 60_000 }, () => {
  const local = asyncPool();
  const executor = bullmq({ connection: redisUrl, queue });
  after(async () => {
    await executor.close();
    await local.close();
  });

  it('fails naming the module and the project root; the worker goes on', async (t) => {
    const project = projectWithoutThisFolder();
    const workers = await startWorkers(1, { queue, concurrency: 4, cwd: project });

    const settled = await map([1, 2, 3], onlyHere, { executor, onError: 'collect' });
    assert.equal(settled.length, 3);
    for (const outcome of settled) {
      const error = causes(outcome).find((e) => isWeftError(e, 'WEFT_UNKNOWN_TASK')) as
        | Error
        | undefined;
      assert.ok(error, `expected a WEFT_UNKNOWN_TASK error, got ${String(outcome)}`);
      assert.match(error.message, /'bullmq-test:onlyHere'/);
      assert.ok(
        error.message.includes('./test/bullmq/support/only-here.ts'),
        `the message names the module: ${error.message}`,
      );
      assert.ok(
        error.message.includes(project),
        `the message names the worker's project root ${project}: ${error.message}`,
      );
    }
    t.diagnostic(String(causes(settled[0]).at(-1)));

    const inputs = countedInputs(20);
    assert.deepEqual(
      await map(inputs, counted, { executor }),
      await map(inputs, counted, { executor: local }),
      'the next tasks succeed on the same worker',
    );
    const [worker] = workers.all;
    assert.equal(worker!.child.exitCode, null, 'the worker is still running');
  });
});

/** An error and its causes, outermost first. */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && chain.length < 10; e = (e as Error).cause) chain.push(e);
  return chain;
}
