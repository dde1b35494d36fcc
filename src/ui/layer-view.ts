/**
 * A laminar layer of a run: its tasks, and the attributes they wrote with each shard's
 * length, read from the manifests its tasks recorded as their outputs (a flow records,
 * per task, `{ i, v: [plain attributes], s: [[sharded attribute, length], …] }`).
 */
import type { RunQueries, Store } from '../core/store.ts';
import { ApiError, clip } from './api-error.ts';
import type { LayerView } from './api-types.ts';
import type { FanOutFacts, RunEvents } from './run-events.ts';
import { lastSegment } from './run-events.ts';

/**
 * The layer `layer` of the run's flow `flow` (of its only or first flow when not given).
 * @throws ApiError (404) when no flow of the run has that layer
 */
export async function layerView(
  store: Store,
  queries: RunQueries,
  runId: string,
  events: RunEvents,
  layer: string,
  flow?: string,
): Promise<LayerView> {
  const found = findLayer(events, layer, flow);
  if (!found) {
    throw ApiError.notFound(
      `No layer '${clip(layer)}'${flow === undefined ? '' : ` in flow '${clip(flow)}'`} in run '${clip(runId)}'.`,
    );
  }
  const { fanOut, flowName } = found;
  const prefix = `${fanOut.scope}/`;
  const [counted] = await queries.countTasksByPrefix(runId, [prefix]);
  const tasks = Math.max(fanOut.total ?? 0, (counted?.completed ?? 0) + (counted?.failed ?? 0));
  const keys = Array.from({ length: tasks }, (_, i) => `${prefix}${i}`);
  const manifests = await store.findCompleted(runId, keys);
  const attributes = new Map<string, { kind: 'value' | 'shard'; lengths?: number[] }>();
  keys.forEach((key, i) => {
    const manifest = manifests.get(key);
    if (typeof manifest !== 'object' || manifest === null) return;
    const { v, s } = manifest as { v?: unknown; s?: unknown };
    for (const name of Array.isArray(v) ? v : []) {
      if (typeof name === 'string' && !attributes.has(name))
        attributes.set(name, { kind: 'value' });
    }
    for (const [name, length] of shardPairs(s)) {
      let attribute = attributes.get(name);
      if (attribute?.kind !== 'shard') {
        attribute = { kind: 'shard', lengths: new Array<number>(tasks).fill(0) };
        attributes.set(name, attribute);
      }
      attribute.lengths![i] = length;
    }
  });
  return {
    flow: flowName,
    layer,
    tasks,
    foreach: !fanOut.hidden,
    completed: manifests.size,
    attributes: [...attributes].map(([name, attribute]) => ({ name, ...attribute })),
  };
}

/**
 * The fan-out that ran a layer's tasks: a map named after the layer (`task`), run in
 * `<flow dag>/<layer>/task`.
 */
function findLayer(
  events: RunEvents,
  layer: string,
  flow: string | undefined,
): { fanOut: FanOutFacts; flowName: string } | undefined {
  for (const fanOut of events.fanOuts.values()) {
    if (fanOut.kind !== 'map' || fanOut.task !== layer || fanOut.parent === undefined) continue;
    const dag = events.fanOuts.get(fanOut.parent);
    const name = lastSegment(fanOut.parent);
    if (dag?.kind !== 'dag' || !name.startsWith('flow:')) continue;
    const flowName = dag.label;
    if (flow === undefined || flow === flowName) return { fanOut, flowName };
  }
  return undefined;
}

/** A manifest's sharded attributes and lengths: pairs, or an object in older runs. */
function shardPairs(shards: unknown): [string, number][] {
  const entries = Array.isArray(shards)
    ? shards
    : typeof shards === 'object' && shards !== null
      ? Object.entries(shards)
      : [];
  return entries.flatMap((pair: unknown) => {
    if (!Array.isArray(pair)) return [];
    const [name, length] = pair;
    return typeof name === 'string' && Number.isSafeInteger(length)
      ? [[name, length as number]]
      : [];
  });
}
