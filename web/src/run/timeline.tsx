/**
 * Where the run's time went: each task a bar on the lane (executor slot) it ran in, on a
 * time axis, coloured by task name, failed ones in red. Drawn on a canvas, since a run
 * can have thousands of tasks; hovering a bar names it.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Timeline, TimelineTask } from '../../../src/ui/api-types.ts';
import { api } from '../api.ts';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { formatCount, formatDuration, formatOffset, formatTime } from '../format.ts';
import { useLoad } from '../hooks.ts';

const gutter = 44;
const axisHeight = 22;
const rightPad = 8;
const palette = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#9c755f',
  '#ff9da7',
  '#8cd17d',
  '#a0cbe8',
  '#d4a6c8',
  '#86bcb6',
];

function laneHeightFor(lanes: number): number {
  if (lanes <= 24) return 18;
  if (lanes <= 64) return 10;
  return Math.max(3, Math.floor(640 / lanes));
}

/** A step between ticks of 1, 2 or 5 × 10ⁿ milliseconds, about `target` long. */
function tickStep(target: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(target, 1)));
  for (const factor of [1, 2, 5, 10]) {
    if (power * factor >= target) return power * factor;
  }
  return power * 10;
}

interface Prepared {
  readonly from: number;
  readonly span: number;
  readonly lanes: number;
  readonly byLane: readonly (readonly TimelineTask[])[];
  /** Task names, the ones that took the most time first, with their colours. */
  readonly colours: ReadonlyMap<string, string>;
}

function prepare(timeline: Timeline): Prepared {
  const lanes = Math.max(timeline.lanes, 1 + Math.max(-1, ...timeline.tasks.map((t) => t.lane)));
  const to = Math.max(timeline.to, ...timeline.tasks.map((t) => t.startedAt + t.durationMs));
  const byLane: TimelineTask[][] = Array.from({ length: lanes }, () => []);
  const timeByName = new Map<string, number>();
  for (const task of timeline.tasks) {
    byLane[task.lane]?.push(task);
    timeByName.set(task.task, (timeByName.get(task.task) ?? 0) + task.durationMs);
  }
  for (const lane of byLane) lane.sort((a, b) => a.startedAt - b.startedAt);
  const names = [...timeByName.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
  const colours = new Map(names.map((name, index) => [name, palette[index % palette.length]!]));
  return { from: timeline.from, span: Math.max(1, to - timeline.from), lanes, byLane, colours };
}

function cssColour(element: Element, name: string, fallback: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || fallback;
}

function TimelineChart({ timeline }: { readonly timeline: Timeline }) {
  const prepared = useMemo(() => prepare(timeline), [timeline]);
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(800);
  const [scheme, setScheme] = useState(0);
  const [hover, setHover] = useState<{ task: TimelineTask; x: number; y: number }>();
  const laneHeight = laneHeightFor(prepared.lanes);
  const height = axisHeight + prepared.lanes * laneHeight + 4;
  const plotWidth = Math.max(1, width - gutter - rightPad);
  const xOf = (time: number) => gutter + ((time - prepared.from) / prepared.span) * plotWidth;

  useLayoutEffect(() => {
    const element = wrap.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setWidth(Math.max(320, element.clientWidth)));
    observer.observe(element);
    setWidth(Math.max(320, element.clientWidth));
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const query = window.matchMedia('(prefers-color-scheme: dark)');
    const redraw = () => setScheme((n) => n + 1);
    query.addEventListener('change', redraw);
    return () => query.removeEventListener('change', redraw);
  }, []);

  // `scheme` is a dependency so that a change of colour scheme redraws.
  useEffect(() => {
    const element = canvas.current;
    const context = element?.getContext('2d');
    if (!element || !context) return;
    const ratio = window.devicePixelRatio || 1;
    element.width = Math.round(width * ratio);
    element.height = Math.round(height * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const text = cssColour(element, '--muted', '#666');
    const grid = cssColour(element, '--grid', '#e5e5e5');
    const bad = cssColour(element, '--bad', '#d1242f');
    context.font = '11px system-ui, sans-serif';
    context.textBaseline = 'middle';

    const step = tickStep(prepared.span / Math.max(1, plotWidth / 90));
    context.fillStyle = text;
    context.strokeStyle = grid;
    context.lineWidth = 1;
    for (let offset = 0; offset <= prepared.span; offset += step) {
      const x = Math.round(xOf(prepared.from + offset)) + 0.5;
      context.beginPath();
      context.moveTo(x, axisHeight - 4);
      context.lineTo(x, height);
      context.stroke();
      context.textAlign = offset === 0 ? 'left' : x > width - 30 ? 'right' : 'center';
      context.fillText(formatOffset(offset, step), x, axisHeight / 2);
    }
    context.textAlign = 'right';
    for (let lane = 0; lane < prepared.lanes; lane++) {
      const y = axisHeight + lane * laneHeight;
      if (laneHeight >= 10) {
        context.fillStyle = text;
        context.fillText(String(lane), gutter - 6, y + laneHeight / 2);
      }
      const tasks = prepared.byLane[lane] ?? [];
      for (const task of tasks) {
        const x = xOf(task.startedAt);
        const w = Math.max(1, (task.durationMs / prepared.span) * plotWidth);
        context.fillStyle =
          task.status === 'failed' ? bad : (prepared.colours.get(task.task) ?? palette[0]!);
        const gap = laneHeight >= 6 ? 1 : 0;
        context.fillRect(x, y + gap, w, laneHeight - 2 * gap);
      }
    }
  }, [prepared, width, height, laneHeight, plotWidth, scheme]);

  const onMove = (event: MouseEvent) => {
    const box = (event.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    const lane = Math.floor((y - axisHeight) / laneHeight);
    const tasks = prepared.byLane[lane];
    if (!tasks || x < gutter) return setHover(undefined);
    const time = prepared.from + ((x - gutter) / plotWidth) * prepared.span;
    const slack = (3 / plotWidth) * prepared.span;
    const task = tasks.find(
      (t) => t.startedAt - slack <= time && time <= t.startedAt + t.durationMs + slack,
    );
    setHover(task ? { task, x, y } : undefined);
  };

  const names = [...prepared.colours.entries()];
  return (
    <>
      <div class="timeline-canvas" ref={wrap}>
        <canvas
          ref={canvas}
          style={{ width: `${width}px`, height: `${height}px` }}
          role="img"
          aria-label={`Timeline of ${timeline.tasks.length} tasks on ${prepared.lanes} lanes over ${formatDuration(prepared.span)}`}
          onMouseMove={onMove}
          onMouseLeave={() => setHover(undefined)}
        />
        {hover && (
          <div
            class="tooltip"
            role="tooltip"
            style={{
              left: `${Math.min(hover.x + 12, width - 260)}px`,
              top: `${hover.y + 14}px`,
            }}
          >
            <strong>{hover.task.task}</strong>
            {hover.task.status === 'failed' && <span class="bad"> failed</span>}
            <div class="mono">{hover.task.key}</div>
            <div>
              {formatDuration(hover.task.durationMs)} · lane {hover.task.lane} · at +
              {formatDuration(hover.task.startedAt - prepared.from)}
            </div>
          </div>
        )}
      </div>
      <ul class="legend timeline-legend" aria-label="Task names">
        {names.slice(0, 24).map(([name, colour]) => (
          <li key={name} class="legend-item">
            <span class="swatch" style={{ background: colour }} />
            {name}
          </li>
        ))}
        {names.length > 24 && <li class="muted">… {names.length - 24} more names</li>}
        <li class="legend-item">
          <span class="swatch swatch-bad" />
          failed
        </li>
      </ul>
    </>
  );
}

function TimelineCaption({ timeline }: { readonly timeline: Timeline }) {
  return (
    <p class="muted">
      {timeline.sampled
        ? `Showing the ${formatCount(timeline.tasks.length)} longest of ${formatCount(timeline.total)} tasks`
        : `${formatCount(timeline.tasks.length)} tasks`}{' '}
      on {formatCount(timeline.lanes)} lanes, from {formatTime(timeline.from)}, over{' '}
      {formatDuration(Math.max(0, timeline.to - timeline.from))}.
    </p>
  );
}

/** The most tasks asked for: the server sends the longest ones of a larger run. */
const timelineLimit = 2000;

export function TimelineSection({
  runId,
  version,
}: {
  readonly runId: string;
  readonly version: number;
}) {
  const loaded = useLoad((signal) => api.timeline(runId, timelineLimit, signal), [runId, version]);
  const timeline = loaded.data;
  return (
    <figure class="timeline" data-testid="timeline">
      {loaded.error !== undefined && <ErrorNotice error={loaded.error} />}
      {timeline === undefined ? (
        loaded.error === undefined && <Loading what="the timeline" />
      ) : timeline.tasks.length === 0 ? (
        <p class="muted">No tasks recorded yet.</p>
      ) : (
        <>
          <figcaption>
            <TimelineCaption timeline={timeline} />
          </figcaption>
          <TimelineChart timeline={timeline} />
        </>
      )}
    </figure>
  );
}
