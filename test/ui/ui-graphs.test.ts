/**
 * The graphs of a run's page: as the run sent them (`run:graph` events: an application's
 * actions and transitions, a flow's layers, a dag's nodes and dependencies), each node
 * with how far it got; and, for runs recorded without them, the same nodes and statuses
 * derived from the other events (an application's transitions as the steps took them; a
 * flow's and a dag's nodes without edges).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asyncPool, dag, MemoryStore, type Store, task, type WeftEvent, withRun } from 'weftjs';
import type { RunDetail, RunGraph } from '../../src/ui/api-types.ts';
import { createUiApp } from '../../src/ui/server.ts';
import { getJson, overriding, recordAppRun, recordFlowRun } from './support.ts';

const executor = asyncPool({ concurrency: 2 });
after(() => executor.close());

const step = task('ui-graphs:step', (x: number) => {
  if (x === 7) throw new Error('seven fails');
  return x;
});

/** A dag: a and b, then `c/x` after both, then 7 (which fails) after it. */
async function recordDagRun(store: Store, runId: string): Promise<void> {
  await assert.rejects(
    withRun({ store, runId }, () =>
      dag(
        [
          { id: 'a', task: step, input: 1 },
          { id: 'b', task: step, input: 2 },
          { id: 'c/x', task: step, dependencies: ['a', 'b'], input: 3 },
          { id: 7, task: step, dependencies: ['c/x'], input: 7 },
        ],
        { executor },
      ),
    ),
    /seven fails/,
  );
}

/** `store` as a store of a weft that sent no graphs: its events without `run:graph`. */
function withoutGraphs(store: Store): Store {
  const kept = (event: WeftEvent) => (event as { type: string }).type !== 'run:graph';
  const queries = store.queries!;
  return overriding(store, {
    listEvents: async (runId: string) => (await store.listEvents(runId)).filter(kept),
    queries: overriding(queries, {
      eventsAfter: async (runId: string, after: number, limit?: number) =>
        (await queries.eventsAfter(runId, after, limit)).filter(({ event }) => kept(event)),
    }),
  });
}

describe('weft ui: graphs', () => {
  const store = new MemoryStore();
  const sent = createUiApp(store);
  const derived = createUiApp(withoutGraphs(store));
  before(async () => {
    await recordAppRun(store, 'app-run', 'graphs-app');
    await recordFlowRun(store, 'flow-run', 'GraphsFlow', executor);
    await recordDagRun(store, 'dag-run');
  });
  after(() => store.close());

  const graphsOf = async (app: typeof sent, runId: string): Promise<RunGraph[]> => {
    const { status, body } = await getJson<RunDetail>(app, `/api/runs/${runId}`);
    assert.equal(status, 200);
    return [...body.graphs];
  };
  const nodes = (graph: RunGraph | undefined) =>
    graph?.nodes.map((node) => [node.id, node.label, node.status]);

  it("shows a dag's nodes and dependencies, each node's status from its task", async () => {
    const [graph] = await graphsOf(sent, 'dag-run');
    assert.equal(graph?.kind, 'dag');
    assert.equal(graph.id, 'dag-run/dag');
    assert.deepEqual(nodes(graph), [
      ['a', 'a', 'completed'],
      ['b', 'b', 'completed'],
      ['c%2Fx', 'c/x', 'completed'],
      ['~7', '7', 'failed'],
    ]);
    assert.deepEqual(
      graph.edges.map((edge) => [edge.from, edge.to]),
      [
        ['a', 'c%2Fx'],
        ['b', 'c%2Fx'],
        ['c%2Fx', '~7'],
      ],
    );
    const [plain] = await graphsOf(derived, 'dag-run');
    assert.equal(plain?.id, 'dag-run/dag');
    assert.deepEqual(nodes(plain), nodes(graph));
    assert.deepEqual(plain.edges, []);
  });

  it("shows a flow's layers and their dependencies", async () => {
    const [graph] = await graphsOf(sent, 'flow-run');
    assert.equal(graph?.kind, 'flow');
    assert.deepEqual(nodes(graph), [
      ['Shard', 'Shard', 'completed'],
      ['Process', 'Process', 'completed'],
      ['Join', 'Join', 'completed'],
    ]);
    assert.deepEqual(
      graph.edges.map((edge) => [edge.from, edge.to]),
      [
        ['Shard', 'Process'],
        ['Process', 'Join'],
      ],
    );
    const [plain] = await graphsOf(derived, 'flow-run');
    assert.deepEqual([plain?.kind, plain?.id], ['flow', 'GraphsFlow']);
    assert.deepEqual(nodes(plain), nodes(graph));
    assert.deepEqual(
      plain?.nodes.map((node) => node.scope),
      graph.nodes.map((node) => node.scope),
    );
  });

  it("shows an application's actions and the transitions its steps took", async () => {
    const [graph] = await graphsOf(sent, 'app-run');
    assert.equal(graph?.kind, 'app');
    assert.equal(graph.id, 'graphs-app');
    const [plain] = await graphsOf(derived, 'app-run');
    assert.deepEqual(nodes(plain), nodes(graph));
    assert.deepEqual(
      plain?.edges,
      graph.edges.filter((edge) => edge.taken),
    );
    // One graph per outermost application: its sub-applications are its action's tasks.
    assert.equal((await graphsOf(derived, 'app-run')).length, 1);
  });
});
