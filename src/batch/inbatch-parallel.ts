/**
 * `inbatchParallel`: BatchFlow's `inbatch_parallel`. The decorated method runs once per
 * argument set of its `init`, on a target (`threads`, `async`, `mpc`, `for`); `post`
 * receives the results in init order, or, without one, a failure raises
 * `ParallelActionFailed` and success returns the batch. The options are checked here,
 * once, when the decorator is made; each call then splits its arguments (call-args.ts),
 * runs its init (init.ts), its items on their target (local-targets.ts, remote-targets.ts)
 * and its post.
 */
import { availableParallelism } from 'node:os';
import { callSite } from '../core/call-site.ts';
import { ValidationError } from '../core/errors.ts';
import { parentScope } from '../core/fan-out-options.ts';
import { currentRun } from '../core/run.ts';
import { type Batch, batchContext, classOf, isBatch } from './batch.ts';
import {
  type CallParts,
  checkDebug,
  isWorkerCount,
  methodArguments,
  resolveTarget,
  shown,
  splitCall,
} from './call-args.ts';
import { throwIfAnyFailed } from './errors.ts';
import { resolveInit } from './init.ts';
import type { ItemRun } from './item-run.ts';
import { runAsync, runFor } from './local-targets.ts';
import {
  type InbatchParallelOptions,
  type ParallelOptions,
  type ParallelSpec,
  parallelSpecOf,
  setParallelSpec,
  type Target,
} from './parallel-spec.ts';
import { runOnProcesses, runOnThreads } from './remote-targets.ts';

/**
 * A parallel method as installed: call it on a batch with the call's own arguments (the
 * init supplies each item's); a last plain-object argument holds named arguments and the
 * options `nWorkers`, `target`, `debug`, `signal` and `executor`. It resolves to the
 * value of `post`, or, without one, to the batch.
 */
// biome-ignore lint/suspicious/noExplicitAny: a parallel method takes whatever its init and caller give it
export type ParallelMethod<R = any> = (this: Batch, ...args: any[]) => Promise<R>;

/** A TC39 method decorator that makes the method parallel. */
export type ParallelDecorator = <This extends Batch>(
  // biome-ignore lint/suspicious/noExplicitAny: any method of a batch
  method: (this: This, ...args: any[]) => any,
  // biome-ignore lint/suspicious/noExplicitAny: any method of a batch
  context: ClassMethodDecoratorContext<This, (this: This, ...args: any[]) => any>,
  // biome-ignore lint/suspicious/noExplicitAny: the installed method resolves to post's value or the batch
) => (this: This, ...args: any[]) => any;

/**
 * Makes a batch method run once per item, in parallel: BatchFlow's `inbatch_parallel`.
 * With one argument, a method decorator; with a function, the parallel method itself,
 * for use without classes (`await method.call(batch, …)`).
 *
 * The method is called per item as `method(...initPositional, ...callPositional, named)`,
 * `named = { ...initNamed, ...callNamed }` given only when not empty; `init` as
 * `init(...callPositional, { ...extra, ...callNamed })`; `post` as `post(results,
 * ...callPositional, { ...extra, ...callNamed })`, where `extra` are the options other
 * than `init`, `post`, `target`, `debug` and `nWorkers` (a default cap of items at once).
 * An `async` method always runs on `async`.
 *
 * @throws ValidationError at once for bad options, naming the option
 * @example
 * class MyBatch extends Batch {
 *   @action
 *   @inbatchParallel({ init: 'indices', post: 'keepPages', target: 'async' })
 *   async fetch(id: number, base: string) { return (await fetch(`${base}/${id}`)).text(); }
 *   keepPages(pages: unknown[]) { if (anyActionFailed(pages)) throw new Error('failed'); this.data = pages; return this; }
 * }
 * await new MyBatch([0, 1, 2]).fetch('https://example.com', { nWorkers: 2 });
 * @example
 * const double = inbatchParallel({ init: 'items', target: 'for' }, function double(x: number) { return 2 * x; });
 * await double.call(new Batch([1, 2, 3]));
 */
export function inbatchParallel(options: InbatchParallelOptions): ParallelDecorator;
export function inbatchParallel(
  options: InbatchParallelOptions,
  // biome-ignore lint/suspicious/noExplicitAny: any function run once per item, with the batch as this
  fn: (this: any, ...args: any[]) => unknown,
): ParallelMethod;
export function inbatchParallel(
  options: InbatchParallelOptions,
  fn?: Function,
): ParallelDecorator | ParallelMethod {
  const checked = checkOptions(options);
  const module = callSite(inbatchParallel)?.module;
  if (fn !== undefined) {
    if (typeof fn !== 'function') {
      throw new ValidationError(
        `inbatchParallel(options, fn): fn must be a function, got ${shown(fn)}.`,
      );
    }
    if (checked.debug) refuseDebugOfAsync(fn, `inbatchParallel(options, ${fn.name || 'fn'})`);
    return parallelMethod({ options: checked, method: fn, name: fn.name || 'anonymous', module });
  }
  const decorator: ParallelDecorator = (method, context) => {
    if (context?.kind !== 'method' || typeof method !== 'function') {
      throw new ValidationError(
        `@inbatchParallel decorates methods of a Batch class, not a ${context?.kind ?? 'value'}.`,
      );
    }
    const name =
      typeof context.name === 'symbol' ? (context.name.description ?? 'symbol') : context.name;
    if (checked.debug) refuseDebugOfAsync(method, `@inbatchParallel on ${name}`);
    // Workers look for the class where it is defined, which is where the decorator is
    // applied: the options may come from a module of shared decorators.
    const applied = callSite(decorator)?.module;
    return parallelMethod({ options: checked, method, name, module: applied ?? module });
  };
  return decorator;
}

/** The installed form of a parallel method: runs a call of it on the batch it is called on. */
function parallelMethod(spec: ParallelSpec): ParallelMethod {
  const wrapper: ParallelMethod = async function (this: Batch, ...callArgs: unknown[]) {
    return runParallel(this, wrapper, callArgs);
  };
  Object.defineProperty(wrapper, 'name', { value: spec.name });
  setParallelSpec(wrapper, spec);
  return wrapper;
}

const known = new Set(['init', 'post', 'target', 'debug', 'nWorkers']);

/**
 * Checks the decorator's options and sets the extra ones apart.
 * @throws ValidationError naming the option and the fix
 */
function checkOptions(options: InbatchParallelOptions): ParallelOptions {
  const where = 'inbatchParallel';
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(
      `${where} needs an options object with init, e.g. inbatchParallel({ init: 'indices' }); got ${shown(options)}.`,
    );
  }
  const { init, post, debug = false } = options;
  if ((typeof init !== 'string' || init === '') && typeof init !== 'function') {
    throw new ValidationError(
      `${where}: init is required: 'indices', 'items', 'run_once', a component name, a method name or a function; got ${shown(init)}.`,
    );
  }
  if (post !== undefined && typeof post !== 'string' && typeof post !== 'function') {
    throw new ValidationError(
      `${where}: post must be a method name or a function, got ${shown(post)}.`,
    );
  }
  const target = options.target === undefined ? undefined : resolveTarget(options.target, where);
  if (typeof debug !== 'boolean') {
    throw new ValidationError(`${where}: debug must be true or false, got ${shown(debug)}.`);
  }
  checkDebug(debug, target, where);
  const { nWorkers } = options;
  if (nWorkers !== undefined && !isWorkerCount(nWorkers)) {
    throw new ValidationError(
      `${where}: nWorkers must be a whole number ≥ 1 (or Infinity), got ${shown(nWorkers)}.`,
    );
  }
  const extra = Object.fromEntries(Object.entries(options).filter(([key]) => !known.has(key)));
  return Object.freeze({ init, post, target, debug, nWorkers, extra: Object.freeze(extra) });
}

/** One call of a parallel method on `batch`: init, the items on their target, then post. */
async function runParallel(
  batch: Batch,
  wrapper: ParallelMethod,
  callArgs: readonly unknown[],
): Promise<unknown> {
  const spec = parallelSpecOf(wrapper)!;
  if (!isBatch(batch)) {
    throw new ValidationError(
      `${spec.name} is a parallel method: call it on a batch (batch.${spec.name}(…), or ${spec.name}.call(batch, …)), not on ${shown(batch)}.`,
    );
  }
  const label = `${classOf(batch).name}.${spec.name}`;
  const { options } = spec;
  const call = splitCall(callArgs, label);
  const { target, debug } = targetOf(spec, call, label);
  const context = batchContext(batch);
  const signal = call.options.signal ?? context.signal;
  signal?.throwIfAborted();
  // The call's keys are taken now, in the order calls are made, not when its init and
  // lookups have been awaited: two batches' calls made together must get the same keys
  // on a resume whichever init finishes first.
  const keyScope = parentScope({ scope: context.scope }, currentRun()).child(spec.name);
  // Checked before any item runs: a misnamed post must not waste the work.
  const post = options.post === undefined ? undefined : postOf(batch, options.post, label);
  const init = resolveInit(batch, options.init, label);
  const sets = await init(call, options.extra);
  // An init may take long (it may read files): a signal aborted meanwhile starts no item.
  signal?.throwIfAborted();
  const run: ItemRun = {
    batch,
    wrapper,
    spec,
    label,
    items: sets.map((set) => methodArguments(set, call)),
    callArgs:
      Object.keys(call.named).length > 0 ? [...call.positional, call.named] : call.positional,
    concurrency: call.options.nWorkers ?? options.nWorkers ?? availableParallelism(),
    signal,
    scope: context.scope,
    name: spec.name,
    keyScope,
    record: post !== undefined,
    executor: call.options.executor,
  };
  const results = await runOn(target, run, debug);
  if (post === undefined) {
    throwIfAnyFailed(label, results);
    return batch;
  }
  return await post.call(batch, results, ...call.positional, { ...options.extra, ...call.named });
}

/** Where this call runs: its own target and debug over the decorator's; an async method on `async`. */
function targetOf(
  spec: ParallelSpec,
  call: CallParts,
  where: string,
): { target: Target; debug: boolean } {
  const given = call.options.target ?? spec.options.target;
  const target = given === undefined ? undefined : resolveTarget(given, where);
  const debug = call.options.debug ?? spec.options.debug;
  checkDebug(debug, target, where);
  if (spec.method.constructor.name === 'AsyncFunction') {
    if (debug) refuseDebugOfAsync(spec.method, where);
    return { target: 'async', debug: false };
  }
  return { target: target ?? 'threads', debug };
}

/** Only target `for` stops at the first error; an async method always runs on `async`. */
function refuseDebugOfAsync(method: Function, where: string): void {
  if (method.constructor.name !== 'AsyncFunction') return;
  throw new ValidationError(
    `${where}: debug stops at the first error of target 'for', but an async method always ` +
      "runs on 'async': leave debug out, or make the method not async.",
  );
}

function runOn(target: Target, run: ItemRun, debug: boolean): Promise<unknown[]> {
  switch (target) {
    case 'for':
      return runFor(run, debug);
    case 'async':
      return runAsync(run);
    case 'threads':
      return runOnThreads(run);
    case 'mpc':
      return runOnProcesses(run);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: post is called with the batch as this and the call's arguments
type Post = (this: Batch, results: unknown[], ...args: any[]) => unknown;

function postOf(batch: Batch, post: string | Post, where: string): Post {
  if (typeof post === 'function') return post;
  const found = (batch as unknown as Record<string, unknown>)[post];
  if (typeof found === 'function') return found as Post;
  throw new ValidationError(
    `${where}: post '${post}' is no method of ${classOf(batch).name}; give the name of one, or a function.`,
  );
}
