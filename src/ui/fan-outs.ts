/** A run's fan-outs with their progress: what its events say, counted from its task records. */
import type { RunQueries } from '../core/store.ts';
import type { FanOutView, TaskCounts } from './api-types.ts';
import type { FanOutFacts, RunEvents } from './run-events.ts';

/**
 * Every fan-out the run's events name, in the order they started, each with its own
 * tasks counted: those whose keys start with its scope, less those of the fan-outs
 * nested in it.
 */
export async function fanOutViews(
  queries: RunQueries,
  runId: string,
  events: RunEvents,
): Promise<FanOutView[]> {
  const facts = [...events.fanOuts.values()];
  if (facts.length === 0) return [];
  const counts = await queries.countTasksByPrefix(
    runId,
    facts.map((fanOut) => `${fanOut.scope}/`),
  );
  const own = new Map(facts.map((fanOut, i) => [fanOut.scope, { ...counts[i]! }]));
  facts.forEach((fanOut, i) => {
    const parent = fanOut.parent === undefined ? undefined : own.get(fanOut.parent);
    if (!parent) return;
    parent.completed -= counts[i]!.completed;
    parent.failed -= counts[i]!.failed;
  });
  // A fan-out whose items leave no records of their own (a flow's dag of layers: each
  // layer is the map nested in it) counts an item done once the fan-outs nested in it
  // ended, and at its end takes what its end event counted.
  const children = new Map<string, FanOutFacts[]>();
  for (const fanOut of facts) {
    if (fanOut.parent === undefined) continue;
    const list = children.get(fanOut.parent) ?? [];
    list.push(fanOut);
    children.set(fanOut.parent, list);
  }
  for (const fanOut of facts) {
    const counted = own.get(fanOut.scope)!;
    if (counted.completed + counted.failed > 0) continue;
    if (fanOut.endedAt !== undefined) {
      counted.completed = fanOut.completed;
      counted.failed = fanOut.failed;
      continue;
    }
    const items = itemsDone(fanOut.scope, children.get(fanOut.scope) ?? []);
    counted.completed = items.completed;
    counted.failed = items.failed;
  }
  return facts.map((fanOut) => viewOf(fanOut, own.get(fanOut.scope)!));
}

/**
 * Items of the fan-out at `scope` whose nested fan-outs all ended, by the item's key
 * segment (the first after the scope): failed when one of them failed.
 */
function itemsDone(scope: string, nested: readonly FanOutFacts[]): TaskCounts {
  const items = new Map<string, FanOutStatus>();
  for (const child of nested) {
    const item = child.scope.slice(scope.length + 1).split('/')[0]!;
    const state = endedAs(child.endedAt, child.error, child.failed);
    const seen = items.get(item);
    if (seen === 'running' || seen === 'failed') continue;
    items.set(item, state === 'running' || state === 'failed' ? state : (seen ?? state));
  }
  let completed = 0;
  let failed = 0;
  for (const state of items.values()) {
    if (state === 'completed') completed++;
    else if (state === 'failed') failed++;
  }
  return { completed, failed };
}

function viewOf(fanOut: FanOutFacts, counted: TaskCounts): FanOutView {
  return {
    scope: fanOut.scope,
    kind: fanOut.kind,
    label: fanOut.label,
    ...(fanOut.parent === undefined ? {} : { parent: fanOut.parent }),
    ...(fanOut.total === undefined ? {} : { total: fanOut.total }),
    // Records a store took in twice (a resumed run's) never make a count negative.
    tasks: { completed: Math.max(0, counted.completed), failed: Math.max(0, counted.failed) },
    startedAt: fanOut.startedAt,
    ...(fanOut.endedAt === undefined ? {} : { endedAt: fanOut.endedAt }),
    hidden: fanOut.hidden,
    ...(fanOut.error === undefined ? {} : { error: fanOut.error }),
  };
}

/** Where a fan-out got: running until it ended, then failed or completed. */
export function fanOutStatus(view: FanOutView): FanOutStatus {
  return endedAs(view.endedAt, view.error, view.tasks.failed);
}

type FanOutStatus = 'running' | 'completed' | 'failed';

/** Running until it ended; then failed when it stopped on an error or a task failed. */
function endedAs(endedAt: number | undefined, error: unknown, failed: number): FanOutStatus {
  if (endedAt === undefined) return 'running';
  return error !== undefined || failed > 0 ? 'failed' : 'completed';
}
