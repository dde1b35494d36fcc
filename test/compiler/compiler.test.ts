/** The compiler's schedule: the seed example, failures, and tasks that arrive as a stream. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  asyncPool,
  DependencyFailedError,
  EventBus,
  isWeftError,
  TaskFailedError,
  type WeftEvent,
} from 'weftjs';
import { type CompilerTask, isFailure, scheduleTasks, type ToolFn } from 'weftjs/compiler';
import { deferred, Feed, nextTurn } from '../fixtures/compiler-helpers.ts';
import { countingTools, guard, named, positional, rejectsWithPlanError } from './support.ts';

describe('compiler: the seed example', () => {
  for (const [label, make] of [
    ['asyncPool', () => asyncPool()],
    ['the default executor', () => undefined],
  ] as const) {
    it(`runs 1 and 2 together and 3 in the turn the later one ends (${label})`, async () => {
      const bus = new EventBus();
      const seen: string[] = [];
      bus.on((event: WeftEvent) => {
        if (event.type !== 'task:start' && event.type !== 'task:end') return;
        seen.push(`${event.type}:${event.item}`);
        // The first callback of the next turn: anything logged before it ran in this turn.
        if (event.type === 'task:end') setImmediate(() => seen.push(`next-turn:${event.item}`));
      });
      const sleep_next: ToolFn = async (args) => {
        const { t } = named<{ t: number }>(args);
        await sleep(t * 20);
        return t;
      };
      const sleep_total: ToolFn = (args) => {
        const { time1 = 0, time2 = 0 } = named<{ time1?: number; time2?: number }>(args);
        return time1 + time2;
      };
      const observations = await scheduleTasks(
        [
          { idx: 1, tool: 'sleep_next', args: { t: 1 }, dependencies: [] },
          { idx: 2, tool: 'sleep_next', args: { t: 2 }, dependencies: [] },
          {
            idx: 3,
            tool: 'sleep_total',
            args: { time1: '$1', time2: '$2' },
            dependencies: [1, 2],
          },
        ],
        { tools: { sleep_next, sleep_total }, executor: make(), events: bus },
      );
      await nextTurn();
      assert.deepEqual(
        observations,
        new Map([
          [1, 1],
          [2, 2],
          [3, 3],
        ]),
      );
      const at = (entry: string) => {
        const index = seen.indexOf(entry);
        assert.notEqual(index, -1, `${entry} missing from ${seen.join(', ')}`);
        return index;
      };
      assert.ok(at('task:start:2') < at('task:end:1'), '2 started before 1 ended (parallel)');
      const start3 = at('task:start:3');
      assert.ok(start3 > at('task:end:1'), '3 started after 1 ended');
      assert.ok(start3 > at('task:end:2'), '3 started after 2 ended');
      const later = at('task:end:1') > at('task:end:2') ? '1' : '2';
      assert.ok(
        start3 < at(`next-turn:${later}`),
        `3 started in the turn task ${later} ended, not after polling: ${seen.join(', ')}`,
      );
    });
  }
});

describe('compiler: failures', () => {
  function failingPlan(): { plan: CompilerTask[]; tools: Record<string, ToolFn>; ran: string[] } {
    const ran: string[] = [];
    const tools: Record<string, ToolFn> = {
      ok: (args) => {
        const [label] = positional<[string]>(args);
        ran.push(label);
        return label.toUpperCase();
      },
      boom: () => {
        ran.push('boom');
        throw new Error('disk on fire');
      },
    };
    return {
      ran,
      tools,
      plan: [
        { idx: 1, tool: 'ok', args: ['one'] },
        { idx: 2, tool: 'boom', args: ['$1'] },
        { idx: 3, tool: 'ok', args: ['three:$2'] },
        { idx: 4, tool: 'ok', args: ['four'] },
        { idx: 5, tool: 'ok', args: ['five'], dependencies: [3] },
      ],
    };
  }

  it("fails a failed task's dependents with its root cause; independent tasks finish", async () => {
    const { plan, tools, ran } = failingPlan();
    const observations = await scheduleTasks(plan, { tools });
    assert.equal(observations.get(1), 'ONE');
    assert.equal(observations.get(4), 'FOUR');
    const failed = observations.get(2);
    assert.ok(isFailure(failed));
    assert.match(failed.message, /disk on fire/);
    for (const idx of [3, 5]) {
      const dependent = observations.get(idx);
      assert.ok(isFailure(dependent), `task ${idx} failed`);
      assert.ok(dependent instanceof DependencyFailedError);
      assert.ok(isWeftError(dependent, 'WEFT_DEPENDENCY_FAILED'));
      assert.equal(dependent.rootCause, '2');
      assert.match(dependent.message, /'2'/);
      assert.match(dependent.message, /disk on fire/);
    }
    assert.ok(!isFailure(observations.get(1)));
    assert.ok(!ran.includes('three:$2') && !ran.some((label) => label.startsWith('three')));
    assert.ok(!ran.includes('five'), 'dependents never run');
  });

  it('rejects the whole schedule with failFast: true', async () => {
    const { plan, tools } = failingPlan();
    await assert.rejects(scheduleTasks(plan, { tools, failFast: true }), (error: unknown) => {
      assert.ok(error instanceof TaskFailedError);
      assert.match(error.message, /disk on fire/);
      return true;
    });
  });

  it('isFailure tells errors from values', () => {
    assert.ok(isFailure(new Error('x')));
    assert.ok(!isFailure('Error: x'));
    assert.ok(!isFailure({ message: 'x' }));
    assert.ok(!isFailure(undefined));
  });
});

describe('compiler: streamed tasks', () => {
  it(
    'starts task 1 before task 2 has arrived, and resolves only when the stream ends',
    guard,
    async () => {
      const feed = new Feed<CompilerTask>();
      const ran1 = deferred();
      const ended2 = deferred();
      const bus = new EventBus();
      bus.on('task:end', (event) => {
        if (event.item === '2') ended2.resolve();
      });
      const tools: Record<string, ToolFn> = {
        first: () => {
          ran1.resolve();
          return 1;
        },
        second: (args) => positional<[number]>(args)[0] + 1,
      };
      let settled = false;
      const running = scheduleTasks(feed, { tools, events: bus }).finally(() => {
        settled = true;
      });
      feed.push({ idx: 1, tool: 'first' });
      await ran1.promise;
      assert.equal(feed.taken, 1, 'task 2 was not yielded yet when task 1 ran');
      feed.push({ idx: 2, tool: 'second', args: ['$1'] });
      await ended2.promise;
      await nextTurn();
      await nextTurn();
      assert.equal(settled, false, 'scheduleTasks waits for the end of the stream');
      feed.end();
      assert.deepEqual(
        await running,
        new Map([
          [1, 1],
          [2, 2],
        ]),
      );
    },
  );

  it('rejects a streamed task with an unknown tool as soon as it arrives', guard, async () => {
    const feed = new Feed<CompilerTask>();
    const { tools, calls } = countingTools();
    const running = scheduleTasks(feed, { tools });
    feed.push({ idx: 1, tool: 'nope' });
    await rejectsWithPlanError(running, 1, /nope/);
    assert.equal(calls.length, 0);
  });
});
