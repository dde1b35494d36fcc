/**
 * Where a flow's attributes live: every plain attribute, every shard element and every
 * ForEach task's attribute is one artifact of the run, under
 * `<flow>/<layer>/<task>/<attribute>[/<element>]`. What a task wrote is summed up in its
 * {@link TaskManifest}, recorded with the run, and a layer's manifests in a
 * {@link LayerInfo}, so that downstream layers (and a resumed run) know each attribute's
 * kind and length without reading a value, and a resumed run knows which artifacts an
 * earlier attempt left to check.
 */
import { StoreError, ValidationError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { Accessor } from './accessor.ts';
import { frame, unframe } from './frame.ts';
import type { LayerOutput } from './layer.ts';
import { inWindows, ioInFlight, Limiter } from './windows.ts';

/** What one task of a layer wrote: attribute names, and the length of each shard. */
export interface TaskManifest {
  /** The task's number. */
  readonly i: number;
  /** Plain attributes. */
  readonly v: readonly string[];
  /**
   * Sharded attributes and their lengths, as pairs (an object would turn `__proto__` into
   * a prototype). Runs recorded by earlier versions hold an object here.
   */
  readonly s: readonly (readonly [string, number])[];
}

/** The sharded attributes of a manifest and their lengths, whichever form it was recorded in. */
export function shardLengths(manifest: TaskManifest): readonly (readonly [string, number])[] {
  const shards: unknown = manifest.s;
  if (Array.isArray(shards)) return shards;
  return shards !== null && typeof shards === 'object'
    ? Object.entries(shards as Record<string, number>)
    : [];
}

/** What a whole layer wrote. */
export interface LayerInfo {
  /** Number of tasks: 1 without ForEach. */
  readonly tasks: number;
  readonly foreach: boolean;
  /** Each attribute's kind. */
  readonly kinds: ReadonlyMap<string, 'value' | 'shard'>;
  /** For sharded attributes: the length in each task. */
  readonly lengths: ReadonlyMap<string, readonly number[]>;
}

/** Reads and writes one run's flow artifacts. */
export class FlowArtifacts {
  readonly store: Store;
  readonly runId: string;
  readonly flow: string;
  readonly #values = new Map<string, Promise<unknown>>();
  readonly #accessors = new Map<string, Accessor>();
  /** Checks of earlier tasks' artifacts, a bounded number at once. */
  readonly #checks = new Limiter(ioInFlight);

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
    for (const [attribute, value] of output.values) {
      const key = this.key(layer, task, attribute);
      writes.push(() => this.#put(key, value));
    }
    const lengths: [string, number][] = [];
    for (const [attribute, elements] of output.shards) {
      lengths.push([attribute, elements.length]);
      elements.forEach((element, i) => {
        const key = this.key(layer, task, attribute, i);
        writes.push(() => this.#put(key, element));
      });
    }
    await inWindows(writes.length, (i) => writes[i]!());
    return { i: task, v: [...output.values.keys()], s: lengths };
  }

  async #put(key: string, value: unknown): Promise<void> {
    await this.store.putArtifact(this.runId, key, frame(value, key));
  }

  /**
   * What is wrong with the artifacts a task wrote, or undefined when each is there and
   * whole. Reads them all: a file cut short must be found before anything reads it.
   */
  async damage(layer: string, manifest: TaskManifest): Promise<string | undefined> {
    const keys: string[] = manifest.v.map((attribute) => this.key(layer, manifest.i, attribute));
    for (const [attribute, length] of shardLengths(manifest)) {
      for (let i = 0; i < length; i++) keys.push(this.key(layer, manifest.i, attribute, i));
    }
    let found: string | undefined;
    await inWindows(keys.length, async (i) => {
      if (found !== undefined) return;
      const damage = await this.#checks.run(() => this.#damage(keys[i]!));
      if (damage !== undefined) found ??= damage;
    });
    return found;
  }

  async #damage(key: string): Promise<string | undefined> {
    const bytes = await this.store.getArtifact(this.runId, key);
    if (bytes === undefined) return `artifact '${key}' is missing`;
    const read = unframe(bytes);
    return read.ok ? undefined : `artifact '${key}' is damaged: ${read.damage}`;
  }

  /**
   * Reads one artifact.
   * @throws StoreError (`WEFT_ARTIFACT_MISSING`, `WEFT_ARTIFACT_DAMAGED`) naming the
   *   artifact, where artifacts are kept, and the re-run that writes it again
   */
  async read(key: string): Promise<unknown> {
    const bytes = await this.store.getArtifact(this.runId, key);
    const read = bytes === undefined ? undefined : unframe(bytes);
    if (read?.ok) return read.value;
    const where = artifactsLocation(this.store);
    const what =
      read === undefined ? `is missing from ${where}` : `in ${where} is damaged (${read.damage})`;
    throw new StoreError(
      `Artifact '${key}' of run '${this.runId}' ${what}. Run the flow again with the same run id, ` +
        `flow.run({ runId: '${this.runId}' }) or weft run <file> --run-id ${this.runId}: it checks ` +
        'the artifacts and recomputes the layers and ForEach tasks whose artifacts are missing or damaged.',
      { code: read === undefined ? 'WEFT_ARTIFACT_MISSING' : 'WEFT_ARTIFACT_DAMAGED' },
    );
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
    const kind = info.kinds.get(attribute);
    if (kind === undefined && info.tasks === 0) {
      throw new ValidationError(
        `Layer ${layer} ran no tasks (its ForEach grid is empty), so it has no attribute '${attribute}'.`,
      );
    }
    if (kind === undefined) {
      throw new ValidationError(
        `Layer ${layer} has no attribute '${attribute}'; it has ${[...info.kinds.keys()].join(', ') || 'none'}.`,
      );
    }
    const label = `${layer}.${attribute}`;
    if (!info.foreach) {
      if (kind === 'value') return this.value(layer, attribute);
      return new Accessor(
        info.lengths.get(attribute)![0]!,
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
          info.lengths.get(attribute)![t]!,
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
  readonly #kinds = new Map<string, 'value' | 'shard'>();
  readonly #lengths = new Map<string, number[]>();
  /** Tasks that wrote each attribute: every task must write the same ones. */
  readonly #writers = new Map<string, number>();
  #added = 0;

  constructor(layer: string, tasks: number, foreach: boolean) {
    this.#layer = layer;
    this.#tasks = tasks;
    this.#foreach = foreach;
  }

  add(manifest: TaskManifest): void {
    this.#added++;
    const shards = shardLengths(manifest);
    for (const attribute of manifest.v) this.#wrote(attribute, 'value', manifest.i);
    for (const [attribute, length] of shards) {
      this.#wrote(attribute, 'shard', manifest.i);
      let lengths = this.#lengths.get(attribute);
      if (!lengths) {
        lengths = new Array<number>(this.#tasks).fill(0);
        this.#lengths.set(attribute, lengths);
      }
      lengths[manifest.i] = length;
    }
  }

  #wrote(attribute: string, kind: 'value' | 'shard', task: number): void {
    this.#writers.set(attribute, (this.#writers.get(attribute) ?? 0) + 1);
    const known = this.#kinds.get(attribute);
    if (known !== undefined && known !== kind) {
      throw new ValidationError(
        `Layer ${this.#layer}: task ${task} ${kind === 'value' ? 'sets' : 'shards'} '${attribute}', which another task ${known === 'value' ? 'sets' : 'shards'}: every task must write it the same way.`,
      );
    }
    this.#kinds.set(attribute, kind);
  }

  build(): LayerInfo {
    for (const [attribute, writers] of this.#writers) {
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

/**
 * Where a store keeps artifacts, for messages: the artifacts folder of a store that keeps
 * them as files (SQLite), else the store itself.
 */
function artifactsLocation(store: Store): string {
  const folder = store.artifactsLocation;
  return folder !== undefined
    ? `the artifacts folder ${folder}`
    : `the store ${store.location}`;
}
