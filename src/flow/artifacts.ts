/**
 * Where a flow's attributes live: every plain attribute, every shard element and every
 * ForEach task's attribute is one artifact of the run, under
 * `<flow>/<layer>/<task>/<attribute>[/<element>]`, stored with the task's record in one
 * transaction (so they are there exactly when the task counts as done). What a task wrote
 * is summed up in its {@link TaskManifest}, recorded with the run, and a layer's manifests
 * in a {@link LayerInfo}, so that downstream layers (and a resumed run) know each
 * attribute's kind and length without reading a value, and a resumed run knows which
 * artifacts an earlier attempt left, to find those that are gone by listing the layer's keys.
 */
import { StoreError, toWire, ValidationError } from '../core/errors.ts';
import type { KeyScope } from '../core/keys.ts';
import type { ArtifactWrite, Store, TaskRecord } from '../core/store.ts';
import { Accessor, type ReadRange } from './accessor.ts';
import { frame, type Unframed, unframe } from './frame.ts';
import type { LayerOutput } from './layer.ts';
import { chunksInFlight, inWindows, ioInFlight } from './windows.ts';

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

/**
 * Records a task failed (the record given), so that the next run with the same run id
 * executes it again, and, as it then ran, every layer downstream.
 */
export type MarkTask = (record: TaskRecord) => Promise<void>;

/** Reads and writes one run's flow artifacts. */
export class FlowArtifacts {
  readonly store: Store;
  readonly runId: string;
  readonly flow: string;
  /**
   * The scope of the keys each layer's tasks are recorded under, by layer, as the run's
   * layers set them: what a damaged artifact's task is marked under.
   */
  readonly recordKeys = new Map<string, KeyScope>();
  readonly #mark: MarkTask | undefined;
  readonly #values = new Map<string, Promise<unknown>>();
  readonly #accessors = new Map<string, Accessor>();
  /** Tasks already marked to run again, as `layer/task`. */
  readonly #marked = new Set<string>();

  /**
   * @param mark records a task whose artifact reads as damaged failed, so that the next
   *   run recomputes it; without it (or the layer's record keys) a message says what to do
   */
  constructor(store: Store, runId: string, flow: string, mark?: MarkTask) {
    this.store = store;
    this.runId = runId;
    this.flow = flow;
    this.#mark = mark;
  }

  key(layer: string, task: number, attribute: string, element?: number): string {
    const base = `${this.flow}/${layer}/${task}/${attribute}`;
    return element === undefined ? base : `${base}/${element}`;
  }

  /**
   * What a task wrote, as the artifacts to store with its record (each value framed, see
   * frame.ts), and its manifest. Nothing is written here: the task hands both to its
   * fan-out, which records them in one transaction.
   */
  stage(
    layer: string,
    task: number,
    output: LayerOutput,
  ): { readonly manifest: TaskManifest; readonly writes: ArtifactWrite[] } {
    const writes: ArtifactWrite[] = [];
    for (const [attribute, value] of output.values) {
      const key = this.key(layer, task, attribute);
      writes.push({ key, data: frame(value, key) });
    }
    const lengths: [string, number][] = [];
    for (const [attribute, elements] of output.shards) {
      lengths.push([attribute, elements.length]);
      elements.forEach((element, i) => {
        const key = this.key(layer, task, attribute, i);
        writes.push({ key, data: frame(element, key) });
      });
    }
    return { manifest: { i: task, v: [...output.values.keys()], s: lengths }, writes };
  }

  /**
   * The keys of a layer's artifacts in the store, listed once (reading none): what an
   * earlier attempt's tasks wrote and still have.
   */
  async listLayer(layer: string): Promise<ReadonlySet<string>> {
    const keys = new Set<string>();
    for await (const key of this.store.artifactKeys(this.runId, `${this.flow}/${layer}/`)) {
      keys.add(key);
    }
    return keys;
  }

  /** The first artifact a task wrote that is not among `listed`, if any. */
  missing(layer: string, manifest: TaskManifest, listed: ReadonlySet<string>): string | undefined {
    for (const attribute of manifest.v) {
      const key = this.key(layer, manifest.i, attribute);
      if (!listed.has(key)) return key;
    }
    for (const [attribute, length] of shardLengths(manifest)) {
      for (let i = 0; i < length; i++) {
        const key = this.key(layer, manifest.i, attribute, i);
        if (!listed.has(key)) return key;
      }
    }
    return undefined;
  }

  /**
   * Reads one artifact, which task `task` of `layer` wrote. One that reads as damaged
   * (its length or checksum do not match) has its task marked to run again, since a
   * re-run lists artifacts without reading them.
   * @throws StoreError (`WEFT_ARTIFACT_MISSING`, `WEFT_ARTIFACT_DAMAGED`) naming the
   *   artifact, where artifacts are kept, and the re-run that writes it again
   */
  async read(layer: string, task: number, key: string): Promise<unknown> {
    const bytes = await this.store.getArtifact(this.runId, key);
    const read = bytes === undefined ? undefined : unframe(bytes);
    if (read?.ok) return read.value;
    throw await this.#failure(layer, task, key, read);
  }

  /**
   * Reads many artifacts of a layer, in order: in one batched read when the store has one
   * (`Store.getArtifacts`), else each as {@link read} does, a bounded number at once.
   * Artifacts missing or damaged fail it as they fail `read`: every damaged one has its
   * task marked to run again, and the error is the first such artifact's, in order.
   * @param taskOf the task that wrote `keys[index]`
   * @throws StoreError (`WEFT_ARTIFACT_MISSING`, `WEFT_ARTIFACT_DAMAGED`), as `read`
   */
  async readMany(
    layer: string,
    keys: readonly string[],
    taskOf: (index: number) => number,
  ): Promise<unknown[]> {
    const values = new Array<unknown>(keys.length);
    if (this.store.getArtifacts === undefined) {
      await inWindows(
        keys.length,
        async (i) => {
          values[i] = await this.read(layer, taskOf(i), keys[i]!);
        },
        ioInFlight / chunksInFlight,
      );
      return values;
    }
    const found = await this.store.getArtifacts(this.runId, keys);
    let failure: StoreError | undefined;
    for (let i = 0; i < keys.length; i++) {
      const bytes = found[i];
      const read = bytes === undefined ? undefined : unframe(bytes);
      if (read?.ok) {
        values[i] = read.value;
      } else if (failure === undefined || read !== undefined) {
        const error = await this.#failure(layer, taskOf(i), keys[i]!, read);
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
    return values;
  }

  /**
   * What reading a missing (`read` undefined) or damaged artifact throws; a damaged one has
   * its task marked to run again first.
   */
  async #failure(
    layer: string,
    task: number,
    key: string,
    read: Extract<Unframed, { ok: false }> | undefined,
  ): Promise<StoreError> {
    const where = artifactsLocation(this.store);
    const rerun =
      `Run the flow again with the same run id, flow.run({ runId: '${this.runId}' }) or ` +
      `weft run <file> --run-id ${this.runId}`;
    if (read === undefined) {
      return new StoreError(
        `Artifact '${key}' of run '${this.runId}' is missing from ${where}. ${rerun}: it finds ` +
          'the artifacts that are missing and recomputes the tasks that wrote them and the layers downstream.',
        { code: 'WEFT_ARTIFACT_MISSING' },
      );
    }
    const marked = await this.#markDamaged(layer, task, key, read.damage);
    return new StoreError(
      `Artifact '${key}' of run '${this.runId}' in ${where} is damaged (${read.damage}). ` +
        (marked === true
          ? `Task ${task} of layer ${layer}, which wrote it, is marked to run again: ${rerun}, ` +
            'and it recomputes that task and the layers downstream.'
          : `Task ${task} of layer ${layer}, which wrote it, could not be marked to run again ` +
            `(${marked}): delete the artifact, then ${rerun[0]!.toLowerCase()}${rerun.slice(1)}: ` +
            'it recomputes the tasks whose artifacts are missing and the layers downstream.'),
      { code: 'WEFT_ARTIFACT_DAMAGED' },
    );
  }

  /** Records the task that wrote a damaged artifact failed: true once done, else why not. */
  async #markDamaged(
    layer: string,
    task: number,
    key: string,
    damage: string,
  ): Promise<true | string> {
    const keys = this.recordKeys.get(layer);
    if (this.#mark === undefined || keys === undefined) return 'its record is not known here';
    const name = `${layer}/${task}`;
    if (this.#marked.has(name)) return true;
    try {
      await this.#mark({
        key: keys.key(task),
        task: layer,
        status: 'failed',
        attempts: 0,
        startedAt: Date.now(),
        durationMs: 0,
        error: toWire(
          new Error(
            `Layer ${layer} task ${task} runs again: its artifact '${key}' is damaged (${damage}).`,
          ),
        ),
      });
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    this.#marked.add(name);
    return true;
  }

  /** A plain attribute of a layer without ForEach, read once per run. */
  value(layer: string, attribute: string): Promise<unknown> {
    const key = this.key(layer, 0, attribute);
    let found = this.#values.get(key);
    if (!found) {
      found = this.read(layer, 0, key);
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
      return this.#elements(layer, attribute, 0, info.lengths.get(attribute)![0]!, label);
    }
    if (kind === 'value') {
      const keyOf = (t: number) => this.key(layer, t, attribute);
      return new Accessor(
        info.tasks,
        (t) => this.read(layer, t, keyOf(t)),
        label,
        this.#readRange(layer, keyOf, (t) => t),
      );
    }
    const shardOf = (t: number) =>
      this.#elements(layer, attribute, t, info.lengths.get(attribute)![t]!, `${label}[${t}]`);
    return new Accessor(
      info.tasks,
      async (t) => shardOf(t),
      label,
      async (from, to) => Array.from({ length: to - from }, (_, i) => shardOf(from + i)),
    );
  }

  /** The elements of the shard `attribute` that task `task` of `layer` wrote. */
  #elements(
    layer: string,
    attribute: string,
    task: number,
    length: number,
    label: string,
  ): Accessor {
    const keyOf = (i: number) => this.key(layer, task, attribute, i);
    return new Accessor(
      length,
      (i) => this.read(layer, task, keyOf(i)),
      label,
      this.#readRange(layer, keyOf, () => task),
    );
  }

  /** Reads runs of a layer's artifacts in batches: element i under `keyOf(i)`, by `taskOf(i)`. */
  #readRange(
    layer: string,
    keyOf: (index: number) => string,
    taskOf: (index: number) => number,
  ): ReadRange<unknown> {
    return (from, to) => {
      const keys = new Array<string>(to - from);
      for (let i = from; i < to; i++) keys[i - from] = keyOf(i);
      return this.readMany(layer, keys, (i) => taskOf(from + i));
    };
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
 * Where a store keeps artifacts, for messages: the store itself, and the folder of the
 * large ones when it keeps those as files (SQLite).
 */
function artifactsLocation(store: Store): string {
  const folder = store.artifactsLocation;
  return folder !== undefined
    ? `the store ${store.location} (large artifacts as files in ${folder})`
    : `the store ${store.location}`;
}
