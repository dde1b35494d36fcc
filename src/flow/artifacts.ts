/**
 * Where a flow's attributes live: every plain attribute, every shard element and every
 * ForEach task's attribute is one artifact of the run, under
 * `<flow>/<layer>/<task>/<attribute>[/<element>]`. What a layer wrote is summed up in a
 * {@link LayerInfo}, recorded with the run, so that downstream layers (and a resumed run)
 * know each attribute's kind and length without reading a value.
 */
import { StoreError, ValidationError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { defaultSerializer } from '../stores/serializer.ts';
import { Accessor } from './accessor.ts';
import type { LayerOutput } from './layer.ts';
import { inWindows } from './windows.ts';

/** What one task of a layer wrote: attribute names, and the length of each shard. */
export interface TaskManifest {
  /** The task's number. */
  readonly i: number;
  /** Plain attributes. */
  readonly v: readonly string[];
  /** Sharded attributes and their lengths. */
  readonly s: Readonly<Record<string, number>>;
}

/** What a whole layer wrote. */
export interface LayerInfo {
  /** Number of tasks: 1 without ForEach. */
  readonly tasks: number;
  readonly foreach: boolean;
  /** Each attribute's kind. */
  readonly kinds: Readonly<Record<string, 'value' | 'shard'>>;
  /** For sharded attributes: the length in each task. */
  readonly lengths: Readonly<Record<string, readonly number[]>>;
}

/** Reads and writes one run's flow artifacts. */
export class FlowArtifacts {
  readonly store: Store;
  readonly runId: string;
  readonly flow: string;
  readonly #values = new Map<string, Promise<unknown>>();
  readonly #accessors = new Map<string, Accessor>();

  constructor(store: Store, runId: string, flow: string) {
    this.store = store;
    this.runId = runId;
    this.flow = flow;
  }

  key(layer: string, task: number, attribute: string, element?: number): string {
    const base = `${this.flow}/${layer}/${task}/${attribute}`;
    return element === undefined ? base : `${base}/${element}`;
  }

  /** Stores what a task wrote and returns its manifest. */
  async write(layer: string, task: number, output: LayerOutput): Promise<TaskManifest> {
    const writes: (() => Promise<void>)[] = [];
    for (const [attribute, value] of Object.entries(output.values)) {
      const key = this.key(layer, task, attribute);
      writes.push(() => this.#put(key, value));
    }
    const lengths: Record<string, number> = {};
    for (const [attribute, elements] of Object.entries(output.shards)) {
      lengths[attribute] = elements.length;
      elements.forEach((element, i) => {
        const key = this.key(layer, task, attribute, i);
        writes.push(() => this.#put(key, element));
      });
    }
    await inWindows(writes.length, (i) => writes[i]!());
    return { i: task, v: Object.keys(output.values), s: lengths };
  }

  async #put(key: string, value: unknown): Promise<void> {
    const text = defaultSerializer.encode(value, key);
    await this.store.putArtifact(this.runId, key, Buffer.from(text));
  }

  /** Reads one artifact. */
  async read(key: string): Promise<unknown> {
    const bytes = await this.store.getArtifact(this.runId, key);
    if (bytes === undefined) {
      throw new StoreError(
        `Artifact '${key}' of run '${this.runId}' is missing from ${this.store.location}: ` +
          'run the flow again with the same run id to write it.',
      );
    }
    return defaultSerializer.decode(Buffer.from(bytes).toString('utf8'));
  }

  /** A plain attribute of a layer without ForEach, read once per run. */
  value(layer: string, attribute: string): Promise<unknown> {
    const key = this.key(layer, 0, attribute);
    let found = this.#values.get(key);
    if (!found) {
      found = this.read(key);
      this.#values.set(key, found);
    }
    return found;
  }

  /** An attribute as downstream layers see it: a value, or an Accessor (one per attribute). */
  attribute(layer: string, info: LayerInfo, attribute: string): Promise<unknown> | Accessor {
    const key = `${layer}.${attribute}`;
    let made = this.#accessors.get(key);
    if (!made) {
      const found = this.#attribute(layer, info, attribute);
      if (!(found instanceof Accessor)) return found;
      made = found;
      this.#accessors.set(key, made);
    }
    return made;
  }

  #attribute(layer: string, info: LayerInfo, attribute: string): Promise<unknown> | Accessor {
    const kind = info.kinds[attribute];
    if (kind === undefined && info.tasks === 0) {
      throw new ValidationError(
        `Layer ${layer} ran no tasks (its ForEach grid is empty), so it has no attribute '${attribute}'.`,
      );
    }
    if (kind === undefined) {
      throw new ValidationError(
        `Layer ${layer} has no attribute '${attribute}'; it has ${Object.keys(info.kinds).join(', ') || 'none'}.`,
      );
    }
    const label = `${layer}.${attribute}`;
    if (!info.foreach) {
      if (kind === 'value') return this.value(layer, attribute);
      return new Accessor(
        info.lengths[attribute]![0]!,
        (i) => this.read(this.key(layer, 0, attribute, i)),
        label,
      );
    }
    if (kind === 'value') {
      return new Accessor(info.tasks, (t) => this.read(this.key(layer, t, attribute)), label);
    }
    return new Accessor(
      info.tasks,
      async (t) =>
        new Accessor(
          info.lengths[attribute]![t]!,
          (i) => this.read(this.key(layer, t, attribute, i)),
          `${label}[${t}]`,
        ),
      label,
    );
  }
}

/** Sums up the manifests of a layer's tasks. */
export class LayerInfoBuilder {
  readonly #layer: string;
  readonly #tasks: number;
  readonly #foreach: boolean;
  readonly #kinds: Record<string, 'value' | 'shard'> = {};
  readonly #lengths: Record<string, number[]> = {};
  /** Tasks that wrote each attribute: every task must write the same ones. */
  readonly #writers: Record<string, number> = {};
  #added = 0;

  constructor(layer: string, tasks: number, foreach: boolean) {
    this.#layer = layer;
    this.#tasks = tasks;
    this.#foreach = foreach;
  }

  add(manifest: TaskManifest): void {
    this.#added++;
    for (const attribute of [...manifest.v, ...Object.keys(manifest.s)]) {
      this.#writers[attribute] = (this.#writers[attribute] ?? 0) + 1;
    }
    for (const attribute of manifest.v) this.#kind(attribute, 'value', manifest.i);
    for (const [attribute, length] of Object.entries(manifest.s)) {
      this.#kind(attribute, 'shard', manifest.i);
      let lengths = this.#lengths[attribute];
      if (!lengths) {
        lengths = new Array<number>(this.#tasks).fill(0);
        this.#lengths[attribute] = lengths;
      }
      lengths[manifest.i] = length;
    }
  }

  #kind(attribute: string, kind: 'value' | 'shard', task: number): void {
    const known = this.#kinds[attribute];
    if (known !== undefined && known !== kind) {
      throw new ValidationError(
        `Layer ${this.#layer}: task ${task} ${kind === 'value' ? 'sets' : 'shards'} '${attribute}', which another task ${known === 'value' ? 'sets' : 'shards'}: every task must write it the same way.`,
      );
    }
    this.#kinds[attribute] = kind;
  }

  build(): LayerInfo {
    for (const [attribute, writers] of Object.entries(this.#writers)) {
      if (writers !== this.#added) {
        throw new ValidationError(
          `Layer ${this.#layer}: ${writers} of ${this.#added} tasks wrote '${attribute}': every task must ` +
            'write the same attributes (set it to null where there is nothing), or downstream reads would fail.',
        );
      }
    }
    return {
      tasks: this.#tasks,
      foreach: this.#foreach,
      kinds: this.#kinds,
      lengths: this.#lengths,
    };
  }
}
