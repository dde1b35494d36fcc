/**
 * Workers import the module that defines a task, an action or a flow to find it there.
 * Such a module may also run work at its top level (a script run with `node`): in every
 * worker that work would run again and start more workers, without end. So everything
 * that starts work (map, dag, withRun, a flow or application run, a worker pool) asks
 * {@link refuseTopLevelWork} first. In a worker, work is allowed only inside a task.
 * Work started while a module is imported for its definitions is refused with a
 * {@link TopLevelWorkError}, and the tasks that need that module fail with it, at once
 * and every time. Work started while no task runs (top-level work that went on after the
 * import) is refused too. "A task runs" is judged per worker, not per task: telling which
 * task started which work would need async context tracking on every promise in the
 * worker, which costs tiny tasks more than it is worth. Whatever slips through stays
 * bounded, because a worker never starts a pool of its own.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { TopLevelWorkError } from './errors.ts';

/** Imports in progress in this thread, by module. */
const importing = new Map<string, number>();
/** Modules whose import started work, with the error that refused it. */
const refused = new Map<string, TopLevelWorkError>();
/** Set in the threads and processes that weft starts to run tasks, and in `weft worker`. */
let worker: { readonly busy: () => boolean; readonly startsPools: boolean } | undefined;

/** Options of {@link enterWorker}. */
export interface EnterWorkerOptions {
  /**
   * The worker may start pools of threads or processes (a `weft worker` process, which
   * runs its jobs on an executor of its own); a pool's own workers may not.
   * @default false
   */
  readonly startsPools?: boolean;
}

/**
 * Marks this thread as a weft worker. `busy` tells whether a task is running here: work
 * started when none is comes from a module's top level, not from a task.
 */
export function enterWorker(busy: () => boolean, options: EnterWorkerOptions = {}): void {
  worker = { busy, startsPools: options.startsPools === true };
}

/**
 * False in the workers of a pool, which must not start pools of their own (a pool per
 * worker would multiply workers, and a task module run again by its workers would start
 * pools without end); true elsewhere, `weft worker` included.
 */
export function mayStartPools(): boolean {
  return worker === undefined || worker.startsPools;
}

/**
 * True in a worker thread or child process that weft started to run tasks. A module that
 * defines tasks and also runs work when executed directly can guard that work with it.
 * @example if (!isWorker()) console.log(await map(numbers, square, { executor: threads() }));
 */
export function isWorker(): boolean {
  return worker !== undefined;
}

/** Imports `module` for its definitions; fails with the refusal if its top level started work. */
export async function importDefinitions(module: string): Promise<unknown> {
  const earlier = definitionsRefusal(module);
  if (earlier) throw earlier;
  importing.set(module, (importing.get(module) ?? 0) + 1);
  let namespace: unknown;
  try {
    namespace = await loadModule(module);
  } catch (error) {
    throw refused.get(module) ?? error;
  } finally {
    const left = importing.get(module)! - 1;
    if (left === 0) importing.delete(module);
    else importing.set(module, left);
  }
  // Also when the module caught the refusal, or never awaited the work it started.
  const refusal = refused.get(module);
  if (refusal) throw refusal;
  return namespace;
}

const requireHere = createRequire(import.meta.url);

/**
 * Loads a module by URL, as `import()` does. CommonJS TypeScript (`.cts`) is required
 * instead: imported, Node 20 evaluates it with a `require` of the ESM loader's own that
 * cannot load an ES module such as weft, where the real `require` (with TypeScript's
 * hook installed) can. A required module's exports are also its namespace's `default`.
 */
export async function loadModule(url: string): Promise<{ readonly default?: unknown }> {
  if (url.startsWith('file:') && /\.c[jt]s$/.test(url)) {
    const exports: unknown = requireHere(fileURLToPath(url));
    // Named exports too, as import() gives them for CommonJS.
    return { ...(exports as object), default: exports };
  }
  return import(url);
}

/** True while this thread imports a module for its definitions. */
export function importingDefinitions(): boolean {
  return importing.size > 0;
}

/** The error that tasks of `module` fail with in this thread, if its top level started work. */
export function definitionsRefusal(module: string): TopLevelWorkError | undefined {
  return refused.size === 0 ? undefined : refused.get(module);
}

/**
 * Throws a {@link TopLevelWorkError} when `what` (e.g. `map(square)`) is started by a
 * module's top level in a worker rather than by a task.
 */
export function refuseTopLevelWork(what: string): void {
  const modules = [...importing.keys()];
  if (modules.length === 0 && (worker === undefined || worker.busy())) return;
  const error = new TopLevelWorkError(
    modules.length > 0
      ? `${what} was started while a worker imported ${modules.join(', ')} to find a task, an action ` +
          `or a flow: the module runs work at its top level, which every worker would run again. ${fix}`
      : `${what} was started in a worker outside any task: work at a module's top level went on ` +
          `after the worker imported it. ${fix}`,
  );
  for (const module of modules) if (!refused.has(module)) refused.set(module, error);
  throw error;
}

const fix =
  'Move the work into the default export (export default async function main() { … }) and run ' +
  'it with `weft run <file>`, or into a module of its own that imports the definitions, or guard ' +
  'it with `if (!isWorker())`.';
