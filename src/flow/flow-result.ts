/** What a flow run produced: each layer's attributes, read as a downstream layer would. */
import { ValidationError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { FlowArtifacts, type LayerInfo } from './artifacts.ts';
import type { Layer, LayerView } from './layer.ts';
import { buildView } from './layer-task.ts';

/** What a flow run produced: read any layer's attributes afterwards. */
export class FlowResult {
  /** The flow's name. */
  readonly flow: string;
  /** The run that holds the artifacts: give it to `flow.run({ runId })` to resume. */
  readonly runId: string;
  /** Where the artifacts are. */
  readonly store: Store;
  readonly #infos: Map<string, LayerInfo>;
  readonly #artifacts: FlowArtifacts;
  readonly #ownsStore: boolean;

  /**
   * @param artifacts the run's artifacts, which know how to mark a task whose artifact
   *   reads as damaged; without them such a read says how to have it recomputed
   */
  constructor(
    flow: string,
    store: Store,
    runId: string,
    infos: Map<string, LayerInfo>,
    ownsStore: boolean,
    artifacts: FlowArtifacts = new FlowArtifacts(store, runId, flow),
  ) {
    this.flow = flow;
    this.store = store;
    this.runId = runId;
    this.#infos = infos;
    this.#artifacts = artifacts;
    this.#ownsStore = ownsStore;
  }

  /** What a layer wrote: kinds and lengths of its attributes. */
  info(layer: Layer | string): LayerInfo {
    const name = typeof layer === 'string' ? layer : layer.name;
    const info = this.#infos.get(name);
    if (!info) throw new ValidationError(`Flow ${this.flow} has no layer '${name}'.`);
    return info;
  }

  /** A layer's attributes as a downstream layer would see them (values, or Accessors). */
  async layer(layer: Layer | string): Promise<LayerView> {
    const name = typeof layer === 'string' ? layer : layer.name;
    return buildView(name, this.info(name), this.#artifacts, undefined);
  }

  /** Closes the store when the flow opened it itself. */
  async close(): Promise<void> {
    if (this.#ownsStore) await this.store.close();
  }
}
