/** Defining tasks: names, options, module discovery, and the errors users act on. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTask, map, task, threads } from 'weftjs';
import { first } from '../fixtures/duplicate-a.ts';
import { square } from '../fixtures/tasks.ts';

describe('task()', () => {
  it('finds the module that defined it, from the call site', () => {
    assert.equal(square.module, new URL('../fixtures/tasks.ts', import.meta.url).href);
    assert.match(square.definedAt ?? '', /fixtures\/tasks\.ts:\d+:\d+$/);
    assert.equal(isTask(square), true);
    assert.equal(
      isTask(() => 1),
      false,
    );
  });

  it('accepts an explicit module', () => {
    const explicit = task('task-test:explicit', (x: number) => x, { module: import.meta.url });
    assert.equal(explicit.module, import.meta.url);
    assert.throws(() => task('task-test:relative', (x: number) => x, { module: './nope.ts' }), {
      code: 'WEFT_VALIDATION',
      message: /import\.meta\.url/,
    });
  });

  it('rejects two tasks with one name, naming both places', async () => {
    assert.equal(first.name, 'fixtures:duplicate');
    await assert.rejects(
      import('../fixtures/duplicate-b.ts'),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'WEFT_DUPLICATE_TASK');
        assert.match(error.message, /duplicate-a\.ts/);
        assert.match(error.message, /duplicate-b\.ts/);
        assert.match(error.message, /unique name/);
        return true;
      },
    );
  });

  it('validates its arguments and options', () => {
    assert.throws(() => task('', () => 1), { code: 'WEFT_VALIDATION' });
    assert.throws(() => task('task-test:nofn', 42 as never), { code: 'WEFT_VALIDATION' });
    assert.throws(() => task('task-test:retries', () => 1, { retries: -1 }), {
      code: 'WEFT_VALIDATION',
      message: /retries/,
    });
    assert.throws(() => task('task-test:timeout', () => 1, { timeoutMs: 0 }), {
      code: 'WEFT_VALIDATION',
      message: /timeoutMs/,
    });
  });

  it('rejects a plain closure sent to worker threads before anything runs', async () => {
    const executor = threads({ workers: 1 });
    try {
      let ran = false;
      await assert.rejects(
        map(
          [1, 2],
          (x: number) => {
            ran = true;
            return x;
          },
          { executor },
        ),
        { code: 'WEFT_PLAIN_FUNCTION', message: /task\('name', fn\)/ },
      );
      assert.equal(ran, false);
    } finally {
      await executor.close();
    }
  });

  it('names the module when a worker cannot find the task in it', async () => {
    const executor = threads({ workers: 1 });
    // Defined inside a function: the module the worker imports does not define it.
    const hidden = task('task-test:hidden', (x: number) => x, {
      module: new URL('../fixtures/tasks.ts', import.meta.url),
    });
    try {
      const [outcome] = await map([1], hidden, { executor, onError: 'collect' });
      assert.ok(outcome instanceof Error);
      assert.equal((outcome as Error & { code?: string }).code, 'WEFT_UNKNOWN_TASK');
      assert.match(outcome.message, /task-test:hidden/);
      assert.match(outcome.message, /fixtures\/tasks\.ts/);
      assert.match(outcome.message, /top level/);
    } finally {
      await executor.close();
    }
  });
});
