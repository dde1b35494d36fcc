/**
 * Executor conformance, `close()`: work given to a closed executor is rejected, not left
 * hanging.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { map } from '../core/map.ts';
import * as tasks from './conformance-tasks.ts';
import {
  type ConformanceSuite,
  caseOptions,
  invocation,
  rejectionOf,
  runOne,
} from './executor-conformance-support.ts';

/** Declares the case on `close()`. */
export function describeClose({ makeExecutor }: ConformanceSuite): void {
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
}
