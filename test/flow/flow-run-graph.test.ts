/**
 * A flow tells its structure as it starts: one `run:graph` event of kind `flow`, its
 * layers and their dependencies, each layer with the scope of the map that runs its tasks
 * (the scope of that layer's `map:start`, and the prefix of its tasks' keys), kept with the
 * run in a SQLite file. The dag running the layers tells no graph of its own.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  asyncPool,
  type FanOutStartEvent,
  openStore,
  type RunGraphEvent,
  type WeftEvent,
} from 'weftjs';
import { Flow } from 'weftjs/flow';
import { flowName, foreachOver } from './support.ts';

const executor = asyncPool({ concurrency: 4 });
after(() => executor.close());

function graphsOf(events: readonly WeftEvent[]): RunGraphEvent[] {
  return events.filter((event): event is RunGraphEvent => event.type === 'run:graph');
}

function mapStartsOf(events: readonly WeftEvent[]): FanOutStartEvent[] {
  return events.filter((event): event is FanOutStartEvent => event.type === 'map:start');
}

describe('run:graph of a flow', () => {
  it("tells its layers, their dependencies and the scopes of their layers' maps", async () => {
    const folder = await mkdtemp(join(tmpdir(), 'weft-flow-graph-'));
    after(() => rm(folder, { recursive: true, force: true }));
    const url = `sqlite:${join(folder, 'weft.db')}`;
    const store = await openStore(url);
    after(() => store.close());
    const name = flowName('Graph');
    const flow = new Flow(name, { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1, 2, 3] });
    });
    const Process = flow.layer(
      'Process',
      { foreach: foreachOver(Shard, 'foo') },
      (self, shard) => {
        self.set({ v: shard.foo * 10 });
      },
      [Shard],
    );
    const Side = flow.layer('Side', (self) => self.set({ side: true }), [Shard]);
    flow.layer(
      'Join',
      async (self, process) => {
        self.set({ total: (await process.v.toArray()).reduce((a: number, b: number) => a + b, 0) });
      },
      [Process, Side],
    );
    const runId = `${name}-run`;
    await flow.run({ runId });
    // Once more with the same run id: the resumed attempt tells its graph again.
    await flow.run({ runId });

    const viewer = await openStore(url);
    after(() => viewer.close());
    const events = await viewer.listEvents(runId);
    const graphs = graphsOf(events);
    assert.equal(graphs.length, 2, 'one per attempt, and none of kind dag');
    const [graph] = graphs as [RunGraphEvent];
    assert.equal(graph.kind, 'flow');
    assert.equal(graph.id, name);
    assert.equal(graph.label, name);
    const flowStart = events.find(
      (event): event is FanOutStartEvent => event.type === 'dag:start' && event.label === name,
    );
    assert.ok(flowStart, "the flow's dag:start");
    assert.equal(graph.scope, flowStart.scope);
    assert.deepEqual(
      graph.nodes.map(({ id, label }) => ({ id, label })),
      ['Shard', 'Process', 'Side', 'Join'].map((layer) => ({ id: layer, label: layer })),
    );
    assert.deepEqual(graph.edges, [
      { from: 'Shard', to: 'Process' },
      { from: 'Shard', to: 'Side' },
      { from: 'Process', to: 'Join' },
      { from: 'Side', to: 'Join' },
    ]);

    // Every layer's scope is that of a map:start of the run: the map running its tasks.
    const firstAttempt = events.slice(0, events.indexOf(graphs[1]!));
    const starts = new Map(mapStartsOf(firstAttempt).map((start) => [start.scope, start]));
    for (const node of graph.nodes) {
      assert.ok(node.scope, `layer ${node.id} has a scope`);
      assert.ok(starts.has(node.scope), `a map:start of scope ${node.scope}`);
    }
    const process = graph.nodes.find((node) => node.id === 'Process')!;
    const processStart = starts.get(process.scope!)!;
    assert.equal(processStart.label, 'Process');
    assert.equal(processStart.total, 3);
    // Plain layers run one task in a map that does not show itself.
    assert.equal(starts.get(graph.nodes[0]!.scope!)!.hidden, true);
    // The layer's tasks are recorded under its scope.
    const keys = (await viewer.listTasks(runId)).map((record) => record.key);
    for (const node of graph.nodes) {
      const own = keys.filter((key) => key.startsWith(`${node.scope}/`));
      assert.equal(own.length, node.id === 'Process' ? 3 : 1, `tasks of ${node.id}`);
    }
    // The resumed attempt ran its layers' maps under the same scopes.
    assert.deepEqual(graphs[1]!.nodes, graph.nodes);
    const later = new Set(
      mapStartsOf(events.slice(events.indexOf(graphs[1]!))).map((s) => s.scope),
    );
    for (const node of graph.nodes) assert.ok(later.has(node.scope!), node.scope);
  });
});
