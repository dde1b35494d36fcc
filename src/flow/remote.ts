/**
 * ForEach tasks on worker threads and processes. Flows are registered in the engine's
 * registry of definitions (kind `flow`, by name and creating module); a worker resolves
 * the flow from the reference sent along, finds the layer in it, and runs the layer's
 * function on the views sent along (accessors arrive as in-memory copies); what the
 * function sets comes back and is stored by the flow.
 */
import type { CallSite } from '../core/call-site.ts';
import { DuplicateTaskError, ValidationError } from '../core/errors.ts';
import {
  type DefinitionRef,
  definitionRef,
  register,
  registered,
  resolveDefinition,
} from '../core/registry.ts';
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

/** One ForEach task as a worker receives it. */
export interface RemoteLayerInput {
  /** How the worker finds the flow: its name and the module that created it. */
  readonly flow: DefinitionRef;
  readonly layer: string;
  readonly index: number;
  readonly splits: number;
  readonly attempt: number;
  readonly views: readonly WireView[];
}

function rebuild(items: readonly WireItem[], label: string): Accessor {
  return Accessor.of(
    items.map((item, i) => ('a' in item ? rebuild(item.a, `${label}[${i}]`) : item.v)),
    label,
  );
}

/** Registers a flow so that workers find it by name after importing the module that created it. */
export function registerFlow(flow: Flow, site: CallSite | undefined): void {
  const module = site?.module;
  const known = registered<Flow>('flow', flow.name);
  // The same module evaluated again replaces its flow; another module may not reuse the name.
  if (known && known.value !== flow && known.module !== module) {
    throw new DuplicateTaskError(
      `Two flows are named '${flow.name}': one created in ${known.module ?? 'an unknown module'}, ` +
        `another in ${module ?? 'an unknown module'}. Workers and artifacts find flows by name: rename one.`,
    );
  }
  register('flow', flow.name, { value: flow, module, definedAt: site?.location });
}

/**
 * How a worker finds the flow named `name`.
 * @throws ValidationError when the module that created it is unknown (an `eval`, a REPL)
 */
export function flowRef(name: string): DefinitionRef {
  const ref = definitionRef('flow', name, registered('flow', name)?.module);
  if (ref === undefined) {
    throw new ValidationError(
      `Flow ${name} cannot run its layers on workers: the module that created it is not known ` +
        '(an eval, a REPL). Create the flow at the top level of its module.',
    );
  }
  return ref;
}

/** Runs one ForEach task in a worker. */
export const remoteLayerTask = task(
  'weft:flow/runLayerTask',
  async (input: RemoteLayerInput, ctx): Promise<LayerOutput> => {
    const flow = await resolveDefinition<Flow>(input.flow);
    const layer = flow.getLayer(input.layer);
    if (!layer) {
      throw new ValidationError(
        `Flow ${input.flow.name} has no layer ${input.layer} in this worker, which imported ` +
          `${input.flow.module}: add the flow's layers at the top level of its module.`,
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
