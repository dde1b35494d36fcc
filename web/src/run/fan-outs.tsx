/**
 * The run's fan-outs, nested ones under the fan-out they ran in, hidden ones left out,
 * each with a bar of its progress (completed in green, failed in red) that the run's
 * live progress moves.
 */
import { useState } from 'preact/hooks';
import type { FanOutView } from '../../../src/ui/api-types.ts';
import { ErrorChain } from '../components/error-chain.tsx';
import { formatCount, formatDuration } from '../format.ts';
import { useNow } from '../hooks.ts';

interface FanOutNode {
  readonly fanOut: FanOutView;
  readonly children: FanOutNode[];
}

/**
 * The visible fan-outs as a forest: a fan-out whose parent is hidden (or unknown) hangs
 * under the nearest visible ancestor, or at the top.
 */
function fanOutTree(fanOuts: readonly FanOutView[]): FanOutNode[] {
  const byScope = new Map(fanOuts.map((fanOut) => [fanOut.scope, fanOut]));
  const nodes = new Map<string, FanOutNode>();
  for (const fanOut of fanOuts) {
    if (!fanOut.hidden) nodes.set(fanOut.scope, { fanOut, children: [] });
  }
  const roots: FanOutNode[] = [];
  for (const node of nodes.values()) {
    let parent = node.fanOut.parent;
    const seen = new Set<string>();
    while (parent !== undefined && !nodes.has(parent) && !seen.has(parent)) {
      seen.add(parent);
      parent = byScope.get(parent)?.parent;
    }
    const home = parent === undefined ? undefined : nodes.get(parent);
    if (home && home !== node) home.children.push(node);
    else roots.push(node);
  }
  return roots;
}

/** The most fan-outs listed at first; the rest come on request. */
const shownAtFirst = 100;

export function FanOuts({ fanOuts }: { readonly fanOuts: readonly FanOutView[] }) {
  const [all, setAll] = useState(false);
  const now = useNow(fanOuts.some((fanOut) => fanOut.endedAt === undefined) ? 1000 : null);
  const roots = fanOutTree(fanOuts);
  if (roots.length === 0) return <p class="muted">No fan-outs shown for this run.</p>;
  const shown = all ? roots : roots.slice(0, shownAtFirst);
  return (
    <>
      <FanOutList nodes={shown} now={now} />
      {shown.length < roots.length && (
        <button type="button" class="small" onClick={() => setAll(true)}>
          Show {formatCount(roots.length - shown.length)} more fan-outs
        </button>
      )}
    </>
  );
}

function FanOutList({
  nodes,
  now,
}: {
  readonly nodes: readonly FanOutNode[];
  readonly now: number;
}) {
  return (
    <ul class="fanouts">
      {nodes.map((node) => (
        <FanOutItem key={node.fanOut.scope} node={node} now={now} />
      ))}
    </ul>
  );
}

function FanOutItem({ node, now }: { readonly node: FanOutNode; readonly now: number }) {
  const { fanOut } = node;
  const { completed, failed } = fanOut.tasks;
  const done = completed + failed;
  const total = fanOut.total;
  const running = fanOut.endedAt === undefined;
  const scale = total !== undefined && total > 0 ? total : Math.max(done, 1);
  const elapsed = (fanOut.endedAt ?? now) - fanOut.startedAt;
  const state = fanOut.error ? 'failed' : running ? 'running' : 'ended';
  return (
    <li data-testid="fanout" data-scope={fanOut.scope} class={`fanout fanout-${state}`}>
      <div class="fanout-row">
        <span class="fanout-label" title={fanOut.scope}>
          <span class="kind">{fanOut.kind}</span> {fanOut.label}
        </span>
        <div
          class={`bar${total === undefined && running ? ' bar-unknown' : ''}`}
          role="progressbar"
          data-testid="fanout-progress"
          aria-label={`${fanOut.label} progress`}
          aria-valuemin={0}
          aria-valuenow={done}
          aria-valuemax={total}
          aria-valuetext={`${done} of ${total ?? 'unknown'} (${failed} failed)`}
        >
          <span class="bar-ok" style={{ width: `${(completed / scale) * 100}%` }} />
          <span class="bar-bad" style={{ width: `${(failed / scale) * 100}%` }} />
        </div>
        <span class="fanout-count num">
          {formatCount(done)}
          {total !== undefined && ` / ${formatCount(total)}`}
          {failed > 0 && <span class="bad"> · {formatCount(failed)} failed</span>}
        </span>
        <span
          class={`fanout-time num${running ? ' fanout-going' : ' muted'}`}
          title={running ? 'running for' : 'took'}
        >
          {formatDuration(elapsed)}
        </span>
      </div>
      {fanOut.error && (
        <details class="fanout-error">
          <summary class="bad">
            Stopped early: {fanOut.error.name}: {fanOut.error.message}
          </summary>
          <ErrorChain error={fanOut.error} />
        </details>
      )}
      {node.children.length > 0 && <FanOutList nodes={node.children} now={now} />}
    </li>
  );
}
