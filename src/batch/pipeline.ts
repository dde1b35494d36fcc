/**
 * BatchFlow's `Pipeline`: actions chained lazily on a dataset (`dataset.pipeline().load()
 * .normalize(3)`), then run over its batches. Every batch is one task of the engine's
 * `map`, so batches are processed `prefetch` at a time, yielded in order, stopped by a
 * signal, and recorded under `pipeline/<n>` in a run: the parallel calls of batch `n`
 * are keyed `pipeline/<n>/<method>/<i>`, and a resumed run skips what finished.
 */
import { randomInt } from 'node:crypto';
import { inspect } from 'node:util';
import { isPlainObject } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import { sharedExecutor } from '../core/executor.ts';
import { parentScope } from '../core/fan-out-options.ts';
import type { KeyScope } from '../core/keys.ts';
import { map } from '../core/map.ts';
import { currentRun } from '../core/run.ts';
import { localTask, type TaskContext } from '../core/task.ts';
import { isAction } from './action.ts';
import {
  type Batch,
  type BatchClass,
  batchContext,
  classOf,
  isBatch,
  setBatchContext,
} from './batch.ts';
import type { Dataset } from './dataset.ts';
import { type BatchCut, batchesOf, batchesPerEpoch, seedOfText } from './shuffle.ts';

/** Options of {@link Pipeline.gen}. */
export interface GenOptions {
  /**
   * Items per batch (an epoch's last batch may hold fewer: see `dropLast`). Required,
   * here or held by a lazy run (`pipeline.run({ batchSize, lazy: true })`).
   * @example pipeline.gen({ batchSize: 64 })
   */
  readonly batchSize?: number;
  /**
   * Passes over the dataset; `Infinity` for endless (stop with `signal`, or by leaving the loop).
   * @default 1
   */
  readonly nEpochs?: number;
  /**
   * Shuffle the items, in a new order each epoch: `true`, or a whole number to seed the
   * order (the same seed, the same batches). `true` inside a run takes the seed from the
   * run id and the pipeline's key (`<name>`, `<name>~2` for a second one), so that a
   * resumed run makes the same batches and two pipelines of a run shuffle apart; outside
   * a run it is random.
   * @default false
   */
  readonly shuffle?: boolean | number;
  /**
   * Leave out each epoch's last batch when it holds fewer than `batchSize` items.
   * @default false
   */
  readonly dropLast?: boolean;
  /**
   * Batches processed at once, also while the loop works on an earlier one (BatchFlow's
   * `prefetch`); as many finished ones may wait to be read. They are yielded in order.
   * @default 1
   */
  readonly prefetch?: number;
  /**
   * Stops the pipeline: no new batch starts, running actions are aborted, and it rejects
   * with `signal.reason`. The batches `gen` yields keep it (and only it) for their later
   * parallel calls: leaving the loop stops the pipeline, not a batch already yielded.
   */
  readonly signal?: AbortSignal;
  /**
   * The scope the batches' keys descend from.
   * @default the run's (none outside a run)
   */
  readonly scope?: KeyScope;
  /**
   * The pipeline's name in keys (`<name>/<n>/…`) and progress.
   * @default 'pipeline'
   */
  readonly name?: string;
}

/** Options of {@link Pipeline.run}. */
export interface PipelineRunOptions extends GenOptions {
  /**
   * Run nothing now: return a pipeline that holds these options, run later by
   * `pipeline.run()` (as `weft run` does) or `pipeline.gen()`; options given then override them.
   * @default false
   * @example export default dataset.pipeline().load().run({ batchSize: 64, lazy: true });
   */
  readonly lazy?: boolean;
}

/** What {@link Pipeline.run} did. */
export interface PipelineSummary {
  /** Batches processed. */
  readonly batches: number;
  /** Dataset items in them (an item of two epochs counts twice). */
  readonly items: number;
}

/** One chained call: the method's name and the arguments it is called with. */
export interface PipelineStep {
  readonly name: string;
  readonly args: readonly unknown[];
}

/**
 * Actions chained on a dataset, run over its batches. Made by `dataset.pipeline()`; each
 * chained call returns a new pipeline (pipelines are immutable, so one can branch into
 * several). Any action of the batch class can be chained; its calls run when the
 * pipeline does, one batch after another as `await batch[action](...args)`. An action
 * returning a batch hands that batch to the next action; any other value leaves the
 * pipeline on the same batch.
 *
 * Members of the pipeline itself (`gen`, `run`, `dataset`, `steps`, `runOptions`) and
 * `then` (a pipeline is not awaitable) cannot be chained.
 *
 * @example
 * const pipeline = new Dataset(images, ImageBatch).pipeline().load().resize(64, { nWorkers: 2 });
 * for await (const batch of pipeline.gen({ batchSize: 32, shuffle: 7, prefetch: 2 })) train(batch);
 * await pipeline.run({ batchSize: 32 });  // { batches, items }
 */
class PipelineCore<B extends Batch = Batch> {
  /** The dataset whose batches the pipeline processes. */
  readonly dataset: Dataset<B>;
  /** The chained calls, in order. */
  readonly steps: readonly PipelineStep[];
  /** Options held by a lazy run (`run({ …, lazy: true })`): the defaults of `run` and `gen`. */
  readonly runOptions: Readonly<GenOptions>;

  /**
   * @param steps chained calls (what chaining passes on; leave it out)
   * @param runOptions options of a lazy run (likewise)
   */
  constructor(
    dataset: Dataset<B>,
    steps: readonly PipelineStep[] = [],
    runOptions: Readonly<GenOptions> = {},
  ) {
    if (!isDataset(dataset)) {
      throw new ValidationError(
        'new Pipeline(dataset): give a Dataset, or make the pipeline with dataset.pipeline().',
      );
    }
    this.dataset = dataset;
    this.steps = Object.freeze([...steps]);
    this.runOptions = Object.freeze({ ...runOptions });
    // Chained calls are found by name at each access: a Proxy over this pipeline.
    // biome-ignore lint/correctness/noConstructorReturn: the pipeline is its chaining proxy
    return new Proxy(this, chaining as ProxyHandler<PipelineCore<B>>);
  }

  /**
   * The pipeline's batches, each processed by every chained action, in order. Options
   * not given come from a lazy run's (see {@link run}).
   * @throws ValidationError naming an option that is wrong, or batchSize when none is given or held
   * @example for await (const batch of pipeline.gen({ batchSize: 64, nEpochs: 3, shuffle: true })) use(batch);
   */
  gen(options: GenOptions = {}): AsyncGenerator<B, void, undefined> {
    const plan = planOf(this, checkOptions('gen', options), 'gen');
    return generate(this, plan);
  }

  /**
   * Runs the pipeline over every batch and says how many it processed; with `lazy: true`,
   * runs nothing and returns a pipeline holding the options, to run later (`weft run`
   * runs a default export made so).
   * @example await pipeline.run({ batchSize: 64, nEpochs: 2 });  // { batches, items }
   * @example export default pipeline.run({ batchSize: 64, lazy: true });
   */
  run(options: PipelineRunOptions & { readonly lazy: true }): Pipeline<B>;
  run(options?: PipelineRunOptions): Promise<PipelineSummary>;
  run(options: PipelineRunOptions = {}): Pipeline<B> | Promise<PipelineSummary> {
    if (isPlainObject(options) && options.lazy === true) {
      const { lazy: _, ...held } = checkOptions('run', options);
      return new Pipeline(this.dataset, this.steps, { ...this.runOptions, ...held });
    }
    try {
      return runAll(this, planOf(this, checkOptions('run', options), 'run'));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** How `console.log` shows a pipeline: its batch class and chained calls. */
  [inspect.custom](): string {
    const calls = this.steps.map(
      ({ name, args }) =>
        `.${name}(${args.map((arg) => inspect(arg, { depth: 1, breakLength: Number.POSITIVE_INFINITY })).join(', ')})`,
    );
    const held =
      Object.keys(this.runOptions).length > 0
        ? `.run(${inspect({ ...this.runOptions, lazy: true }, { breakLength: Number.POSITIVE_INFINITY })})`
        : '';
    return `Pipeline<${this.dataset.BatchClass.name}>(${this.dataset.length} items)${calls.join('')}${held}`;
  }
}

/**
 * The batch methods a pipeline of `B` chains: each returns a new pipeline, of the batch
 * class the method returns (or resolves to) when that is a batch, else of `B`. Arguments
 * are loosely typed: a parallel method is called with other arguments than it declares.
 */
export type PipelineActions<B extends Batch> = {
  [K in keyof B as K extends keyof PipelineCore<B> | keyof Batch | 'then'
    ? never
    : B[K] extends (...args: never[]) => unknown
      ? K
      : never]: (
    ...args: unknown[]
  ) => Pipeline<B[K] extends (...args: never[]) => infer R ? BatchAfter<B, R> : B>;
};

/** The batch a pipeline goes on with after an action of `B` that returns `R`. */
type BatchAfter<B extends Batch, R> = Awaited<R> extends infer N ? (N extends Batch ? N : B) : B;

/** A pipeline over batches of `B`: see {@link PipelineCore}. */
export type Pipeline<B extends Batch = Batch> = PipelineCore<B> & PipelineActions<B>;

/** Pipelines: `dataset.pipeline()`, or `new Pipeline(dataset)`. */
export const Pipeline = PipelineCore as unknown as new <B extends Batch = Batch>(
  dataset: Dataset<B>,
  steps?: readonly PipelineStep[],
  runOptions?: Readonly<GenOptions>,
) => Pipeline<B>;

/** Names that are never chained: a pipeline must not look like a promise or be turned into JSON by a call. */
const notChained: ReadonlySet<string> = new Set(['then', 'toJSON']);

// Any other name chains, as in BatchFlow: an action may return a batch of another class,
// whose actions the dataset's class does not have. Each name is checked when a batch
// reaches it (`actionOf`), with a message naming the class and its actions.
const chaining: ProxyHandler<PipelineCore> = {
  get(target, property, receiver) {
    if (typeof property === 'symbol' || property in target) {
      return Reflect.get(target, property, receiver);
    }
    if (notChained.has(property)) return undefined;
    return (...args: unknown[]) =>
      new Pipeline(target.dataset, [...target.steps, { name: property, args }], target.runOptions);
  },
};

/** Options checked and completed, with the batches they cut (but the seed: see {@link cutOf}). */
interface Plan extends Omit<BatchCut, 'seed'> {
  readonly shuffle: boolean | number;
  /** The id of the run the pipeline was made in, if any. */
  readonly runId: string | undefined;
  readonly prefetch: number;
  readonly signal: AbortSignal | undefined;
  readonly scope: KeyScope | undefined;
  readonly name: string;
  /** Batches in all, when the epochs end. */
  readonly total: number | undefined;
}

async function* generate<B extends Batch>(
  pipeline: PipelineCore<B>,
  plan: Plan,
): AsyncGenerator<B, void, undefined> {
  // Batches are not serializable: this map records nothing. The parallel calls inside
  // still do, under the batch's key (its scope carries it).
  const yielded = (batch: Batch) => {
    // The batch task's signal is aborted when the pipeline stops, which leaving the loop
    // does: a batch handed out keeps its keys but answers only to the gen's own signal.
    const { scope } = batchContext(batch);
    setBatchContext(batch, {
      ...(scope ? { scope } : {}),
      ...(plan.signal ? { signal: plan.signal } : {}),
    });
    return batch;
  };
  for await (const batch of processBatches(pipeline, plan, false, yielded)) yield batch as B;
}

async function runAll(pipeline: PipelineCore, plan: Plan): Promise<PipelineSummary> {
  let batches = 0;
  let items = 0;
  // Recorded: a batch's output is its item count, so a resumed run skips whole finished
  // batches (none of their actions runs again) and, inside the batch that was cut short,
  // the parallel items that finished.
  for await (const count of processBatches(pipeline, plan, true, (_, ids) => ids.length)) {
    batches++;
    items += count as number;
  }
  return { batches, items };
}

/** Processes the plan's batches, `prefetch` at a time, and yields `output(batch)` of each, in order. */
async function* processBatches(
  pipeline: PipelineCore,
  plan: Plan,
  record: boolean,
  output: (batch: Batch, ids: readonly number[]) => unknown,
): AsyncGenerator<unknown, void, undefined> {
  // A failed batch stops the others at once, and the pipeline throws the action's own error.
  const failure = new AbortController();
  const signal = plan.signal ? AbortSignal.any([plan.signal, failure.signal]) : failure.signal;
  const work = localTask(
    plan.name,
    async ({ ids }: { ids: readonly number[] }, ctx: TaskContext) => {
      try {
        return output(await processBatch(pipeline, ids, ctx), ids);
      } catch (error) {
        failure.abort(error);
        throw error;
      }
    },
  );
  // The pipeline's key scope, taken as map would take it (a map that records nothing has
  // no run), for the shuffle's seed.
  const run = record ? currentRun() : undefined;
  const keyScope = parentScope({ scope: plan.scope }, run).child(plan.name);
  const outputs = map(batchesOf(pipeline.dataset.length, cutOf(plan, keyScope.path)), work, {
    executor: sharedExecutor('asyncPool'),
    concurrency: plan.prefetch,
    name: plan.name,
    keyScope,
    ...(plan.scope ? { scope: plan.scope } : {}),
    signal,
    record,
    onError: 'collect',
    display: { label: plan.name, ...(plan.total === undefined ? {} : { total: plan.total }) },
  });
  for await (const value of outputs) {
    // Never seen: a failed batch stops the map first (see `failure`).
    if (value instanceof Error) throw value;
    yield value;
  }
}

/** One batch through every chained action. */
async function processBatch(
  pipeline: PipelineCore,
  ids: readonly number[],
  ctx: TaskContext,
): Promise<Batch> {
  // The batch's parallel calls are keyed under this task's key, and stop with it.
  const context = { scope: ctx.scope, signal: ctx.signal };
  let batch: Batch = pipeline.dataset.createBatch(ids);
  setBatchContext(batch, context);
  for (const step of pipeline.steps) {
    ctx.signal.throwIfAborted();
    const result = await actionOf(batch, step.name).apply(batch, [...step.args]);
    if (isBatch(result) && result !== batch) {
      setBatchContext(result, context);
      batch = result;
    }
  }
  return batch;
}

/** The action `name` of `batch`. @throws ValidationError when it is none */
function actionOf(batch: Batch, name: string): (...args: unknown[]) => unknown {
  const Class = classOf(batch);
  const method = (batch as unknown as Record<string, unknown>)[name];
  if (typeof method !== 'function') {
    throw new ValidationError(
      `The pipeline calls ${Class.name}.${name}, but ${Class.name} has no method '${name}'. ${actionsSentence(Class)}`,
    );
  }
  if (!isAction(method)) {
    throw new ValidationError(
      `${Class.name}.${name} is not an action, so a pipeline cannot call it: decorate it with @action (from 'weftjs/batch').`,
    );
  }
  return method as (...args: unknown[]) => unknown;
}

/** The known options of gen and run, for the message of an unknown one. */
const optionNames = [
  'batchSize',
  'nEpochs',
  'shuffle',
  'dropLast',
  'prefetch',
  'signal',
  'scope',
  'name',
];

/**
 * Checks the options given to `gen` or `run` (not yet merged with held ones).
 * @throws ValidationError naming the option and the fix
 */
function checkOptions<O extends PipelineRunOptions>(verb: 'gen' | 'run', options: O): O {
  const where = `pipeline.${verb}`;
  if (!isPlainObject(options)) {
    throw new ValidationError(`${where}: give an object of options, e.g. { batchSize: 32 }.`);
  }
  const known = verb === 'run' ? [...optionNames, 'lazy'] : optionNames;
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ValidationError(
        `${where}: unknown option '${key}'; the options are ${known.join(', ')}.`,
      );
    }
  }
  const { batchSize, nEpochs, shuffle, dropLast, prefetch, signal, scope, name, lazy } = options;
  const wrong = (option: string, expected: string, value: unknown) =>
    new ValidationError(`${where}: ${option} must be ${expected}, got ${inspect(value)}.`);
  if (batchSize !== undefined && !(Number.isSafeInteger(batchSize) && batchSize >= 1)) {
    throw wrong('batchSize', 'a whole number ≥ 1', batchSize);
  }
  if (
    nEpochs !== undefined &&
    !((Number.isSafeInteger(nEpochs) && nEpochs >= 1) || nEpochs === Number.POSITIVE_INFINITY)
  ) {
    throw wrong('nEpochs', 'a whole number ≥ 1 (or Infinity)', nEpochs);
  }
  if (shuffle !== undefined && typeof shuffle !== 'boolean' && !Number.isSafeInteger(shuffle)) {
    throw wrong('shuffle', 'true, false or a whole number (a seed)', shuffle);
  }
  if (dropLast !== undefined && typeof dropLast !== 'boolean') {
    throw wrong('dropLast', 'true or false', dropLast);
  }
  if (prefetch !== undefined && !(Number.isSafeInteger(prefetch) && prefetch >= 1)) {
    throw wrong('prefetch', 'a whole number ≥ 1', prefetch);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw wrong('signal', 'an AbortSignal', signal);
  }
  if (scope !== undefined && typeof (scope as { child?: unknown } | null)?.child !== 'function') {
    throw wrong('scope', 'a KeyScope (ctx.scope of a task)', scope);
  }
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw wrong('name', 'a non-empty string', name);
  }
  if (lazy !== undefined && typeof lazy !== 'boolean') throw wrong('lazy', 'true or false', lazy);
  return options;
}

/** The options of a run or gen, over the held ones, completed. */
function planOf(pipeline: PipelineCore, given: PipelineRunOptions, verb: 'gen' | 'run'): Plan {
  const { lazy: _, ...options } = { ...pipeline.runOptions, ...given };
  const { batchSize, nEpochs = 1, shuffle = false, dropLast = false, prefetch = 1 } = options;
  if (batchSize === undefined) {
    throw new ValidationError(
      `pipeline.${verb}() needs a batch size: pass { batchSize }, or configure the pipeline with .run({ batchSize, lazy: true }).`,
    );
  }
  const run = currentRun();
  const perEpoch = batchesPerEpoch(pipeline.dataset.length, { batchSize, dropLast });
  return {
    batchSize,
    nEpochs,
    dropLast,
    shuffle,
    runId: run?.id,
    prefetch,
    signal: options.signal,
    scope: options.scope ?? run?.scope,
    name: options.name ?? 'pipeline',
    total: Number.isFinite(nEpochs) ? perEpoch * nEpochs : undefined,
  };
}

/**
 * How the plan cuts batches; for `shuffle: true` inside a run, seeded from the run id and
 * `key`, the pipeline's key path. A resumed run (same id, same keys) must cut the same
 * batches: batch `n`'s parallel items are recorded under `pipeline/<n>/…` by their
 * position in the batch, so batch `n` holding other items than before would hand them
 * the stored outputs of others, and a finished batch skipped whole would leave its new
 * items unprocessed. The key sets apart the pipelines of one run, which the run id alone
 * gave one order. Outside a run nothing is resumed, so any order will do.
 */
function cutOf(plan: Plan, key: string): BatchCut {
  const { shuffle, runId } = plan;
  let seed: number | undefined;
  if (shuffle === true)
    seed = runId === undefined ? randomInt(2 ** 32) : seedOfText(`${runId}/${key}`);
  else if (shuffle !== false) seed = shuffle;
  return { batchSize: plan.batchSize, nEpochs: plan.nEpochs, dropLast: plan.dropLast, seed };
}

function isDataset(value: unknown): value is Dataset<Batch> {
  const dataset = value as Dataset | undefined;
  return (
    typeof dataset === 'object' &&
    dataset !== null &&
    typeof dataset.createBatch === 'function' &&
    typeof dataset.length === 'number' &&
    typeof dataset.BatchClass === 'function'
  );
}

/** "Its actions are: …", for messages about a method a pipeline cannot call. */
function actionsSentence(Class: BatchClass): string {
  const names = new Set<string>();
  for (
    let proto: object | null = Class.prototype;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (descriptor && isAction(descriptor.value)) names.add(name);
    }
  }
  return names.size === 0
    ? `${Class.name} has no actions: mark a method with @action (from 'weftjs/batch') to chain it.`
    : `Its actions are: ${[...names].join(', ')}.`;
}
