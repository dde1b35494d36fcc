/**
 * The run's graphs (app actions and transitions, flow layers, dag nodes) drawn as SVG,
 * laid out by dagre, which is loaded only once a run with a graph is shown. Nodes take
 * their status's colour, taken transitions are drawn strong and the others dashed; a
 * large graph is fitted to the page (or shown at full size, scrolled). A flow's layers
 * can be picked to show their LayerView.
 */
import { useEffect, useId, useMemo, useState } from 'preact/hooks';
import type { GraphNode, RunGraph } from '../../../src/ui/api-types.ts';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { formatCount } from '../format.ts';
import {
  type Dagre,
  edgeLabelText,
  edgePath,
  type GraphLayout,
  layoutGraph,
  shapeKey,
} from './graph-layout.ts';

let dagreLoading: Promise<Dagre> | undefined;
function loadDagre(): Promise<Dagre> {
  dagreLoading ??= import('@dagrejs/dagre');
  return dagreLoading;
}

/** A layer of a flow, picked in its graph. */
export interface PickedLayer {
  readonly flow: string;
  readonly layer: string;
}

export function RunGraphs({
  graphs,
  selectedLayer,
  onSelectLayer,
}: {
  readonly graphs: readonly RunGraph[];
  readonly selectedLayer?: PickedLayer;
  readonly onSelectLayer: (layer: PickedLayer) => void;
}) {
  const [lib, setLib] = useState<Dagre>();
  const [failure, setFailure] = useState<unknown>();
  const wanted = graphs.length > 0;
  useEffect(() => {
    if (wanted) loadDagre().then(setLib, setFailure);
  }, [wanted]);
  if (!wanted) return <p class="muted">This run recorded no graph.</p>;
  if (failure !== undefined) return <ErrorNotice error={failure} />;
  if (!lib) return <Loading what="the graph" />;
  return (
    <>
      {graphs.map((graph) => (
        <GraphView
          key={`${graph.kind}:${graph.id}`}
          lib={lib}
          graph={graph}
          selected={selectedLayer?.flow === graph.id ? selectedLayer.layer : undefined}
          onSelect={
            graph.kind === 'flow'
              ? (layer: string) => onSelectLayer({ flow: graph.id, layer })
              : undefined
          }
        />
      ))}
    </>
  );
}

const statusOrder: readonly NonNullable<GraphNode['status']>[] = [
  'pending',
  'running',
  'completed',
  'failed',
];

function GraphView({
  lib,
  graph,
  selected,
  onSelect,
}: {
  readonly lib: Dagre;
  readonly graph: RunGraph;
  readonly selected: string | undefined;
  readonly onSelect: ((id: string) => void) | undefined;
}) {
  const shape = shapeKey(graph);
  // Laid out again only when the shape changes, not at each status update.
  const layout = useMemo(() => layoutGraph(lib, graph), [lib, shape]);
  const statuses = new Map(graph.nodes.map((node) => [node.id, node.status]));
  const large = layout.width > 900 || layout.height > 520;
  const [fit, setFit] = useState(true);
  const present = statusOrder.filter((status) =>
    graph.nodes.some((node) => node.status === status),
  );
  return (
    <figure class="graph">
      <figcaption class="graph-head">
        <span>
          <span class="kind">{graph.kind}</span> <strong>{graph.label}</strong>{' '}
          <span class="muted">
            {formatCount(graph.nodes.length)} {graph.kind === 'flow' ? 'layers' : 'nodes'}
          </span>
        </span>
        <span class="legend">
          {present.map((status) => (
            <span key={status} class={`legend-item status-${status}`}>
              {status}
            </span>
          ))}
          {graph.kind === 'app' && <span class="legend-item legend-taken">taken</span>}
        </span>
        {large && (
          <button type="button" class="small" onClick={() => setFit(!fit)} aria-pressed={!fit}>
            {fit ? 'Full size' : 'Fit'}
          </button>
        )}
      </figcaption>
      {layout.omitted > 0 && (
        <p class="muted">
          Showing the first {formatCount(layout.nodes.length)} nodes; {formatCount(layout.omitted)}{' '}
          more are left out.
        </p>
      )}
      {graph.kind === 'flow' && onSelect && (
        <p class="muted hint">Pick a layer to see its attributes.</p>
      )}
      <div class={fit ? 'graph-canvas fit' : 'graph-canvas'}>
        <GraphSvg
          graph={graph}
          layout={layout}
          fit={fit}
          statuses={statuses}
          selected={selected}
          onSelect={onSelect}
        />
      </div>
    </figure>
  );
}

function GraphSvg({
  graph,
  layout,
  fit,
  statuses,
  selected,
  onSelect,
}: {
  readonly graph: RunGraph;
  readonly layout: GraphLayout;
  readonly fit: boolean;
  readonly statuses: ReadonlyMap<string, GraphNode['status']>;
  readonly selected: string | undefined;
  readonly onSelect: ((id: string) => void) | undefined;
}) {
  const uid = useId();
  const arrow = `arrow-${uid}`;
  const arrowTaken = `arrow-taken-${uid}`;
  const { width, height } = layout;
  const style = fit
    ? { width: '100%', maxWidth: `${width}px`, height: 'auto', maxHeight: '520px' }
    : { width: `${width}px`, height: `${height}px` };
  return (
    <svg
      data-testid="graph"
      data-graph-id={graph.id}
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="xMidYMin meet"
      style={style}
    >
      <title>{`${graph.kind} ${graph.label}: ${graph.nodes.length} nodes, ${graph.edges.length} edges`}</title>
      <defs>
        <Arrowhead id={arrow} size={8} class="arrow" />
        <Arrowhead id={arrowTaken} size={9} class="arrow-taken" />
      </defs>
      <g class="edges">
        {layout.edges.map(({ edge, points, labelAt }, index) => {
          const taken = edge.taken === true;
          const kind = taken ? 'taken' : graph.kind === 'app' ? 'untaken' : 'plain';
          return (
            <g key={index} class={`edge edge-${kind}`}>
              <path d={edgePath(points)} marker-end={`url(#${taken ? arrowTaken : arrow})`} />
              {edge.label && labelAt && (
                <text x={labelAt.x} y={labelAt.y} class="edge-label">
                  {edgeLabelText(edge.label)}
                </text>
              )}
            </g>
          );
        })}
      </g>
      <g class="nodes">
        {layout.nodes.map(({ node, text, x, y, width: w, height: h }) => {
          const status = statuses.get(node.id) ?? 'none';
          const picked = selected === node.id;
          const title = `${node.label}${status === 'none' ? '' : ` — ${status}`}${node.scope ? ` (${node.scope})` : ''}`;
          const interactive = onSelect
            ? {
                role: 'button' as const,
                // Lower case: an SVG element takes the attribute as it is spelled.
                tabindex: 0,
                'aria-pressed': picked,
                'aria-label': title,
                onClick: () => onSelect(node.id),
                onKeyDown: (event: KeyboardEvent) => {
                  if (event.key === 'Enter' || event.key === ' ') {
                    event.preventDefault();
                    onSelect(node.id);
                  }
                },
              }
            : {};
          return (
            <g
              key={node.id}
              data-testid="graph-node"
              data-node-id={node.id}
              data-status={status}
              class={`node status-${status}${picked ? ' picked' : ''}${onSelect ? ' clickable' : ''}`}
              transform={`translate(${x - w / 2},${y - h / 2})`}
              {...interactive}
            >
              <title>{title}</title>
              <rect width={w} height={h} rx="6" />
              <text x={w / 2} y={h / 2} dominant-baseline="central" text-anchor="middle">
                {text}
              </text>
            </g>
          );
        })}
      </g>
    </svg>
  );
}

/** An arrowhead for the ends of edges, `size` units wide. */
function Arrowhead(props: { readonly id: string; readonly size: number; readonly class: string }) {
  return (
    <marker
      id={props.id}
      viewBox="0 0 10 10"
      refX="9"
      refY="5"
      markerWidth={props.size}
      markerHeight={props.size}
      markerUnits="userSpaceOnUse"
      orient="auto-start-reverse"
    >
      <path d="M0,0 L10,5 L0,10 z" class={props.class} />
    </marker>
  );
}
