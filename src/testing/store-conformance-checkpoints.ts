/**
 * Store conformance, checkpoints: the latest or the one of a sequence id, kept apart by
 * application and partition key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Store } from '../core/store.ts';
import {
  assertCheckpoint,
  type CaseOptions,
  checkpoint,
  freshId,
} from './store-conformance-support.ts';

/** Declares the checkpoint cases on the suite's store. */
export function describeCheckpointCases(store: () => Store, caseOptions: CaseOptions): void {
  describe('checkpoints', () => {
    it(
      'loadCheckpoint returns the highest sequence id, or the one asked for',
      caseOptions,
      async () => {
        const appId = freshId('app');
        const saved = [0, 2, 1].map((sequenceId) => checkpoint(appId, '', sequenceId));
        for (const one of saved) await store().saveCheckpoint(one);
        assertCheckpoint(await store().loadCheckpoint(appId), saved[1]!);
        assertCheckpoint(await store().loadCheckpoint(appId, ''), saved[1]!);
        assertCheckpoint(await store().loadCheckpoint(appId, '', 1), saved[2]!);
        assertCheckpoint(await store().loadCheckpoint(appId, '', 0), saved[0]!);
        assert.equal(await store().loadCheckpoint(appId, '', 7), undefined);
      },
    );

    it('partition keys keep checkpoints apart', caseOptions, async () => {
      const appId = freshId('app');
      const none = checkpoint(appId, '', 5);
      const alice = checkpoint(appId, 'alice', 1);
      const bob = checkpoint(appId, 'bob', 3);
      for (const one of [none, alice, bob]) await store().saveCheckpoint(one);
      assertCheckpoint(await store().loadCheckpoint(appId), none);
      assertCheckpoint(await store().loadCheckpoint(appId, 'alice'), alice);
      assertCheckpoint(await store().loadCheckpoint(appId, 'bob'), bob);
      assert.equal(await store().loadCheckpoint(appId, 'carol'), undefined);
      assert.equal(await store().loadCheckpoint(appId, 'alice', 3), undefined);
    });

    it('an unknown application has no checkpoint', caseOptions, async () => {
      assert.equal(await store().loadCheckpoint(freshId('nobody')), undefined);
    });
  });
}
