/**
 * `weft show` reads a run's tasks as a stream: the text view without outputs, summed up as
 * they come (counts, medians, the slowest ten), `--all` and `--json` written task by task.
 * It never reads every task (or every output) at once, and says what it said before.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { MemoryStore } from 'weftjs';
import { printRun, type ShowOptions } from '../../src/cli/show.ts';
import { duration, table, when } from '../../src/cli/table.ts';
import type { Store, StreamTasksOptions, TaskRecord } from '../../src/core/store.ts';

/** A run of 3,000 tasks in three fan-outs, 30 failed, durations with many ties. */
async function recordedRun(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.openRun('big');
  const records: TaskRecord[] = [];
  for (let i = 0; i < 3000; i++) {
    const fanOut = ['big/map:a', 'big/map:b', 'big/map:a/7/map:c'][i % 3]!;
    const failed = i % 100 === 42;
    records.push({
      key: `${fanOut}/${i}`,
      task: fanOut.slice(fanOut.lastIndexOf(':') + 1),
      status: failed ? 'failed' : 'completed',
      attempts: failed ? 2 : 1,
      startedAt: 1_700_000_000_000 + i,
      // Ties, and durations that show alike (1.234 and 1.2349 ms): the slowest keep their order.
      durationMs: [(i * 7919) % 1000, 1.234, 1.2349, 12_345, (i % 13) * 0.5][i % 5]!,
      queuedMs: i % 4,
      ...(failed
        ? { error: { name: 'Error', message: `item ${i} failed\nmore`, code: undefined } }
        : { output: { i, text: 'x'.repeat(100) } }),
    } as TaskRecord);
  }
  await store.recordTasks('big', records);
  await store.finishRun('big', 'completed');
  return store;
}

/** The store, seen by `weft show`: reading everything at once fails; streams are noted. */
function streamedOnly(store: Store): { store: Store; streams: StreamTasksOptions[] } {
  const streams: StreamTasksOptions[] = [];
  const wrapped = Object.create(store) as Store;
  wrapped.listTasks = () => Promise.reject(new Error('listTasks reads every task at once'));
  wrapped.completedOutputs = () => Promise.reject(new Error('completedOutputs reads every output'));
  wrapped.streamTasks = (runId, options = {}) => {
    streams.push(options);
    return store.streamTasks(runId, options);
  };
  return { store: wrapped, streams };
}

/** What `weft show` prints, and in how many writes. */
async function shown(
  store: Store,
  options: ShowOptions,
): Promise<{ text: string; writes: number }> {
  const chunks: string[] = [];
  // A small buffer, so that the writer waits for it to drain.
  const output = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      setImmediate(callback);
    },
  });
  await printRun(store, 'big', options, output);
  return { text: chunks.join(''), writes: chunks.length };
}

const taskHeaders = ['KEY', 'TASK', 'STATUS', 'TRIES', 'STARTED', 'TOOK', 'WAITED'];
const row = (t: TaskRecord) => [
  t.key,
  t.task,
  t.status,
  String(t.attempts),
  when(t.startedAt),
  duration(t.durationMs),
  duration(t.queuedMs ?? 0),
];

describe('weft show reads tasks as a stream', () => {
  it('the text view: counts, exact medians and the slowest ten, read without outputs', async () => {
    const original = await recordedRun();
    const all = await original.listTasks('big');
    const { store, streams } = streamedOnly(original);
    const { text } = await shown(store, {});
    assert.deepEqual(streams, [{ outputs: false }]);
    assert.match(text, /^ {2}tasks 3,000: 2,970 completed, 30 failed$/m);
    // Each fan-out's median and maximum, as sorting all its durations gives them.
    const scopes = [...new Set(all.map((t) => t.key.slice(0, t.key.lastIndexOf('/'))))];
    const fanOuts = scopes.map((scope) => {
      const group = all.filter((t) => t.key.slice(0, t.key.lastIndexOf('/')) === scope);
      const sorted = group.map((t) => t.durationMs).sort((a, b) => a - b);
      return [
        scope,
        group.length.toLocaleString('en-US'),
        String(group.filter((t) => t.status === 'failed').length),
        duration(sorted[Math.floor(sorted.length / 2)]!),
        duration(sorted.at(-1)!),
      ];
    });
    assert.ok(text.includes(table(['FAN-OUT', 'TASKS', 'FAILED', 'MEDIAN', 'MAX'], fanOuts)));
    const slowest = [...all].sort((a, b) => b.durationMs - a.durationMs).slice(0, 10);
    assert.ok(text.includes(`slowest tasks:\n${table(taskHeaders, slowest.map(row))}\n`), text);
    const failed = all.filter((t) => t.status === 'failed');
    assert.match(text, new RegExp(`${failed[19]!.key} \\(.*\\n {2}… 10 more \\(--all\\)\\n`));
    assert.ok(!text.includes(failed[20]!.key));
  });

  it('--all lists every failure and every task, a line as each is read, aligned as one table', async () => {
    const original = await recordedRun();
    const all = await original.listTasks('big');
    const { store, streams } = streamedOnly(original);
    const { text, writes } = await shown(store, { all: true });
    assert.ok(streams.every((options) => options.outputs === false));
    assert.ok(writes > 1, 'written in parts');
    assert.ok(text.endsWith(`tasks:\n${table(taskHeaders, all.map(row))}\n`));
    const failures = text.slice(text.indexOf('failed tasks:\n'), text.indexOf('\n\ntasks:'));
    assert.deepEqual(
      failures
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(' ')[0]),
      all.filter((t) => t.status === 'failed').map((t) => t.key),
    );
  });

  it('--json streams { run, applications, tasks }, outputs included, as one JSON document would', async () => {
    const original = await recordedRun();
    const { store, streams } = streamedOnly(original);
    const { text, writes } = await shown(store, { json: true });
    assert.deepEqual(streams, [{}]);
    assert.ok(writes > 1, 'written in parts');
    const run = await original.getRun('big');
    const tasks = await original.listTasks('big');
    // The same text as the whole document built at once, as weft show wrote it before.
    assert.equal(
      text,
      `${JSON.stringify({ run: { ...run, status: 'completed' }, applications: [], tasks }, null, 2)}\n`,
    );
  });

  it('--json of a run without tasks is still a whole document', async () => {
    const store = new MemoryStore();
    await store.openRun('big');
    await store.finishRun('big', 'completed');
    const { text } = await shown(streamedOnly(store).store, { json: true });
    const parsed = JSON.parse(text);
    assert.deepEqual(parsed.tasks, []);
    assert.deepEqual(parsed.applications, []);
    assert.equal(parsed.run.id, 'big');
  });
});
