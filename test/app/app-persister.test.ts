/**
 * Persisters (`weftjs/app`): `StorePersister` over every store (one shared suite), and
 * applications whose loads or saves fail.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryStore, openStore, State, type Store } from 'weftjs';
import {
  ApplicationBuilder,
  action,
  expr,
  MemoryTracker,
  type StepEnd,
  StorePersister,
} from 'weftjs/app';
import { freshPostgresSchema } from '../fixtures/services.ts';
import { abc, increment, invalid, mark } from './support/app.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-app-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const schema = freshPostgresSchema('app');

/** One suite of persister cases, run over every store (as Hono runs one suite per router). */
function describePersister(label: string, open: () => Promise<Store>): void {
  describe(`StorePersister over ${label}`, () => {
    let store: Store;
    let persister: StorePersister;
    before(async () => {
      store = await open();
      persister = new StorePersister(store);
    });
    after(() => store?.close());

    const appId = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
    const resumed = (id: string, options: { resumeAtNextAction?: boolean } = {}) =>
      abc()
        .initializeFrom(persister, {
          resumeAtNextAction: options.resumeAtNextAction ?? true,
          defaultState: { trail: ['default'] },
          defaultEntrypoint: 'a',
        })
        .withStatePersister(persister)
        .withIdentifiers({ appId: id })
        .build();

    it('saves the state after every step with its sequence id and position', async () => {
      const id = appId('saves');
      const app = abc()
        .withState({ trail: [] })
        .withEntrypoint('a')
        .withStatePersister(persister)
        .withIdentifiers({ appId: id })
        .build();
      await app.run();
      for (const [sequenceId, position, trail] of [
        [0, 'a', ['a']],
        [1, 'b', ['a', 'b']],
        [2, 'c', ['a', 'b', 'c']],
      ] as const) {
        const saved = await persister.load('', id, sequenceId);
        assert.ok(saved, `step ${sequenceId} was saved`);
        assert.equal(saved.sequenceId, sequenceId);
        assert.equal(saved.position, position);
        assert.equal(saved.status, 'completed');
        assert.equal(saved.appId, id);
        assert.deepEqual(saved.state.toObject(), { trail });
      }
      const latest = await persister.load('', id);
      assert.equal(latest?.sequenceId, 2);
      assert.equal(latest?.position, 'c');
      assert.equal(await persister.load('', id, 3), null);
      assert.equal(await persister.load('other-partition', id), null);
    });

    it('a new application with the same appId continues at the next action', async () => {
      const id = appId('continue');
      const first = resumed(id);
      assert.equal((await first.run({ haltAfter: ['a'] })).action, 'a');
      const second = resumed(id);
      await second.ready();
      assert.equal(second.nextAction(), 'b');
      assert.equal(second.sequenceId, 0);
      assert.equal(second.position, 'a');
      const seen: string[] = [];
      for await (const step of second.iterate()) seen.push(step.action!);
      assert.deepEqual(seen, ['b', 'c']);
      assert.deepEqual(second.state.get('trail'), ['default', 'a', 'b', 'c']);
      assert.equal((await persister.load('', id))?.sequenceId, 2);
    });

    it('with no save it starts from the defaults', async () => {
      const app = resumed(appId('fresh'));
      const first = await app.step();
      assert.equal(first?.action, 'a');
      assert.deepEqual(first?.state.get('trail'), ['default', 'a']);
      assert.equal(app.sequenceId, 0);
    });

    it('a failed step is saved as failed and runs again after initializeFrom', async () => {
      const id = appId('failed');
      let fail = true;
      const flakyB = action({ reads: ['trail'], writes: ['trail'] }, (state) => {
        if (fail) throw new Error('b broke');
        return state.update({ trail: [...state.get('trail'), 'b'] });
      });
      const build = () =>
        new ApplicationBuilder()
          .withActions({ a: mark('a'), b: flakyB, c: mark('c') })
          .withTransitions(['a', 'b'], ['b', 'c'])
          .initializeFrom(persister, {
            resumeAtNextAction: true,
            defaultState: { trail: [] },
            defaultEntrypoint: 'a',
          })
          .withStatePersister(persister)
          .withIdentifiers({ appId: id })
          .build();
      await assert.rejects(build().run(), /b broke/);
      const saved = await persister.load('', id);
      assert.equal(saved?.status, 'failed');
      assert.equal(saved?.position, 'b');
      assert.equal(saved?.sequenceId, 1);
      assert.deepEqual(saved?.state.toObject(), { trail: ['a'] }, 'the state b started from');

      fail = false;
      const again = build();
      await again.ready();
      assert.equal(again.nextAction(), 'b');
      assert.equal(again.sequenceId, 0, 'the last step taken is a');
      const firstStep = await again.step();
      assert.equal(firstStep?.action, 'b');
      assert.equal(again.sequenceId, 1, 'the retry keeps the failed step’s id');
      const retried = await persister.load('', id, 1);
      assert.equal(retried?.status, 'completed', 'its save replaces the failed one');
      assert.deepEqual(retried?.state.toObject(), { trail: ['a', 'b'] });
      assert.equal((await again.run()).action, 'c');
      assert.deepEqual(again.state.get('trail'), ['a', 'b', 'c']);
      const latest = await persister.load('', id);
      assert.equal(latest?.status, 'completed');
      assert.equal(latest?.position, 'c');
      assert.equal(latest?.sequenceId, 2);
    });

    it('a failed first step runs again under id 0, whatever resumeAtNextAction says', async () => {
      const id = appId('failed-first');
      let fail = true;
      const flakyA = action({ reads: ['trail'], writes: ['trail'] }, (state) => {
        if (fail) throw new Error('a broke');
        return state.update({ trail: [...state.get('trail'), 'a'] });
      });
      const build = (resumeAtNextAction: boolean) =>
        new ApplicationBuilder()
          .withActions({ a: flakyA, b: mark('b') })
          .withTransitions(['a', 'b'])
          .initializeFrom(persister, {
            resumeAtNextAction,
            defaultState: { trail: [] },
            defaultEntrypoint: 'b',
          })
          .withStatePersister(persister)
          .withIdentifiers({ appId: id })
          .build();
      const first = new ApplicationBuilder()
        .withActions({ a: flakyA, b: mark('b') })
        .withState({ trail: ['start'] })
        .withEntrypoint('a')
        .withStatePersister(persister)
        .withIdentifiers({ appId: id })
        .build();
      await assert.rejects(first.run(), /a broke/);
      assert.equal((await persister.load('', id))?.status, 'failed');
      fail = false;
      const app = build(false);
      await app.ready();
      assert.equal(app.nextAction(), 'a', 'the failed step, not defaultEntrypoint');
      assert.equal(app.sequenceId, undefined);
      assert.deepEqual(app.state.get('trail'), ['start']);
      const outcome = await app.run();
      assert.equal(outcome.action, 'b');
      assert.deepEqual(outcome.state.get('trail'), ['start', 'a', 'b']);
      assert.equal((await persister.load('', id, 0))?.status, 'completed');
      assert.equal((await persister.load('', id))?.sequenceId, 1);
    });

    it('resumeAtNextAction false starts at defaultEntrypoint with the saved state', async () => {
      const id = appId('restart');
      await resumed(id).run({ haltAfter: ['b'] });
      const app = resumed(id, { resumeAtNextAction: false });
      await app.ready();
      assert.equal(app.nextAction(), 'a');
      assert.deepEqual(app.state.get('trail'), ['default', 'a', 'b']);
      const outcome = await app.run({ haltAfter: ['a'] });
      assert.equal(outcome.action, 'a');
      assert.deepEqual(outcome.state.get('trail'), ['default', 'a', 'b', 'a']);
    });

    it('forkFromAppId loads another application’s state and leaves it alone', async () => {
      const origin = appId('origin');
      const fork = appId('fork');
      await resumed(origin).run({ haltAfter: ['a'] });
      const app = abc()
        .initializeFrom(persister, {
          defaultState: { trail: ['default'] },
          defaultEntrypoint: 'a',
          forkFromAppId: origin,
        })
        .withStatePersister(persister)
        .withIdentifiers({ appId: fork })
        .build();
      const outcome = await app.run();
      assert.equal(outcome.action, 'c');
      assert.deepEqual(outcome.state.get('trail'), ['default', 'a', 'b', 'c']);
      assert.equal((await persister.load('', fork))?.position, 'c');
      const kept = await persister.load('', origin);
      assert.equal(kept?.position, 'a');
      assert.deepEqual(kept?.state.toObject(), { trail: ['default', 'a'] });
    });

    it('forkFromSequenceId loads that step of the other application', async () => {
      const origin = appId('origin-seq');
      await resumed(origin).run();
      const app = abc()
        .initializeFrom(persister, {
          defaultEntrypoint: 'a',
          forkFromAppId: origin,
          forkFromSequenceId: 0,
        })
        .withIdentifiers({ appId: appId('fork-seq') })
        .build();
      await app.ready();
      assert.equal(app.nextAction(), 'b');
      assert.deepEqual(app.state.get('trail'), ['default', 'a']);
    });

    it('keeps partitions apart', async () => {
      const id = appId('parts');
      const inPartition = (partitionKey: string) =>
        abc()
          .initializeFrom(persister, { defaultState: { trail: [] }, defaultEntrypoint: 'a' })
          .withStatePersister(persister)
          .withIdentifiers({ appId: id, partitionKey })
          .build();
      await inPartition('p1').run({ haltAfter: ['b'] });
      const other = inPartition('p2');
      await other.ready();
      assert.equal(other.nextAction(), 'a');
      const same = inPartition('p1');
      await same.ready();
      assert.equal(same.nextAction(), 'c');
    });
  });
}

describePersister('MemoryStore', async () => new MemoryStore());
describePersister('SQLite', () => openStore(`sqlite:${join(folder, 'app.db')}`));
describePersister('PostgreSQL', () => openStore(schema.url));

describe('loading and saving around the store', () => {
  /** A loader whose saved state is `{ count: 5 }` after step 2 of `count`. */
  const savedFive = {
    async load(partitionKey: string, appId: string) {
      return {
        partitionKey,
        appId,
        sequenceId: 2,
        position: 'count',
        state: State.of({ count: 5 }),
        status: 'completed' as const,
        createdAt: 0,
      };
    },
  };
  const counter = () =>
    new ApplicationBuilder()
      .withActions({ count: increment })
      .withTransitions(['count', 'count', expr('count < 7')]);

  it('a failed step whose failed save throws still throws its own error and ends the step', async () => {
    const boom = new Error('the action broke');
    const broken = action({ reads: [], writes: [] }, () => {
      throw boom;
    });
    const tracker = new MemoryTracker();
    const app = new ApplicationBuilder()
      .withActions({ broken })
      .withEntrypoint('broken')
      .withIdentifiers({ appId: 'unsaved' })
      .withTracker(tracker)
      .withStatePersister({
        async save() {
          throw new Error('store unreachable');
        },
      })
      .build();
    const warned = once(process, 'warning');
    await assert.rejects(app.run(), (error) => error === boom);
    const [warning] = (await warned) as [Error & { code?: string }];
    assert.equal(warning.code, 'WEFT_APP_SAVE_FAILED');
    assert.match(warning.message, /'unsaved'/);
    assert.match(warning.message, /store unreachable/);
    const stepEnd = tracker.calls.find((call) => call.hook === 'stepEnd');
    assert.equal((stepEnd?.detail as StepEnd | undefined)?.error, boom);
  });

  it('ready() tries again after a failed load', async () => {
    let failures = 1;
    const app = counter()
      .initializeFrom(
        {
          async load(partitionKey, appId) {
            if (failures-- > 0) throw new Error('store briefly down');
            return savedFive.load(partitionKey, appId);
          },
        },
        { defaultEntrypoint: 'count' },
      )
      .build();
    await assert.rejects(app.ready(), /store briefly down/);
    await app.ready();
    assert.equal(app.state.get('count'), 5);
    assert.equal(app.sequenceId, 2);
  });

  it('state, sequenceId, position and nextAction() ask for ready() until the save is loaded', async () => {
    const app = counter()
      .initializeFrom(savedFive, { defaultEntrypoint: 'count', defaultState: { count: 0 } })
      .build();
    const notLoaded = invalid(/await app\.ready\(\) first/, /initializeFrom/);
    assert.throws(() => app.state, notLoaded);
    assert.throws(() => app.sequenceId, notLoaded);
    assert.throws(() => app.position, notLoaded);
    assert.throws(() => app.nextAction(), notLoaded);
    await app.ready();
    assert.equal(app.state.get('count'), 5);
    assert.equal(app.sequenceId, 2);
    assert.equal(app.position, 'count');
    assert.equal(app.nextAction(), 'count');
    // Without initializeFrom there is nothing to wait for.
    const plain = counter().withState({ count: 0 }).withEntrypoint('count').build();
    assert.equal(plain.state.get('count'), 0);
  });
});
