/**
 * ForEach tasks on worker threads and processes. The worker imports the module that
 * created the flow, finds the flow by name and the layer in it, and runs the layer's
 * function on the views sent along (accessors arrive as in-memory copies); what the
 * function sets comes back and is stored by the flow.
 */
import { importDefinitions } from '../core/definitions.ts';
import { DuplicateTaskError, ValidationError } from '../core/errors.ts';
import { task } from '../core/task.ts';
import { Accessor } from './accessor.ts';
import type { Flow } from './flow.ts';
import { type LayerOutput, makeSelf, strictView } from './layer.ts';

/** An accessor's element on the wire: a value, or a nested accessor's elements. */
export type WireItem = { readonly v: unknown } | { readonly a: readonly WireItem[] };

/** An upstream view on the wire: plain values, and accessors as their elements, by attribute. */
export interface WireView {
  readonly values: ReadonlyMap<string, unknown>;
  readonly accessors: ReadonlyMap<string, readonly WireItem[]>;
}

function rebuild(items: readonly WireItem[], label: string): Accessor {
  return Accessor.of(
    items.map((item, i) => ('a' in item ? rebuild(item.a, `${label}[${i}]`) : item.v)),
    label,
  );
}

interface RemoteLayerInput {
  readonly flow: string;
  readonly layer: string;
  readonly index: number;
  readonly splits: number;
  readonly attempt: number;
  readonly views: readonly WireView[];
}

/** Flows by name, and the module that created each, shared by copies of this module. */
const registryKey = Symbol.for('weft.flowRegistry');
const globals = globalThis as typeof globalThis & {
  [registryKey]?: Map<string, { module: string | undefined; flow: Flow }>;
};
const registry = globals[registryKey] ?? new Map();
globals[registryKey] = registry;

/** Remembers a flow so that workers can find it by name after importing `module`. */
export function registerFlow(module: string | undefined, flow: Flow): void {
  const known = registry.get(flow.name);
  // The same module evaluated again replaces its flow; another module may not reuse the name.
  if (known && known.flow !== flow && known.module !== module) {
    throw new DuplicateTaskError(
      `Two flows are named '${flow.name}': one created in ${known.module ?? 'an unknown module'}, ` +
        `another in ${module ?? 'an unknown module'}. Workers and artifacts find flows by name: rename one.`,
    );
  }
  registry.set(flow.name, { module, flow });
}

/** Runs one ForEach task in a worker. */
export const remoteLayerTask = task(
  'weft:flow/runLayerTask',
  async (input: RemoteLayerInput & { readonly module?: string }, ctx): Promise<LayerOutput> => {
    let entry = registry.get(input.flow);
    if (!entry && input.module) {
      await importDefinitions(input.module);
      entry = registry.get(input.flow);
    }
    const layer = entry?.flow.getLayer(input.layer);
    if (!layer) {
      throw new ValidationError(
        `Flow ${input.flow} with a layer ${input.layer} is not defined in this worker: create the flow at the top level of its module.`,
      );
    }
    const views = input.views.map((view, index) => {
      const attributes = new Map(view.values);
      for (const [attribute, items] of view.accessors) {
        attributes.set(attribute, rebuild(items, attribute));
      }
      return strictView(layer.upstream[index]?.name ?? input.layer, attributes);
    });
    const { self, output } = makeSelf(
      input.layer,
      input.index,
      input.splits,
      input.attempt,
      ctx.signal,
    );
    await layer.fn(self, ...views);
    return output;
  },
);

/** The module that created the flow named `name`, for workers to import. */
export function flowModule(name: string): string | undefined {
  return registry.get(name)?.module;
}
