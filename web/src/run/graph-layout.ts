/**
 * Where a run graph's nodes and edges go, computed by dagre. Pure: the page hands in
 * dagre (loaded only when a run has a graph) and draws what comes out. Very large graphs
 * are cut to their first `maxNodes` nodes, and say how many were left out.
 */
import type * as dagre from '@dagrejs/dagre';
import type { GraphEdge, GraphNode, RunGraph } from '../../../src/ui/api-types.ts';

/** What the layout needs of dagre's module. */
export type Dagre = Pick<typeof dagre, 'graphlib' | 'layout'>;

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface PlacedNode {
  readonly node: GraphNode;
  /** The label as drawn (cut short when long). */
  readonly text: string;
  /** Centre. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedEdge {
  readonly edge: GraphEdge;
  readonly points: readonly Point[];
  readonly labelAt?: Point;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly PlacedEdge[];
  /** Nodes not drawn (over `maxNodes`). */
  readonly omitted: number;
}

/** The most nodes drawn for one graph: more is unreadable and slow to lay out. */
const maxNodes = 300;
const nodeHeight = 30;
const charWidth = 7;
const maxChars = 32;

function shorten(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

/** An edge's label as drawn: cut short when long. */
export function edgeLabelText(label: string): string {
  return shorten(label, 24);
}

/** The width an edge's label takes, as drawn. */
function edgeLabelWidth(label: string): number {
  return edgeLabelText(label).length * 6 + 8;
}

export function layoutGraph(lib: Dagre, graph: RunGraph, limit = maxNodes): GraphLayout {
  const nodes = graph.nodes.slice(0, limit);
  const ids = new Set(nodes.map((node) => node.id));
  const edges = graph.edges.filter((edge) => ids.has(edge.from) && ids.has(edge.to));

  // A transition back to its own action is drawn as a loop beside the node, not by dagre,
  // which routes it through its neighbours.
  const loops = edges.filter((edge) => edge.from === edge.to);
  const links = edges.filter((edge) => edge.from !== edge.to);
  if (links.length === 0 && loops.length === 0) return gridLayout(graph, nodes);
  const g = new lib.graphlib.Graph({ multigraph: true });
  g.setGraph({
    rankdir: graph.kind === 'app' ? 'TB' : 'LR',
    nodesep: 24,
    ranksep: 40,
    edgesep: 12,
    marginx: 8,
    marginy: 8,
  });
  g.setDefaultEdgeLabel(() => ({}));
  const texts = new Map<string, string>();
  for (const node of nodes) {
    const text = shorten(node.label, maxChars);
    texts.set(node.id, text);
    g.setNode(node.id, { width: text.length * charWidth + 28, height: nodeHeight });
  }
  links.forEach((edge, index) => {
    g.setEdge(
      edge.from,
      edge.to,
      edge.label
        ? { width: edgeLabelWidth(edge.label), height: 14, labelpos: 'c', minlen: 1 }
        : { minlen: 1 },
      String(index),
    );
  });
  lib.layout(g);

  const placed: PlacedNode[] = nodes.map((node) => {
    const at = g.node(node.id) as { x: number; y: number; width: number; height: number };
    return {
      node,
      text: texts.get(node.id) ?? node.label,
      x: at.x,
      y: at.y,
      width: at.width,
      height: at.height,
    };
  });
  const routed: PlacedEdge[] = links.map((edge, index) => {
    const at = g.edge(edge.from, edge.to, String(index)) as {
      points?: Point[];
      x?: number;
      y?: number;
    };
    const labelAt =
      edge.label && at.x !== undefined && at.y !== undefined ? { x: at.x, y: at.y } : undefined;
    return { edge, points: at.points ?? [], ...(labelAt ? { labelAt } : {}) };
  });
  const byId = new Map(placed.map((node) => [node.node.id, node]));
  let right = 0;
  for (const edge of loops) {
    const node = byId.get(edge.from)!;
    const loop = selfLoop(node, edge);
    routed.push(loop);
    const labelWidth = edge.label ? edgeLabelWidth(edge.label) : 0;
    right = Math.max(right, node.x + node.width / 2 + loopReach + labelWidth);
  }
  const size = g.graph() as { width?: number; height?: number };
  return {
    width: Math.max(1, size.width ?? 1, right + 8),
    height: Math.max(1, size.height ?? 1),
    nodes: placed,
    edges: routed,
    omitted: graph.nodes.length - nodes.length,
  };
}

/** How far a loop reaches right of its node. */
const loopReach = 28;

/** A loop from a node's right side back into it, its label beyond it. */
function selfLoop(node: PlacedNode, edge: GraphEdge): PlacedEdge {
  const side = node.x + node.width / 2;
  const top = node.y - node.height / 4;
  const bottom = node.y + node.height / 4;
  const points = [
    { x: side, y: top },
    { x: side + loopReach, y: top - 10 },
    { x: side + loopReach, y: bottom + 10 },
    { x: side + 2, y: bottom },
  ];
  return {
    edge,
    points,
    // Labels are drawn centred on their point.
    ...(edge.label
      ? {
          labelAt: {
            x: side + loopReach + 6 + (edgeLabelText(edge.label).length * 6) / 2,
            y: node.y,
          },
        }
      : {}),
  };
}

/**
 * Nodes without edges (a dag whose dependencies were not recorded) in rows, about twice
 * as wide as tall: dagre would put them all in one rank, a column hundreds of nodes long.
 */
function gridLayout(graph: RunGraph, nodes: readonly GraphNode[]): GraphLayout {
  const margin = 8;
  const gap = 16;
  const texts = nodes.map((node) => shorten(node.label, maxChars));
  const cell = Math.max(60, ...texts.map((text) => text.length * charWidth + 28));
  const columns = Math.max(
    1,
    Math.round(Math.sqrt((nodes.length * 2 * (nodeHeight + gap)) / (cell + gap))),
  );
  const placed = nodes.map((node, index) => ({
    node,
    text: texts[index]!,
    x: margin + (index % columns) * (cell + gap) + cell / 2,
    y: margin + Math.floor(index / columns) * (nodeHeight + gap) + nodeHeight / 2,
    width: cell,
    height: nodeHeight,
  }));
  const rows = Math.ceil(nodes.length / columns);
  return {
    width: 2 * margin + Math.min(columns, nodes.length) * (cell + gap) - gap,
    height: 2 * margin + rows * (nodeHeight + gap) - gap,
    nodes: placed,
    edges: [],
    omitted: graph.nodes.length - nodes.length,
  };
}

/** A smooth SVG path through dagre's points (quadratic curves between midpoints). */
export function edgePath(points: readonly Point[]): string {
  if (points.length === 0) return '';
  const [first, ...rest] = points;
  if (rest.length === 0) return `M${first!.x},${first!.y}`;
  let path = `M${first!.x},${first!.y}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const control = rest[i]!;
    const nextPoint = rest[i + 1]!;
    path += ` Q${control.x},${control.y} ${(control.x + nextPoint.x) / 2},${(control.y + nextPoint.y) / 2}`;
  }
  const last = rest[rest.length - 1]!;
  return `${path} L${last.x},${last.y}`;
}

/** A key that changes only when the graph's shape does (not its statuses). */
export function shapeKey(graph: RunGraph): string {
  return JSON.stringify([
    graph.kind,
    graph.nodes.map((node) => [node.id, node.label]),
    graph.edges.map((edge) => [edge.from, edge.to, edge.label ?? '']),
  ]);
}
