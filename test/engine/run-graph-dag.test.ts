/**
 * A dag tells its structure as it starts: one `run:graph` event of its nodes (named by
 * their key segments, so that `scope/id` is each node's task key) and their dependencies,
 * kept with the run in a SQLite file and read back from another connection. Streamed
 * nodes are told once the last one arrived; a dag of more than 2,000 nodes, or 20,000
 * dependencies, tells nothing; `graph: false` turns it off and a function rewrites it.
 * The terminal progress display counts the same with the event as without it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type DagId,
  type DagNode,
  type DagOptions,
  dag,
  type FanOutStartEvent,
  inline,
  maxGraphEdges,
  maxGraphNodes,
  openStore,
  type RunGraphEvent,
  type Store,
  task,
  type WeftEvent,
  withRun,
} from 'weftjs';
import { ProgressModel } from '../../src/cli/progress.ts';
import { streamOf } from '../fixtures/compiler-helpers.ts';
import { isValidation } from '../fixtures/map-dag-tasks.ts';

const echo = task('runGraphDag.echo', (x: unknown) => x);

let folder: string;
let url: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'weft-run-graph-dag-'));
  url = `sqlite:${join(folder, 'weft.db')}`;
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

/**
 * Runs `nodes` as a dag in a recorded run of a SQLite file, then reads the run's events
 * and task keys back through a connection of its own.
 */
async function recorded(
  runId: string,
  nodes: Parameters<typeof dag>[0],
  options: DagOptions = {},
): Promise<{ events: WeftEvent[]; keys: string[] }> {
  const store = await openStore(url);
  try {
    await withRun({ store, runId }, () => dag(nodes, { executor: inline(), ...options }));
  } finally {
    await store.close();
  }
  const viewer: Store = await openStore(url);
  try {
    const events = await viewer.listEvents(runId);
    const keys = (await viewer.listTasks(runId)).map((record) => record.key);
    return { events, keys };
  } finally {
    await viewer.close();
  }
}

function graphsOf(events: readonly WeftEvent[]): RunGraphEvent[] {
  return events.filter((event): event is RunGraphEvent => event.type === 'run:graph');
}

function startOf(events: readonly WeftEvent[]): FanOutStartEvent {
  const start = events.find((event): event is FanOutStartEvent => event.type === 'dag:start');
  assert.ok(start, 'a dag:start event');
  return start;
}

/** `count` independent nodes. */
function independent(count: number): DagNode<never, unknown, number>[] {
  return Array.from({ length: count }, (_, i) => ({ id: i, task: echo, input: i }));
}

describe('run:graph of a dag', () => {
  it('tells the nodes by key segment and the dependencies, once, after dag:start', async () => {
    const runId = 'graph-dag-whole';
    const nodes: DagNode<never, unknown, DagId>[] = [
      { id: 'fetch', task: echo, input: 1 },
      { id: 'parse/html', task: echo, input: 2 },
      { id: 1, task: echo, input: 3 },
      { id: '1', task: echo, input: 4, dependencies: [1] },
      // A dependency listed twice is one edge.
      { id: 'sum', task: echo, input: 5, dependencies: ['fetch', 'parse/html', 'fetch', '1'] },
    ];
    const { events, keys } = await recorded(runId, nodes, { name: 'build' });
    const [graph, ...more] = graphsOf(events);
    assert.ok(graph, 'a run:graph event is kept with the run');
    assert.equal(more.length, 0, 'only one');
    const start = startOf(events);
    assert.ok(events.indexOf(start) < events.indexOf(graph), 'after dag:start');
    assert.equal(graph.kind, 'dag');
    assert.equal(graph.scope, start.scope);
    assert.equal(graph.id, start.scope, "the dag's id is its scope");
    assert.equal(graph.label, 'build');
    assert.deepEqual(graph.nodes, [
      { id: 'fetch', label: 'fetch' },
      { id: 'parse%2Fhtml', label: 'parse/html' },
      { id: '~1', label: '1' },
      { id: '1', label: '1' },
      { id: 'sum', label: 'sum' },
    ]);
    assert.deepEqual(graph.edges, [
      { from: '~1', to: '1' },
      { from: 'fetch', to: 'sum' },
      { from: 'parse%2Fhtml', to: 'sum' },
      { from: '1', to: 'sum' },
    ]);
    // A viewer joins each node to its task's record by key.
    assert.deepEqual(
      [...keys].sort(),
      graph.nodes.map((node) => `${graph.scope}/${node.id}`).sort(),
    );
  });

  it('tells streamed nodes once the last one arrived', async () => {
    const runId = 'graph-dag-streamed';
    const nodes: DagNode[] = [
      { id: 'a', task: echo, input: 1 },
      { id: 'b', task: echo, input: 2, dependencies: ['a'] },
      { id: 'c', task: echo, input: 3, dependencies: ['b', 'a'] },
    ];
    const { events } = await recorded(runId, streamOf(nodes));
    const graphs = graphsOf(events);
    assert.equal(graphs.length, 1);
    assert.equal(startOf(events).total, undefined, 'the size was not known at the start');
    assert.deepEqual(
      graphs[0]!.nodes.map((node) => node.id),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(graphs[0]!.edges, [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'a', to: 'c' },
    ]);
  });

  it(`tells a dag of ${maxGraphNodes} nodes, and nothing of a larger one`, async () => {
    assert.equal(maxGraphNodes, 2_000);
    const atBound = graphsOf((await recorded('graph-dag-2000', independent(2_000))).events);
    assert.equal(atBound.length, 1);
    assert.equal(atBound[0]!.nodes.length, 2_000);
    const over = await recorded('graph-dag-2001', independent(2_001));
    assert.equal(graphsOf(over.events).length, 0);
    assert.equal(over.keys.length, 2_001, 'the dag itself ran');
    assert.ok(startOf(over.events), 'and its start is kept');
  });

  it(`tells nothing of a dag of more than ${maxGraphEdges} dependencies`, async () => {
    const roots = independent(200);
    const dependents: DagNode<never, unknown, number>[] = Array.from({ length: 101 }, (_, i) => ({
      id: 1_000 + i,
      task: echo,
      input: i,
      dependencies: roots.map((root) => root.id),
    }));
    assert.ok(101 * 200 > maxGraphEdges);
    const { events } = await recorded('graph-dag-edges', [...roots, ...dependents]);
    assert.equal(graphsOf(events).length, 0);
  });

  it('sends none with graph: false; a function rewrites the event, or drops it', async () => {
    const nodes = (): DagNode[] => [
      { id: 'x', task: echo, input: 1 },
      { id: 'y', task: echo, input: 2, dependencies: ['x'] },
    ];
    const off = await recorded('graph-dag-off', nodes(), { graph: false });
    assert.equal(graphsOf(off.events).length, 0);
    const dropped = await recorded('graph-dag-dropped', nodes(), { graph: () => undefined });
    assert.equal(graphsOf(dropped.events).length, 0);
    const rewritten = await recorded('graph-dag-rewritten', nodes(), {
      graph: (event) => ({ ...event, label: 'Nightly build' }),
    });
    const [graph] = graphsOf(rewritten.events);
    assert.equal(graph?.label, 'Nightly build');
    assert.equal(graph?.nodes.length, 2);
    const store = await openStore('memory:');
    after(() => store.close());
    await assert.rejects(
      withRun({ store, runId: 'graph-dag-bad' }, () =>
        dag(nodes(), { graph: 'yes' as unknown as boolean }),
      ),
      isValidation(/graph must be true, false or a function/),
    );
  });

  it('leaves the progress display as it was', async () => {
    const { events } = await recorded('graph-dag-progress', [
      { id: 'a', task: echo, input: 1 },
      { id: 'b', task: echo, input: 2, dependencies: ['a'] },
    ]);
    assert.equal(graphsOf(events).length, 1);
    const withGraph = new ProgressModel();
    const without = new ProgressModel();
    for (const event of events) {
      const changed = withGraph.apply(event);
      if (event.type === 'run:graph') assert.equal(changed, undefined);
      else without.apply(event);
    }
    assert.deepEqual([...withGraph.fanOuts.values()], [...without.fanOuts.values()]);
    assert.equal(withGraph.summary(1), without.summary(1));
  });
});
