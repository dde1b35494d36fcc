/** map: the events a map reports, and the event bus's stream. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asyncPool, EventBus, events, inline, map, TaskFailedError, type WeftEvent } from 'weftjs';
import {
  deferred,
  failsOnThree,
  guard,
  records,
  reportsProgress,
  slowDouble,
  square,
} from '../fixtures/map-dag-tasks.ts';

describe('map: events', () => {
  it('reports map:start, task start/end/fail and map:end with counts', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    await map([1, 2, 3, 4], failsOnThree, { events: bus, onError: 'collect', executor: inline() });
    const types = seen.map((e) => e.type);
    assert.equal(types[0], 'map:start');
    assert.equal(types.at(-1), 'map:end');
    const start = seen[0]!;
    assert.ok(start.type === 'map:start');
    assert.equal(start.task, 'mapDag.failsOnThree');
    assert.equal(start.total, 4);
    assert.match(start.scope, /^map:mapDag\.failsOnThree(~\d+)?$/);
    const starts = seen.filter((e) => e.type === 'task:start');
    assert.deepEqual(
      starts.map((e) => [e.item, e.attempt, e.key]),
      [0, 1, 2, 3].map((i) => [i, 1, `${start.scope}/${i}`]),
    );
    assert.deepEqual(
      seen.filter((e) => e.type === 'task:end').map((e) => e.item),
      [0, 1, 3],
    );
    const fails = seen.filter((e) => e.type === 'task:fail');
    assert.equal(fails.length, 1);
    assert.equal(fails[0]!.item, 2);
    assert.equal((fails[0]!.error as Error).message, 'bad item 3');
    const end = seen.at(-1)!;
    assert.ok(end.type === 'map:end');
    assert.equal(end.completed, 3);
    assert.equal(end.failed, 1);
    assert.equal(end.error, undefined);
    assert.ok(end.durationMs >= 0);
  });

  it('reports the error of a failed map in map:end', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    await map([1, 2, 3], failsOnThree, { events: bus, executor: inline() }).then(
      () => assert.fail('the map should reject'),
      () => {},
    );
    const end = seen.at(-1)!;
    assert.ok(end.type === 'map:end');
    assert.ok(end.error instanceof TaskFailedError);
    assert.equal(end.completed, 2);
    assert.equal(end.failed, 1);
  });

  it('turns ctx.progress calls into task:progress events', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    await map([5, 6], reportsProgress, { events: bus });
    const reports = seen.filter((e) => e.type === 'task:progress');
    assert.deepEqual(
      reports.map((e) => [e.item, e.progress]),
      [
        [0, 0.5],
        [0, { done: 1, total: 1, message: 'item 5' }],
        [1, 0.5],
        [1, { done: 1, total: 1, message: 'item 6' }],
      ],
    );
    assert.match(reports[0]!.key, /^map:mapDag\.reportsProgress(~\d+)?\/0$/);
  });

  it('does not emit on the shared bus when given its own', async () => {
    const own = new EventBus();
    const mine = records(own);
    const shared: WeftEvent[] = [];
    const off = events.on((e) => shared.push(e));
    await map([1], square, { events: own });
    off();
    assert.equal(shared.length, 0);
    assert.ok(mine.length > 0);
  });

  it('bus.stream() yields the events as an async iterable and ends on abort', guard, async () => {
    const bus = new EventBus();
    const controller = new AbortController();
    const streamed = (async () => {
      const types: string[] = [];
      for await (const event of bus.stream({ signal: controller.signal })) {
        types.push(event.type);
        if (event.type === 'map:end') controller.abort();
      }
      return types;
    })();
    await map([1, 2], slowDouble, { events: bus, executor: asyncPool() });
    assert.deepEqual(await streamed, [
      'map:start',
      'task:start',
      'task:start',
      'task:end',
      'task:end',
      'map:end',
    ]);
  });

  it('bus.stream() filters by type and ends when aborted while waiting', guard, async () => {
    const bus = new EventBus();
    const controller = new AbortController();
    const firstEnd = deferred();
    const streamed = (async () => {
      const items: unknown[] = [];
      for await (const event of bus.stream({ signal: controller.signal, types: ['task:end'] })) {
        assert.equal(event.type, 'task:end');
        items.push(event.type === 'task:end' ? event.item : undefined);
        if (items.length === 3) firstEnd.resolve();
      }
      return items;
    })();
    await map([1, 2, 3], square, { events: bus, executor: inline() });
    await firstEnd.promise;
    controller.abort();
    assert.deepEqual(await streamed, [0, 1, 2]);
  });

  it(
    'bus.stream() receives events emitted after stream() and before the first read',
    guard,
    async () => {
      const bus = new EventBus();
      const controller = new AbortController();
      const stream = bus.stream({ signal: controller.signal, types: ['map:start'] });
      await map([1], square, { events: bus, name: 'before-first-read' });
      const iterator = stream[Symbol.asyncIterator]();
      const first = iterator.next();
      // A second map, so that the read settles with or without the bug.
      await map([1], square, { events: bus, name: 'after-first-read' });
      const { value } = await first;
      controller.abort();
      await iterator.return?.();
      assert.equal(value?.scope, 'before-first-read');
    },
  );
});
