/**
 * What watches an application (`weftjs/app`): trackers (lifecycle hooks, `MemoryTracker`)
 * and the app:start, app:step and app:end events on the run's bus.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  type AppEndEvent,
  type AppStartEvent,
  type AppStepEvent,
  events,
  MemoryStore,
  withRun,
} from 'weftjs';
import {
  ApplicationBuilder,
  type ApplicationEnd,
  type AppState,
  action,
  MemoryTracker,
  type StepEnd,
  type StepStart,
} from 'weftjs/app';
import { abc, mark, stateError } from './support/app.ts';

describe('trackers', () => {
  const detail = <T>(tracker: MemoryTracker, index: number) => tracker.calls[index]!.detail as T;

  it('MemoryTracker sees start, stepStart, stepEnd and end, in order', async () => {
    const tracker = new MemoryTracker();
    const app = abc()
      .withState({ trail: [] })
      .withEntrypoint('a')
      .withTracker(tracker)
      .withIdentifiers({ appId: 'tracked' })
      .build();
    await app.run({ haltAfter: ['b'], inputs: { x: 1 } });
    assert.deepEqual(
      tracker.calls.map((call) => call.hook),
      ['start', 'stepStart', 'stepEnd', 'stepStart', 'stepEnd', 'end'],
    );
    assert.deepEqual(tracker.appIds(), ['tracked']);
    assert.deepEqual(detail<AppState>(tracker, 0).toObject(), { trail: [] });
    const start = detail<StepStart>(tracker, 1);
    assert.equal(start.sequenceId, 0);
    assert.equal(start.action, 'a');
    assert.deepEqual(start.inputs, { x: 1 });
    assert.deepEqual(start.state.toObject(), { trail: [] });
    const end = detail<StepEnd>(tracker, 2);
    assert.equal(end.sequenceId, 0);
    assert.equal(end.action, 'a');
    assert.equal(end.error, undefined);
    assert.deepEqual(end.result, {});
    assert.deepEqual(end.state.toObject(), { trail: ['a'] });
    assert.ok(end.durationMs >= 0);
    assert.equal(detail<StepStart>(tracker, 3).sequenceId, 1);
    assert.deepEqual(detail<StepStart>(tracker, 3).inputs, { x: 1 });
    const finish = detail<ApplicationEnd>(tracker, 5);
    assert.equal(finish.action, 'b');
    assert.equal(finish.error, undefined);
    assert.deepEqual(finish.state.get('trail'), ['a', 'b']);
  });

  it('a failed step reaches stepEnd and end with its error', async () => {
    const tracker = new MemoryTracker();
    const boom = new Error('exploded');
    const broken = action({ reads: [], writes: [] }, () => {
      throw boom;
    });
    const app = new ApplicationBuilder()
      .withActions({ a: mark('a'), broken })
      .withTransitions(['a', 'broken'])
      .withEntrypoint('a')
      .withTracker(tracker)
      .build();
    await assert.rejects(app.run(), (error) => error === boom);
    assert.deepEqual(
      tracker.calls.map((call) => call.hook),
      ['start', 'stepStart', 'stepEnd', 'stepStart', 'stepEnd', 'end'],
    );
    const failed = detail<StepEnd>(tracker, 4);
    assert.equal(failed.action, 'broken');
    assert.equal(failed.sequenceId, 1);
    assert.equal(failed.error, boom);
    assert.equal(failed.result, undefined);
    assert.deepEqual(failed.state.get('trail'), ['a'], 'the state the step started from');
    const end = detail<ApplicationEnd>(tracker, 5);
    assert.equal(end.error, boom);
  });

  it('a write-check failure reaches stepEnd as a StateError', async () => {
    const tracker = new MemoryTracker();
    const sneaky = action({ reads: [], writes: [] }, (s) => s.update({ hidden: 1 }));
    const app = new ApplicationBuilder()
      .withActions({ sneaky })
      .withEntrypoint('sneaky')
      .withTracker(tracker)
      .build();
    await assert.rejects(app.run(), stateError(/'sneaky'/, /'hidden'/));
    assert.ok(stateError(/'hidden'/)(detail<StepEnd>(tracker, 2).error));
  });

  it('a standalone step() calls only the step hooks, as the Tracker docs say', async () => {
    const tracker = new MemoryTracker();
    const app = abc().withState({ trail: [] }).withEntrypoint('a').withTracker(tracker).build();
    await app.step();
    assert.deepEqual(
      tracker.calls.map((call) => call.hook),
      ['stepStart', 'stepEnd'],
    );
  });

  it('a tracker may implement only some hooks', async () => {
    const ends: string[] = [];
    const app = abc()
      .withState({ trail: [] })
      .withEntrypoint('a')
      .withTracker({ onStepEnd: (_app, step) => ends.push(step.action) })
      .build();
    await app.run();
    assert.deepEqual(ends, ['a', 'b', 'c']);
  });

  it('a throwing onApplicationStart fails the run and leaves the application usable', async () => {
    const hookError = new Error('tracker down');
    let failures = 1;
    const app = abc()
      .withState({ trail: [] })
      .withEntrypoint('a')
      .withTracker({
        onApplicationStart() {
          if (failures-- > 0) throw hookError;
        },
      })
      .build();
    await assert.rejects(app.run(), (error) => error === hookError);
    const { state } = await app.run();
    assert.deepEqual(state.get('trail'), ['a', 'b', 'c']);
  });
});

describe('events', () => {
  type AppEvent = AppStartEvent | AppStepEvent | AppEndEvent;
  const isApp = (event: { type: string }): event is AppEvent => event.type.startsWith('app:');

  it('inside withRun, the bus hears app:start, app:step and app:end, and the store keeps them', async () => {
    const store = new MemoryStore();
    after(() => store.close());
    const runId = 'app-events';
    const appId = 'evented';
    const heard: AppEvent[] = [];
    const off = events.on((event) => {
      if (isApp(event) && event.appId === appId) heard.push(event);
    });
    try {
      await withRun({ store, runId }, async () => {
        const app = abc()
          .withState({ trail: [] })
          .withEntrypoint('a')
          .withIdentifiers({ appId, partitionKey: 'pk' })
          .build();
        await app.run({ haltAfter: ['b'] });
      });
    } finally {
      off();
    }
    assert.deepEqual(
      heard.map((event) => [event.type, event.type === 'app:step' ? event.action : undefined]),
      [
        ['app:start', undefined],
        ['app:step', 'a'],
        ['app:step', 'b'],
        ['app:end', undefined],
      ],
    );
    const [start, stepA, stepB, end] = heard as [
      AppStartEvent,
      AppStepEvent,
      AppStepEvent,
      AppEndEvent,
    ];
    assert.equal(start.partitionKey, 'pk');
    assert.equal(start.parentAppId, undefined);
    assert.equal(stepA.sequenceId, 0);
    assert.equal(stepB.sequenceId, 1);
    assert.equal(stepA.error, undefined);
    assert.equal(end.action, 'b');
    assert.equal(end.error, undefined);
    for (const event of heard) assert.ok(event.scope.startsWith(`${runId}/`), event.scope);

    const kept = (await store.listEvents(runId))
      .filter(isApp)
      .filter((event) => event.appId === appId);
    assert.deepEqual(
      kept.map((event) => event.type),
      ['app:start', 'app:step', 'app:step', 'app:end'],
    );
  });

  it('a failed step is an app:step and app:end with its error, kept in wire form', async () => {
    const store = new MemoryStore();
    after(() => store.close());
    const runId = 'app-events-failed';
    const appId = 'evented-failed';
    const heard: AppEvent[] = [];
    const off = events.on((event) => {
      if (isApp(event) && event.appId === appId) heard.push(event);
    });
    const broken = action({ reads: [], writes: [] }, () => {
      throw new Error('no luck');
    });
    try {
      await assert.rejects(
        withRun({ store, runId }, () =>
          new ApplicationBuilder()
            .withActions({ broken })
            .withEntrypoint('broken')
            .withIdentifiers({ appId })
            .build()
            .run(),
        ),
        /no luck/,
      );
    } finally {
      off();
    }
    assert.deepEqual(
      heard.map((event) => event.type),
      ['app:start', 'app:step', 'app:end'],
    );
    assert.match(String((heard[1] as AppStepEvent).error), /no luck/);
    const kept = (await store.listEvents(runId))
      .filter(isApp)
      .filter((event) => event.appId === appId);
    const step = kept.find((event): event is AppStepEvent => event.type === 'app:step');
    assert.ok(step);
    assert.equal(step.action, 'broken');
    assert.match((step.error as { message: string }).message, /no luck/);
  });

  it('an application run in two runs in turn reports each run to its own store', async () => {
    const store = new MemoryStore();
    after(() => store.close());
    const app = abc()
      .withState({ trail: [] })
      .withEntrypoint('a')
      .withIdentifiers({ appId: 'evented-twice' })
      .build();
    await withRun({ store, runId: 'app-first' }, () => app.run({ haltAfter: ['a'] }));
    await withRun({ store, runId: 'app-second' }, () => app.run({ haltAfter: ['b'] }));
    const types = async (runId: string) =>
      (await store.listEvents(runId)).filter(isApp).map((event) => event.type);
    assert.deepEqual(await types('app-first'), ['app:start', 'app:step', 'app:end']);
    assert.deepEqual(await types('app-second'), ['app:start', 'app:step', 'app:end']);
  });

  it('outside withRun, the events go to the shared bus', async () => {
    const appId = 'evented-bare';
    const types: string[] = [];
    const off = events.on((event) => {
      if (isApp(event) && event.appId === appId) types.push(event.type);
    });
    try {
      await abc()
        .withState({ trail: [] })
        .withEntrypoint('a')
        .withIdentifiers({ appId })
        .build()
        .run();
    } finally {
      off();
    }
    assert.deepEqual(types, ['app:start', 'app:step', 'app:step', 'app:step', 'app:end']);
  });
});
