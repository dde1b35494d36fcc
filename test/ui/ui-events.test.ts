/**
 * `GET /api/runs/:id/events`: a run's events as server-sent events, live while the run
 * goes (its tasks wait on promises the test releases), with progress at most twice a
 * second, then `end` once the run ends; reconnecting with Last-Event-ID; a finished or
 * stopped run's stream ending at once; the polling stopping when the client hangs up. In
 * SQLite, PostgreSQL and a store without fast queries.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asyncPool, map, type Store, task, withRun } from 'weftjs';
import type { EndMessage, ProgressMessage } from '../../src/ui/api-types.ts';
import { LiveStreams } from '../../src/ui/live-streams.ts';
import { createUiApp } from '../../src/ui/server.ts';
import { SseReader } from './sse.ts';
import {
  type Deferred,
  deferred,
  recordSmallRun,
  recordStoppedRun,
  storeCases,
} from './support.ts';

const executor = asyncPool({ concurrency: 8 });
after(() => executor.close());

/** The gates of the live run's tasks, by run id then item; the last one opens when they start. */
const gates = new Map<string, Deferred<void>[]>();
const waitForGate = task(
  'ui-events:wait',
  async ({ runId, item }: { runId: string; item: number }) => {
    const gate = gates.get(runId)!;
    gate.at(-1)!.resolve();
    await gate[item]!.promise;
    return item;
  },
);

/**
 * Starts a run of `items` tasks, each waiting until its gate opens; resolves once they
 * started (so the run is recorded).
 */
async function startLiveRun(store: Store, runId: string, items: number) {
  const gate = Array.from({ length: items + 1 }, () => deferred());
  gates.set(runId, gate);
  const done = withRun({ store, runId }, () =>
    map(
      Array.from({ length: items }, (_, item) => ({ runId, item })),
      waitForGate,
      { executor },
    ),
  );
  await Promise.race([gate.at(-1)!.promise, done]);
  return {
    done,
    open: (item: number) => gate[item]!.resolve(),
  };
}

for (const { name, open } of storeCases('events')) {
  describe(`weft ui: a run's live events (${name})`, () => {
    let store: Store;
    const streams = new LiveStreams();
    let app: ReturnType<typeof createUiApp>;

    before(async () => {
      store = await open();
      app = createUiApp(store, { streams, pollMs: 50 });
    });
    after(() => store?.close());

    const connect = async (runId: string, lastEventId?: string) => {
      const response = await app.request(`/api/runs/${runId}/events`, {
        headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      return new SseReader(response);
    };

    it('streams the events of a run as it goes, its progress, then end', async () => {
      const live = await startLiveRun(store, 'live', 4);
      const events = await connect('live');
      // The map's start, stored while its tasks wait.
      const { found: started } = await events.until(
        (m) => m.event === 'weft' && JSON.parse(m.data).type === 'map:start',
      );
      assert.match(started.id ?? '', /^\d+$/);
      const first = await events.until((m) => m.event === 'progress');
      const progress = JSON.parse(first.found.data) as ProgressMessage;
      assert.equal(progress.status, 'running');
      assert.deepEqual(progress.tasks, { completed: 0, failed: 0 });
      assert.equal(progress.fanOuts.length, 1);
      assert.equal(progress.fanOuts[0]!.total, 4);
      assert.equal(progress.fanOuts[0]!.endedAt, undefined);
      live.open(0);
      live.open(1);
      const moved = await events.until(
        (m) => m.event === 'progress' && JSON.parse(m.data).tasks.completed === 2,
      );
      const during = JSON.parse(moved.found.data) as ProgressMessage;
      assert.equal(during.status, 'running');
      assert.deepEqual(during.fanOuts[0]!.tasks, { completed: 2, failed: 0 });
      live.open(2);
      live.open(3);
      await live.done;
      const rest = [...moved.before, moved.found, ...(await events.rest())];
      const ends = rest.filter((m) => m.event === 'end');
      assert.equal(ends.length, 1);
      assert.equal(rest.at(-1)!.event, 'end');
      assert.deepEqual(JSON.parse(rest.at(-1)!.data) as EndMessage, { status: 'completed' });
      const last = rest.filter((m) => m.event === 'progress').at(-1)!;
      const final = JSON.parse(last.data) as ProgressMessage;
      assert.equal(final.status, 'completed');
      assert.deepEqual(final.tasks, { completed: 4, failed: 0 });
      assert.ok(final.fanOuts[0]!.endedAt);
      const types = rest.filter((m) => m.event === 'weft').map((m) => JSON.parse(m.data).type);
      assert.ok(types.includes('map:end'), types.join(', '));
      // Ids only grow.
      const ids = [started, ...rest].flatMap((m) => (m.id === undefined ? [] : [Number(m.id)]));
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );
      await streams.idle();
    });

    it('sends progress at most twice a second', async () => {
      const live = await startLiveRun(store, 'paced', 6);
      const events = await connect('paced');
      await events.until((m) => m.event === 'progress');
      // Each release changes the progress; the stream polls every 50 ms here.
      const times: number[] = [];
      for (let item = 0; item < 6; item++) {
        live.open(item);
        const { found } = await events.until(
          (m) => m.event === 'progress' && JSON.parse(m.data).tasks.completed >= item + 1,
        );
        times.push(performance.now());
        if (JSON.parse(found.data).tasks.completed === 6) break;
      }
      await live.done;
      await events.rest();
      for (let i = 1; i < times.length; i++) {
        assert.ok(
          times[i]! - times[i - 1]! >= 450,
          `progress ${times[i]! - times[i - 1]!} ms apart`,
        );
      }
    });

    it('reconnecting with Last-Event-ID sends the events after it', async () => {
      await recordSmallRun(store, 'finished', '/jobs/finished.ts', executor);
      const all = await (await connect('finished')).rest();
      const stored = all.filter((m) => m.event === 'weft');
      assert.ok(stored.length >= 2, JSON.stringify(all));
      assert.deepEqual(all.map((m) => m.event).slice(stored.length), ['progress', 'end']);
      const again = await (await connect('finished', stored[0]!.id)).rest();
      assert.deepEqual(
        again.filter((m) => m.event === 'weft').map((m) => m.id),
        stored.slice(1).map((m) => m.id),
      );
      assert.equal(again.at(-1)!.event, 'end');
      const bad = await app.request('/api/runs/finished/events', {
        headers: { 'last-event-id': 'yesterday' },
      });
      assert.equal(bad.status, 400);
      assert.match(
        ((await bad.json()) as { error: { message: string } }).error.message,
        /Last-Event-ID/,
      );
    });

    it("a stopped run's stream ends at once, saying so", async () => {
      await recordStoppedRun(store, 'stopped');
      const messages = await (await connect('stopped')).rest();
      assert.deepEqual(
        messages.map((m) => m.event),
        ['progress', 'end'],
      );
      assert.deepEqual(JSON.parse(messages[1]!.data), { status: 'stopped' });
    });

    it('stops polling the store when the client hangs up', async () => {
      const live = await startLiveRun(store, 'left', 1);
      const events = await connect('left');
      await events.until((m) => m.event === 'progress');
      assert.equal(streams.size, 1);
      await events.cancel();
      await streams.idle();
      assert.equal(streams.size, 0);
      live.open(0);
      await live.done;
    });
  });
}
