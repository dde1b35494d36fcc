/**
 * The bullmq executor and a Redis it cannot reach: the first fan-out fails within a few
 * seconds, saying where Redis was looked for, rather than waiting for ever; an option
 * that cannot be used fails when the executor is made.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { map } from 'weftjs';
import { bullmq } from 'weftjs/bullmq';
import { invocationOf, rejectionOf, runOn, within } from './support/executor-helpers.ts';
import * as tasks from './support/executor-tasks.ts';

/** A port nothing listens on. */
const nowhere = 'redis://127.0.0.1:6390';

describe('bullmq executor without Redis', () => {
  it('fails the first fan-out with WEFT_REDIS_UNREACHABLE naming the URL', async () => {
    const executor = bullmq({ connection: nowhere, queue: 'nowhere' });
    try {
      const error = await rejectionOf(map([1, 2], tasks.echo, { executor }), 'the map');
      assert.equal(error.code, 'WEFT_TASK_FAILED');
      const cause = error.cause as Error & { code?: unknown };
      assert.equal(cause.code, 'WEFT_REDIS_UNREACHABLE');
      assert.match(cause.message, /redis:\/\/127\.0\.0\.1:6390/);
      assert.match(cause.message, /WEFT_REDIS_URL/);
      // The way to start one there is on the port looked at.
      assert.match(cause.message, /redis-server --port 6390\b/);

      // The next invocation tries again, and fails the same way.
      await assert.rejects(
        within(runOn(executor, invocationOf(tasks.echo, 3, 'direct/0')), 'the second try'),
        (again: Error & { code?: unknown }) => again.code === 'WEFT_REDIS_UNREACHABLE',
      );
    } finally {
      await executor.close();
    }
  });

  it('refuses a URL that is not a Redis URL when made', () => {
    assert.throws(
      () => bullmq({ connection: 'http://127.0.0.1:6379' }),
      (error: Error & { code?: unknown }) =>
        error.code === 'WEFT_VALIDATION' && /redis:\/\//.test(error.message),
    );
    assert.throws(
      () => bullmq({ queue: 'a:b' }),
      (error: Error & { code?: unknown }) => error.code === 'WEFT_VALIDATION',
    );
  });
});
