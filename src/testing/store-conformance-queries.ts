/**
 * Store conformance, what a store answers a viewer of runs (`Store.queries`): counts of
 * tasks by run and by key prefix (prefixes of odd characters included), sums per task
 * name, pages of task records by cursor and filter or the slowest first, a histogram of
 * task ends with its edges, and events after a position across appends. A run the store
 * does not hold answers empty, and arguments that are not what the types say are a
 * ValidationError.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWeftError, toWire } from '../core/errors.ts';
import type { RunQueries, Store, TaskPageOptions, TaskRecord } from '../core/store.ts';
import {
  type CaseOptions,
  freshId,
  freshRunOpener,
  rejectionOf,
  startEvent,
} from './store-conformance-support.ts';

/** A record of `key` with the fields the queries read. */
function record(
  key: string,
  fields: Partial<Pick<TaskRecord, 'task' | 'status' | 'startedAt' | 'durationMs'>> = {},
): TaskRecord {
  const status = fields.status ?? 'completed';
  return {
    key,
    task: fields.task ?? 'conformance:task',
    status,
    attempts: status === 'failed' ? 2 : 1,
    startedAt: fields.startedAt ?? 1_700_000_000_000,
    durationMs: fields.durationMs ?? 10,
    ...(status === 'completed'
      ? { output: { big: 'x'.repeat(100), key } }
      : { error: toWire(new Error(`${key} broke`)) }),
  };
}

/** Keys of odd characters, as a fan-out's scope may hold them. */
const oddKeys = [
  'map:a/0',
  'map:a/1',
  'map:a/10',
  'map:a%/2',
  'map:a_/3',
  'map:a\\/4',
  "map:a'/5",
  'map:a"/6',
  'map:a\u0000/7',
  'map:a/\uD83D',
  'map:a/\uD83D\uDE00x',
  'map:a/\uDE00',
  'map:a/\uD83D\uD83D',
  '\uFFFFmap:a/9',
  '\uFFFF~map:a/8',
  'map:b/0',
  'map:ab/1',
  '__proto__/0',
  'constructor',
  'map:a/\u{10FFFF}',
  '\u{10FFFF}\u{10FFFF}',
  'map:\u00E9/1',
  'map:e\u0301/1',
];

/** Prefixes to count `oddKeys` under: every start of them, and more. */
const oddPrefixes = [
  ...new Set([
    '',
    'map:a/',
    'map:a',
    'map:',
    'map:a%',
    'map:a_',
    'map:a\\',
    "map:a'",
    'map:a"',
    'map:a\u0000',
    'map:a/\uD83D',
    'map:a/\uD83D\uDE00',
    'map:a/\uDE00',
    'map:a/\uD83D\uD83D',
    '\uFFFF',
    '\uFFFFmap',
    '\uFFFF~',
    '\uD83D',
    '__proto__',
    '__proto__/',
    'constructor/',
    'map:a/\u{10FFFF}',
    '\u{10FFFF}',
    '\u{10FFFF}\u{10FFFF}',
    'map:\u00E9',
    'map:e',
    '%',
    '_',
    'zzz',
  ]),
];

/** Declares the cases on `Store.queries`. */
export function describeQueryCases(store: () => Store, caseOptions: CaseOptions): void {
  const openFreshRun = freshRunOpener(store);
  const queries = (): RunQueries => {
    const answered = store().queries;
    assert.ok(answered, 'the store has queries (Store.queries)');
    return answered;
  };

  describe('queries for a viewer of runs', () => {
    it(
      'countTasks counts each run’s completed and failed tasks, a record once',
      caseOptions,
      async () => {
        const busy = await openFreshRun('count-busy');
        const idle = await openFreshRun('count-idle');
        await store().recordTasks(busy, [
          record('a'),
          record('b', { status: 'failed' }),
          record('c', { status: 'failed' }),
        ]);
        // A failed task that completes later is counted once, as completed.
        await store().recordTasks(busy, [
          record('b'),
          record('d'),
          record('e', { status: 'failed' }),
        ]);
        const unknown = freshId('count-unknown');
        const counts = await queries().countTasks([busy, idle, unknown, busy]);
        assert.deepEqual(counts, new Map([[busy, { completed: 3, failed: 2 }]]));
        // Any number of runs at once.
        const many = [...Array.from({ length: 1200 }, (_, i) => `${unknown}-${i}`), busy];
        assert.deepEqual(
          await queries().countTasks(many),
          new Map([[busy, { completed: 3, failed: 2 }]]),
        );
        assert.deepEqual(await queries().countTasks([]), new Map());
      },
    );

    it('summarizeTasks sums each task name, in order of name', caseOptions, async () => {
      const runId = await openFreshRun('summary');
      const names = ['b', 'a', '\u00E9', '\uD83D\uDE00', '\uFFFD', 'B', '__proto__'];
      const records = names.flatMap((task, n) => [
        record(`${n}/0`, { task, startedAt: 1000 + n, durationMs: 5 }),
        record(`${n}/1`, { task, startedAt: 900 + n, durationMs: 250.5, status: 'failed' }),
        record(`${n}/2`, { task, startedAt: 2000, durationMs: n }),
      ]);
      await store().recordTasks(runId, records);
      const summaries = await queries().summarizeTasks(runId);
      assert.deepEqual(
        summaries.map((summary) => summary.task),
        [...names].sort(),
      );
      for (const summary of summaries) {
        const n = names.indexOf(summary.task);
        assert.deepEqual(summary, {
          task: summary.task,
          completed: 2,
          failed: 1,
          totalMs: 5 + 250.5 + n,
          maxMs: 250.5,
          firstStartedAt: 900 + n,
          lastEndedAt: Math.max(1000 + n + 5, 900 + n + 250.5, 2000 + n),
        });
      }
      assert.deepEqual(await queries().summarizeTasks(freshId('summary-unknown')), []);
    });

    it(
      'countTasksByPrefix counts the keys starting with each prefix, odd ones too',
      caseOptions,
      async () => {
        const runId = await openFreshRun('prefix');
        const records = oddKeys.map((key, i) =>
          record(key, { status: i % 3 === 1 ? 'failed' : 'completed' }),
        );
        await store().recordTasks(runId, records);
        const expected = oddPrefixes.map((prefix) => {
          const under = records.filter((r) => r.key.startsWith(prefix));
          return {
            completed: under.filter((r) => r.status === 'completed').length,
            failed: under.filter((r) => r.status === 'failed').length,
          };
        });
        const counts = await queries().countTasksByPrefix(runId, oddPrefixes);
        oddPrefixes.forEach((prefix, i) => {
          assert.deepEqual(counts[i], expected[i], `under ${JSON.stringify(prefix)}`);
        });
        assert.deepEqual(await queries().countTasksByPrefix(runId, []), []);
        assert.deepEqual(await queries().countTasksByPrefix(freshId('prefix-unknown'), ['', 'a']), [
          { completed: 0, failed: 0 },
          { completed: 0, failed: 0 },
        ]);
      },
    );

    it(
      'taskPage reads the records a page at a time, in the order first recorded',
      caseOptions,
      async () => {
        const runId = await openFreshRun('pages');
        const keys = Array.from({ length: 25 }, (_, i) => `map:p/${i}`);
        await store().recordTasks(
          runId,
          keys.slice(0, 10).map((key) => record(key)),
        );
        await store().recordTasks(
          runId,
          keys.slice(10, 18).map((key) => record(key)),
        );
        await store().recordTasks(runId, [
          ...keys.slice(18).map((key) => record(key, { status: 'failed' })),
          // Replaced: keeps its first place.
          record(keys[3]!, { status: 'failed', durationMs: 99 }),
        ]);
        const seen: TaskRecord[] = [];
        let after: number | undefined;
        let pages = 0;
        do {
          const page = await queries().taskPage(runId, {
            limit: 10,
            ...(after === undefined ? {} : { after }),
          });
          seen.push(...page.tasks);
          pages++;
          assert.ok(page.next === undefined || page.next > (after ?? 0), 'positions grow');
          after = page.next;
        } while (after !== undefined);
        assert.equal(pages, 3);
        assert.deepEqual(
          seen.map((task) => task.key),
          keys,
        );
        const replaced = seen[3]!;
        assert.equal(replaced.status, 'failed');
        assert.equal(replaced.durationMs, 99);
        assert.equal(replaced.error?.message, `${keys[3]} broke`);
        assert.ok(
          seen.every((task) => task.output === undefined && !('output' in task)),
          'no outputs',
        );
        assert.equal(seen[0]!.queuedMs, 0);
        // A full last page has no next: 20 records, pages of 10.
        const twenty = await queries().taskPage(runId, { limit: 20 });
        const tail = await queries().taskPage(runId, { limit: 5, after: twenty.next! });
        assert.deepEqual(
          tail.tasks.map((task) => task.key),
          keys.slice(20),
        );
        assert.equal(tail.next, undefined);
        assert.deepEqual(await queries().taskPage(runId, { after: 1e12 }), { tasks: [] });
        assert.equal((await queries().taskPage(runId)).tasks.length, 25);
        assert.deepEqual(await queries().taskPage(freshId('pages-unknown')), { tasks: [] });
      },
    );

    it('taskPage keeps the records of a status, a task and a key prefix', caseOptions, async () => {
      const runId = await openFreshRun('page-filters');
      const records = oddKeys.map((key, i) =>
        record(key, {
          status: i % 3 === 1 ? 'failed' : 'completed',
          task: i % 2 === 0 ? 'even' : 'odd',
        }),
      );
      await store().recordTasks(runId, records.slice(0, 9));
      await store().recordTasks(runId, records.slice(9));
      const filters: TaskPageOptions[] = [
        { status: 'failed' },
        { status: 'completed' },
        { task: 'even' },
        { task: 'nobody' },
        { keyPrefix: 'map:a/' },
        { keyPrefix: 'map:a/\uD83D' },
        { keyPrefix: '\uFFFF' },
        { keyPrefix: 'map:a%' },
        { keyPrefix: 'map:a_' },
        { keyPrefix: 'map:a\u0000' },
        { keyPrefix: '' },
        { status: 'failed', task: 'even', keyPrefix: 'map:' },
        { status: 'completed', keyPrefix: 'map:a' },
      ];
      for (const filter of filters) {
        const kept = records.filter(
          (r) =>
            (filter.status === undefined || r.status === filter.status) &&
            (filter.task === undefined || r.task === filter.task) &&
            r.key.startsWith(filter.keyPrefix ?? ''),
        );
        const seen: string[] = [];
        let after: number | undefined;
        do {
          const page = await queries().taskPage(runId, {
            ...filter,
            limit: 2,
            ...(after === undefined ? {} : { after }),
          });
          seen.push(...page.tasks.map((task) => task.key));
          assert.ok(seen.length <= kept.length, `${JSON.stringify(filter)} ends`);
          after = page.next;
        } while (after !== undefined);
        assert.deepEqual(
          seen,
          kept.map((r) => r.key),
          JSON.stringify(filter),
        );
      }
    });

    it(
      'taskPage with order slowest gives the longest first, ties as recorded',
      caseOptions,
      async () => {
        const runId = await openFreshRun('slowest');
        const durations = [5, 50, 7, 50, 0, 12.5, 50, 3];
        await store().recordTasks(
          runId,
          durations.map((durationMs, i) =>
            record(`s/${i}`, { durationMs, status: i === 3 ? 'failed' : 'completed' }),
          ),
        );
        const slowest = await queries().taskPage(runId, { order: 'slowest', limit: 4 });
        assert.deepEqual(
          slowest.tasks.map((task) => task.key),
          ['s/1', 's/3', 's/6', 's/5'],
        );
        assert.equal(slowest.next, undefined);
        const completed = await queries().taskPage(runId, {
          order: 'slowest',
          status: 'completed',
          keyPrefix: 's/',
        });
        assert.deepEqual(
          completed.tasks.map((task) => task.durationMs),
          [50, 50, 12.5, 7, 5, 3, 0],
        );
        const error = await rejectionOf(queries().taskPage(runId, { order: 'slowest', after: 2 }));
        assert.ok(isWeftError(error, 'WEFT_VALIDATION'), String(error));
      },
    );

    it(
      'taskPage gives up to 10,000 of the slowest in one page, and 1,000 of a page in order',
      caseOptions,
      async () => {
        const runId = await openFreshRun('slowest-many');
        const count = 1_500;
        await store().recordTasks(
          runId,
          Array.from({ length: count }, (_, i) => record(`m/${i}`, { durationMs: i % 97 })),
        );
        const slowest = await queries().taskPage(runId, { order: 'slowest', limit: 1_200 });
        assert.equal(slowest.tasks.length, 1_200);
        const durations = slowest.tasks.map((task) => task.durationMs);
        assert.deepEqual(
          durations,
          [...durations].sort((a, b) => b - a),
        );
        const all = await queries().taskPage(runId, { order: 'slowest', limit: 50_000 });
        assert.equal(all.tasks.length, count);
        const page = await queries().taskPage(runId, { limit: 1_200 });
        assert.equal(page.tasks.length, 1_000);
        assert.notEqual(page.next, undefined);
      },
    );

    it(
      'taskEndHistogram counts task ends per span, the edges in the later span',
      caseOptions,
      async () => {
        const runId = await openFreshRun('histogram');
        // Ends: before, on `from`, inside, on an edge, just before `to`, on `to`, after.
        const ends = [999, 1000, 1249.5, 1250, 1500, 1999.999, 2000, 5000];
        await store().recordTasks(
          runId,
          ends.map((end, i) => record(`h/${i}`, { startedAt: end - i, durationMs: i })),
        );
        assert.deepEqual(await queries().taskEndHistogram(runId, 1000, 2000, 4), [3, 1, 1, 3]);
        assert.deepEqual(await queries().taskEndHistogram(runId, 1000, 2000, 1), [8]);
        assert.deepEqual(await queries().taskEndHistogram(runId, 0, 10_000, 2), [7, 1]);
        // from = to: the ends before go to the first, the others to the last.
        assert.deepEqual(await queries().taskEndHistogram(runId, 1500, 1500, 3), [4, 0, 4]);
        // Spans that doubles cannot hold exactly: every store rounds alike.
        const odd = await openFreshRun('histogram-doubles');
        const tenths = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
        await store().recordTasks(
          odd,
          tenths.map((end, i) => record(`d/${i}`, { startedAt: end, durationMs: 0 })),
        );
        // As RunQueries.taskEndHistogram says: floor((e - from) * buckets / (to - from)).
        const expected = [0, 0, 0];
        for (const end of tenths) {
          const bucket = end >= 0.7 ? 2 : Math.floor(((end - 0.1) * 3) / (0.7 - 0.1));
          expected[Math.min(2, bucket)]!++;
        }
        assert.deepEqual(await queries().taskEndHistogram(odd, 0.1, 0.7, 3), expected);
        assert.deepEqual(
          await queries().taskEndHistogram(freshId('histogram-unknown'), 0, 1, 3),
          [0, 0, 0],
        );
      },
    );

    it('eventsAfter reads on from a position, across appends', caseOptions, async () => {
      const runId = await openFreshRun('events-after');
      const events = Array.from({ length: 8 }, (_, i) => startEvent(`map:e/${i}`, i));
      await store().appendEvents(runId, events.slice(0, 3));
      const first = await queries().eventsAfter(runId, 0);
      assert.deepEqual(
        first.map((read) => read.event),
        events.slice(0, 3),
      );
      const positions = first.map((read) => read.position);
      assert.ok(positions.every((p, i) => Number.isSafeInteger(p) && p > (positions[i - 1] ?? 0)));
      assert.deepEqual(await queries().eventsAfter(runId, positions[2]!), []);
      // Another run's events in between leave this run's reading unchanged.
      const other = await openFreshRun('events-after-other');
      await store().appendEvents(other, [startEvent('other', 0)]);
      await store().appendEvents(runId, events.slice(3, 5));
      await store().appendEvents(runId, events.slice(5));
      const rest = await queries().eventsAfter(runId, positions[2]!);
      assert.deepEqual(
        rest.map((read) => read.event),
        events.slice(3),
      );
      assert.ok(rest[0]!.position > positions[2]!);
      const two = await queries().eventsAfter(runId, positions[0]!, 2);
      assert.deepEqual(
        two.map((read) => read.event),
        events.slice(1, 3),
      );
      const later = await queries().eventsAfter(runId, two[1]!.position);
      assert.deepEqual(later, rest);
      assert.deepEqual(await queries().eventsAfter(runId, 0, 0), []);
      assert.deepEqual(await queries().eventsAfter(freshId('events-unknown'), 0), []);
    });

    it('eventsAfter reads 1,000 events unless told', caseOptions, async () => {
      const runId = await openFreshRun('events-limit');
      const events = Array.from({ length: 1001 }, (_, i) => startEvent(`map:e/${i}`, i));
      await store().appendEvents(runId, events);
      const read = await queries().eventsAfter(runId, 0);
      assert.equal(read.length, 1000);
      assert.deepEqual(
        (await queries().eventsAfter(runId, read[999]!.position)).map((e) => e.event),
        [events[1000]],
      );
    });

    it('arguments that are not what the types say are a ValidationError', caseOptions, async () => {
      const runId = await openFreshRun('query-validation');
      const q = queries();
      const calls: [string, () => Promise<unknown>][] = [
        ['countTasks of a string', () => q.countTasks('r' as never)],
        ['countTasks of an empty id', () => q.countTasks([''])],
        ['prefixes not an array', () => q.countTasksByPrefix(runId, 'map:' as never)],
        ['a prefix not a string', () => q.countTasksByPrefix(runId, [1 as never])],
        ['summary of an empty id', () => q.summarizeTasks('')],
        ['negative limit', () => q.taskPage(runId, { limit: -1 })],
        ['status running', () => q.taskPage(runId, { status: 'running' as 'failed' })],
        ['order fastest', () => q.taskPage(runId, { order: 'fastest' as 'slowest' })],
        ['after -1', () => q.taskPage(runId, { after: -1 })],
        ['after a string', () => q.taskPage(runId, { after: '3' as never })],
        ['no buckets', () => q.taskEndHistogram(runId, 0, 1, 0)],
        ['half a bucket', () => q.taskEndHistogram(runId, 0, 1, 1.5)],
        ['from after to', () => q.taskEndHistogram(runId, 2, 1, 3)],
        ['from NaN', () => q.taskEndHistogram(runId, Number.NaN, 1, 3)],
        ['events after -1', () => q.eventsAfter(runId, -1)],
        ['events limit -1', () => q.eventsAfter(runId, 0, -1)],
      ];
      for (const [what, call] of calls) {
        const error = await rejectionOf(call(), what);
        assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `${what}: ${error}`);
      }
    });
  });
}
