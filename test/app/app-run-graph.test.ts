/**
 * An application tells its structure as it starts: one `run:graph` event of kind `app`
 * per run it is driven in (by run, iterate or step), its actions and its transitions
 * labelled with their conditions, kept with the run in a SQLite file. Sub-applications of
 * a parallel action tell none: their parent's action stands for them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type AppStartEvent,
  openStore,
  type RunGraphEvent,
  type Store,
  type WeftEvent,
  withRun,
} from 'weftjs';
import { ApplicationBuilder, action, defaultTransition, expr, when } from 'weftjs/app';
import { burrMapReduce, inputs3, outputs9, parentApp } from './support/parallel.ts';

let folder: string;
let store: Store;
let viewer: Store;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'weft-app-graph-'));
  const url = `sqlite:${join(folder, 'weft.db')}`;
  store = await openStore(url);
  // Events are read as a viewer of the run reads them: through a connection of its own.
  viewer = await openStore(url);
});
after(async () => {
  await Promise.all([store.close(), viewer.close()]);
  await rm(folder, { recursive: true, force: true });
});

function graphsOf(events: readonly WeftEvent[]): RunGraphEvent[] {
  return events.filter((event): event is RunGraphEvent => event.type === 'run:graph');
}

/** count → count while count < 3, then check → done when ok, else back to count. */
function counter(appId: string) {
  const count = action({ reads: ['count'], writes: ['count'] }, (state) =>
    state.update({ count: state.get('count') + 1 }),
  );
  const check = action({ reads: ['count'], writes: ['ok'] }, (state) =>
    state.update({ ok: state.get('count') >= 3 }),
  );
  const done = action({ reads: [], writes: [] }, (state) => state);
  return new ApplicationBuilder()
    .withActions({ count, check, done })
    .withTransitions(
      ['count', 'count', expr('count < 3')],
      ['count', 'check', defaultTransition],
      ['check', 'done', when({ ok: true }).and(expr('count >= 3'))],
      ['check', 'count'],
    )
    .withState({ count: 0 })
    .withEntrypoint('count')
    .withIdentifiers({ appId })
    .build();
}

describe('run:graph of an application', () => {
  it('tells its actions and transitions with their conditions, once per run', async () => {
    const runId = 'app-graph-run';
    const app = counter('graph-counter');
    await withRun({ store, runId }, async () => {
      // Driven twice in the same run: one graph.
      await app.run({ haltAfter: ['check'] });
      await app.run({ haltAfter: ['done'] });
    });
    const events = await viewer.listEvents(runId);
    const graphs = graphsOf(events);
    assert.equal(graphs.length, 1);
    const [graph] = graphs as [RunGraphEvent];
    const start = events.find((event): event is AppStartEvent => event.type === 'app:start');
    assert.ok(start);
    assert.equal(events.indexOf(graph), events.indexOf(start) + 1, 'right after app:start');
    assert.equal(graph.kind, 'app');
    assert.equal(graph.id, 'graph-counter');
    assert.equal(graph.label, 'graph-counter');
    assert.equal(graph.scope, start.scope);
    assert.deepEqual(graph.nodes, [
      { id: 'count', label: 'count' },
      { id: 'check', label: 'check' },
      { id: 'done', label: 'done' },
    ]);
    assert.deepEqual(graph.edges, [
      { from: 'count', to: 'count', label: "expr('count < 3')" },
      { from: 'count', to: 'check' },
      { from: 'check', to: 'done', label: "(when(ok=true) and expr('count >= 3'))" },
      { from: 'check', to: 'count' },
    ]);

    // Driven in another run, it tells its graph there too.
    await withRun({ store, runId: 'app-graph-again' }, () => counter('graph-counter').run());
    assert.equal(graphsOf(await viewer.listEvents('app-graph-again')).length, 1);
  });

  it('is told when the application is driven by step() alone', async () => {
    const runId = 'app-graph-step';
    await withRun({ store, runId }, async () => {
      const app = counter('graph-stepped');
      await app.step();
      await app.step();
    });
    const graphs = graphsOf(await viewer.listEvents(runId));
    assert.deepEqual(
      graphs.map((graph) => [graph.kind, graph.id, graph.nodes.length, graph.edges.length]),
      [['app', 'graph-stepped', 3, 4]],
    );
  });

  it("is the parent's alone when a parallel action spawns sub-applications", async () => {
    const runId = 'app-graph-parallel';
    const outputs = await withRun({ store, runId }, async () => {
      const app = parentApp(burrMapReduce(), { appId: 'graph-parent' });
      const { state } = await app.run({ haltAfter: ['final_action'], inputs: inputs3 });
      return state.get('output_numbers_in_state');
    });
    assert.deepEqual(outputs, outputs9);
    const events = await viewer.listEvents(runId);
    const children = events.filter(
      (event) => event.type === 'app:start' && event.parentAppId === 'graph-parent',
    );
    assert.equal(children.length, 9, 'nine sub-applications started');
    const graphs = graphsOf(events);
    assert.deepEqual(
      graphs.map((graph) => [graph.kind, graph.id]),
      [['app', 'graph-parent']],
    );
    assert.deepEqual(
      graphs[0]!.nodes.map((node) => node.id),
      ['initial_action', 'map_action', 'final_action'],
    );
  });
});
