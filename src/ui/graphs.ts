/**
 * The graphs of what a run ran, each node with how far it got: from the `run:graph`
 * events the run sent, else derived from its other events: an application's actions and
 * the transitions its steps took, a flow's layers, a dag's nodes (without their edges,
 * which only a `run:graph` event tells).
 */
import type { RunGraphNode } from '../core/events.ts';
import type { RunQueries } from '../core/store.ts';
import type { FanOutView, GraphEdge, GraphNode, RunGraph } from './api-types.ts';
import { fanOutStatus } from './fan-outs.ts';
import { taskPages } from './queries.ts';
import type { AppFacts, GraphFacts, RunEvents } from './run-events.ts';
import { lastSegment } from './run-events.ts';

type NodeStatus = NonNullable<GraphNode['status']>;

/** Most task records read to find the status of a dag's nodes. */
const dagRecordsRead = 2_000;

/** What the graphs are drawn from: the run's events, fan-outs with counts, and its store. */
export interface GraphSources {
  readonly queries: RunQueries;
  readonly runId: string;
  readonly events: RunEvents;
  readonly fanOuts: readonly FanOutView[];
  /** Whether the run still goes: fan-outs not ended are running only then. */
  readonly going: boolean;
}

/** One graph per application (outermost ones), flow and dag of the run. */
export async function runGraphs(sources: GraphSources): Promise<RunGraph[]> {
  const { events } = sources;
  const byScope = new Map(sources.fanOuts.map((fanOut) => [fanOut.scope, fanOut]));
  const status = (scope: string | undefined): NodeStatus | undefined => {
    const fanOut = scope === undefined ? undefined : byScope.get(scope);
    if (!fanOut) return undefined;
    const got = fanOutStatus(fanOut);
    return got === 'running' && !sources.going ? undefined : got;
  };
  // The latest graph of each thing: a resumed run sends its graphs again.
  const sent = new Map<string, GraphFacts>();
  for (const graph of events.graphs) sent.set(`${graph.kind}\0${graph.id}`, graph);
  const graphs: RunGraph[] = [];
  const drawn = new Set<string>();
  for (const graph of sent.values()) {
    drawn.add(graph.id);
    if (graph.scope !== '') drawn.add(graph.scope);
    if (graph.kind === 'app') graphs.push(appGraph(graph, events.apps.get(graph.id)));
    else if (graph.kind === 'flow') {
      graphs.push({
        ...graph,
        nodes: graph.nodes.map((node) => withStatus(node, status(node.scope))),
      });
    } else graphs.push(await dagGraph(sources, graph, status));
  }
  for (const app of events.apps.values()) {
    const outermost = app.parentAppId === undefined || !events.apps.has(app.parentAppId);
    if (outermost && !drawn.has(app.appId)) graphs.push(derivedAppGraph(app));
  }
  for (const fanOut of sources.fanOuts) {
    if (fanOut.kind !== 'dag' || drawn.has(fanOut.scope)) continue;
    const name = lastSegment(fanOut.scope);
    if (name.startsWith('flow:')) {
      const flow = unescapeSegment(name.slice('flow:'.length));
      if (drawn.has(flow)) continue;
      graphs.push(derivedFlowGraph(fanOut, flow, sources.fanOuts, status));
    } else {
      graphs.push(
        await dagGraph(
          sources,
          {
            kind: 'dag',
            id: fanOut.scope,
            label: fanOut.label,
            scope: fanOut.scope,
            nodes: [],
            edges: [],
          },
          status,
        ),
      );
    }
  }
  return graphs;
}

function withStatus(node: RunGraphNode, status: NodeStatus | undefined): GraphNode {
  return { ...node, ...(status === undefined ? {} : { status }) };
}

/** The status of each action the application ran: that of its last step. */
function actionStatuses(app: AppFacts | undefined): Map<string, NodeStatus> {
  const statuses = new Map<string, NodeStatus>();
  for (const step of app?.steps ?? []) {
    statuses.set(step.action, step.error === undefined ? 'completed' : 'failed');
  }
  return statuses;
}

/** The transitions the application's steps took, as `from\0to`. */
function takenEdges(app: AppFacts | undefined): Set<string> {
  const taken = new Set<string>();
  const steps = app?.steps ?? [];
  for (let i = 1; i < steps.length; i++) taken.add(`${steps[i - 1]!.action}\0${steps[i]!.action}`);
  return taken;
}

function appGraph(graph: GraphFacts, app: AppFacts | undefined): RunGraph {
  const statuses = actionStatuses(app);
  const taken = takenEdges(app);
  return {
    kind: 'app',
    id: graph.id,
    label: graph.label,
    nodes: graph.nodes.map((node) => withStatus(node, statuses.get(node.id) ?? 'pending')),
    edges: graph.edges.map(
      (edge): GraphEdge => ({ ...edge, taken: taken.has(`${edge.from}\0${edge.to}`) }),
    ),
  };
}

/** An application's graph as its steps tell it: its actions run, the transitions taken. */
function derivedAppGraph(app: AppFacts): RunGraph {
  const statuses = actionStatuses(app);
  const edges = [...takenEdges(app)].map((pair): GraphEdge => {
    const [from, to] = pair.split('\0') as [string, string];
    return { from, to, taken: true };
  });
  return {
    kind: 'app',
    id: app.appId,
    label: app.appId,
    nodes: [...statuses].map(([action, status]) => ({ id: action, label: action, status })),
    edges,
  };
}

/** A flow's layers as its events tell them: the fan-out of each layer that started. */
function derivedFlowGraph(
  flow: FanOutView,
  name: string,
  fanOuts: readonly FanOutView[],
  status: (scope: string) => NodeStatus | undefined,
): RunGraph {
  const nodes = fanOuts
    .filter((fanOut) => fanOut.parent === flow.scope && fanOut.kind === 'map')
    .map((layer) => {
      // A layer's tasks run in `<flow>/<layer>/task`.
      const id = unescapeSegment(lastSegment(layer.scope.slice(0, layer.scope.lastIndexOf('/'))));
      return withStatus({ id, label: id, scope: layer.scope }, status(layer.scope));
    });
  return { kind: 'flow', id: name, label: flow.label, nodes, edges: [] };
}

/**
 * A dag's graph: its nodes as sent (else those its task records and nested fan-outs
 * name), each with the status of its task's record, or of the fan-out that runs it.
 */
async function dagGraph(
  sources: GraphSources,
  graph: GraphFacts,
  status: (scope: string) => NodeStatus | undefined,
): Promise<RunGraph> {
  const scope = graph.scope !== '' ? graph.scope : graph.id;
  const prefix = `${scope}/`;
  const recorded = new Map<string, NodeStatus>();
  for await (const tasks of taskPages(sources.queries, sources.runId, prefix)) {
    for (const task of tasks) {
      const segment = task.key.slice(prefix.length);
      if (!segment.includes('/')) recorded.set(segment, task.status);
    }
    if (recorded.size >= dagRecordsRead) break;
  }
  const nodes: GraphNode[] = graph.nodes.map((node) =>
    withStatus(
      node,
      recorded.get(node.id) ?? (node.scope === undefined ? undefined : status(node.scope)),
    ),
  );
  if (graph.nodes.length === 0) {
    const seen = new Set<string>();
    const add = (segment: string, nodeStatus: NodeStatus | undefined) => {
      if (seen.has(segment)) return;
      seen.add(segment);
      const label = unescapeSegment(segment);
      nodes.push(withStatus({ id: segment, label }, nodeStatus));
    };
    for (const [segment, nodeStatus] of recorded) add(segment, nodeStatus);
    for (const fanOut of sources.fanOuts) {
      if (fanOut.parent !== scope) continue;
      const segment = fanOut.scope.slice(prefix.length).split('/')[0]!;
      add(segment, sources.going && fanOut.endedAt === undefined ? 'running' : undefined);
    }
  }
  return { kind: 'dag', id: graph.id, label: graph.label, nodes, edges: [...graph.edges] };
}

/**
 * A key segment as it was named: `/`, `~` and `%` are escaped in keys, and a dag's
 * numeric node id is written after a `~`.
 */
function unescapeSegment(segment: string): string {
  if (/^~-?\d/.test(segment)) return segment.slice(1);
  return segment.replaceAll('%2F', '/').replaceAll('%7E', '~').replaceAll('%25', '%');
}
