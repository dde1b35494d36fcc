/**
 * How workers find what a parallel call runs: a batch class, a parallel method and a
 * function are found again in a worker by the name its module exports them under. This
 * thread finds those names before any item runs (by identity among the module's exports,
 * once per class, method or function), so that what is not exported fails at once with
 * what to export from which module; a worker imports the module and takes the export.
 */
import { importDefinitions, loadModule } from '../core/definitions.ts';
import { ValidationError } from '../core/errors.ts';
import {
  type DefinitionRef,
  moduleLocation,
  moduleReference,
  register,
  registered,
} from '../core/registry.ts';
import * as weftBatch from './batch.ts';
import { type Batch, type BatchClass, classOf } from './batch.ts';
import type { ItemRun } from './item-run.ts';
import { type ParallelSpec, parallelSpecOf } from './parallel-spec.ts';

/**
 * How a worker finds a parallel method: a member of the batch's class (the property
 * `member` of the prototype `depth` steps up from the class's), or a module's export
 * (the function form).
 */
export type MethodRef =
  | { readonly member: string; readonly depth: number }
  | { readonly module: string; readonly name: string };

/** How a child process finds a function: its module and export name. */
export interface FunctionRef {
  readonly module: string;
  readonly name: string;
}

type Namespace = Readonly<Record<string, unknown>>;
type AnyFunction = Function;

/** weft's own batch module, where the base `Batch` is exported. */
const weftBatchUrl = new URL(
  import.meta.url.endsWith('.ts') ? './batch.ts' : './batch.js',
  import.meta.url,
).href;

/**
 * How long this thread waits for a module's exports. A module already loaded answers at
 * once; one that does not is still being evaluated, because it runs the parallel call at
 * its top level, and waiting for it would wait for ourselves. Its exports are then
 * guessed from names (the class's, the function's) and checked by the worker.
 */
const evaluationWaitMs = 1000;

const classRefs = new WeakMap<AnyFunction, DefinitionRef>();
const methodRefs = new WeakMap<AnyFunction, WeakMap<object, MethodRef>>();
const functionRefs = new WeakMap<AnyFunction, FunctionRef>();

/**
 * How workers find the class of `run.batch`, registered in this thread under its export
 * name (kind `batch`).
 * @throws ValidationError naming the class, the module to export it from, and the fix
 */
export async function batchClassRef(run: ItemRun, target: string): Promise<DefinitionRef> {
  const Class = classOf(run.batch);
  const known = classRefs.get(Class);
  if (known) return known;
  const modules = classModules(Class, run);
  for (const url of [...modules, weftBatchUrl]) {
    const name = await exportedAs(url, Class, Class.name);
    if (name === undefined) continue;
    const ref: DefinitionRef = { kind: 'batch', name, module: moduleReference(url) };
    register('batch', name, { value: Class, module: url, definedAt: undefined });
    classRefs.set(Class, ref);
    return ref;
  }
  const className = Class.name || '(anonymous)';
  const fix = `or use target 'async' or 'for'.`;
  if (modules.length === 0) {
    throw new ValidationError(
      `${run.label} runs on ${target}: define the class ${className} in a module and export it ` +
        `(where it is defined is not known: an eval or a REPL); ${fix}`,
    );
  }
  if (memberRef(Class, run) === undefined) {
    throw new ValidationError(
      `${run.label} runs on ${target}: export the class ${className} from the module that defines ` +
        `${run.spec.name} (${moduleReference(modules[0]!)}) so that ${workersOf(target)} can build the batch; ${fix}`,
    );
  }
  if (modules.length === 1 && ownsMethodOf(Class, modules[0]!)) {
    throw new ValidationError(
      `${run.label} runs on ${target}: export the class ${className} from its module ` +
        `(${moduleReference(modules[0]!)}) so that ${workersOf(target)} can build the batch; ${fix}`,
    );
  }
  throw new ValidationError(
    `${run.label} runs on ${target}: ${workersOf(target)} look for the class ${className} in the ` +
      `modules that define its parallel methods (${modules.map(moduleReference).join(', ')}), and ` +
      `none exports it: export it from its module and define a parallel method there; ${fix}`,
  );
}

/**
 * Where `Class` may be exported: the module of the method called, then those of the
 * other parallel methods along its prototype chain, its own first (a subclass defined
 * apart from the method it calls is found in the module of one of its own).
 */
function classModules(Class: BatchClass, run: ItemRun): string[] {
  const modules = new Set<string | undefined>([run.spec.module]);
  for (let proto: object | null = Class.prototype; proto !== null && proto !== Object.prototype; ) {
    for (const spec of ownSpecs(proto)) modules.add(spec.module);
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return [...modules].filter((module): module is string => module !== undefined);
}

/** True when `Class` itself (not a base class) has a parallel method defined in `module`. */
function ownsMethodOf(Class: BatchClass, module: string): boolean {
  return ownSpecs(Class.prototype).some((spec) => spec.module === module);
}

function ownSpecs(proto: object): ParallelSpec[] {
  const specs: ParallelSpec[] = [];
  for (const key of Object.getOwnPropertyNames(proto)) {
    const own = Object.getOwnPropertyDescriptor(proto, key);
    const spec = own && 'value' in own ? parallelSpecOf(own.value) : undefined;
    if (spec) specs.push(spec);
  }
  return specs;
}

/**
 * How workers find the parallel method of `run` on a batch of class `Class`.
 * @throws ValidationError when it is no member of the class and its module does not export it
 */
export async function methodRef(run: ItemRun, target: string): Promise<MethodRef> {
  const Class = classOf(run.batch) as unknown as AnyFunction;
  let byWrapper = methodRefs.get(Class);
  const known = byWrapper?.get(run.wrapper);
  if (known) return known;
  const ref = memberRef(Class as BatchClass, run) ?? (await exportRef(run, target));
  if (!byWrapper) {
    byWrapper = new WeakMap();
    methodRefs.set(Class, byWrapper);
  }
  byWrapper.set(run.wrapper, ref);
  return ref;
}

function memberRef(Class: BatchClass, run: ItemRun): MethodRef | undefined {
  const { name } = run.spec;
  let depth = 0;
  for (let proto: object | null = Class.prototype; proto !== null && proto !== Object.prototype; ) {
    const own = Object.getOwnPropertyDescriptor(proto, name);
    if (
      own &&
      'value' in own &&
      (own.value === run.wrapper || parallelSpecOf(own.value) === run.spec)
    ) {
      return { member: name, depth };
    }
    proto = Object.getPrototypeOf(proto) as object | null;
    depth++;
  }
  return undefined;
}

async function exportRef(run: ItemRun, target: string): Promise<MethodRef> {
  const { module } = run.spec;
  const name =
    module === undefined ? undefined : await exportedAs(module, run.wrapper, run.spec.name);
  if (module !== undefined && name !== undefined) return { module: moduleReference(module), name };
  const where =
    module === undefined
      ? 'a module (where inbatchParallel was called is not known: an eval or a REPL)'
      : `its module (${moduleReference(module)})`;
  throw new ValidationError(
    `${run.label} runs on ${target}: export it from ${where} so that ${workersOf(target)} can ` +
      `find it (export const ${run.spec.name || 'someAction'} = inbatchParallel(…)); or use target 'async' or 'for'.`,
  );
}

/**
 * How child processes find `fn`, a function a method of target `mpc` returned: exported
 * from the module of the parallel method, or from one defining another parallel method
 * of the batch's class (its own module, usually).
 * @throws ValidationError naming the method, the function and the fix
 */
export async function functionRef(fn: AnyFunction, run: ItemRun): Promise<FunctionRef> {
  const known = functionRefs.get(fn);
  if (known) return known;
  const modules = classModules(classOf(run.batch), run);
  for (const url of modules) {
    const name = await exportedAs(url, fn, fn.name);
    if (name === undefined) continue;
    const ref: FunctionRef = { module: moduleReference(url), name };
    functionRefs.set(fn, ref);
    return ref;
  }
  const where =
    modules.length === 0
      ? 'a module (where inbatchParallel was called is not known: an eval or a REPL)'
      : modules.map(moduleReference).join(' or ');
  throw new ValidationError(
    `${run.label} (target mpc) returned the function ${fn.name || '(anonymous)'}, which is not ` +
      `exported from ${where}: child processes find it by its export. Export it from there, or ` +
      "return a task('name', fn) defined at the top level of a module.",
  );
}

/**
 * The name `module` exports `value` under (`default` included; for a CommonJS module,
 * also its exports object's), or undefined. When the module is still being evaluated,
 * `guess` (undefined when empty), for the worker to check.
 */
async function exportedAs(
  module: string,
  value: unknown,
  guess: string,
): Promise<string | undefined> {
  const namespace = await readExports(module);
  if (namespace === 'evaluating') return guess === '' ? undefined : guess;
  for (const [name, exported] of entriesOf(namespace)) if (exported === value) return name;
  const fallback = namespace.default;
  if (fallback !== value && (typeof fallback === 'object' || typeof fallback === 'function')) {
    for (const [name, exported] of entriesOf(fallback as Namespace)) {
      if (exported === value) return name;
    }
  }
  return undefined;
}

async function readExports(module: string): Promise<Namespace | 'evaluating'> {
  if (module === weftBatchUrl) return weftBatch as unknown as Namespace;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'evaluating'>((resolve) => {
    // Kept referenced: a script awaiting its own module has nothing else keeping it alive.
    timer = setTimeout(resolve, evaluationWaitMs, 'evaluating');
  });
  try {
    return (await Promise.race([loadModule(module), late])) as Namespace | 'evaluating';
  } finally {
    clearTimeout(timer);
  }
}

/** A namespace's entries; none for one whose bindings cannot be read yet. */
function entriesOf(namespace: Namespace | null): [string, unknown][] {
  try {
    return namespace === null ? [] : Object.entries(namespace);
  } catch {
    return [];
  }
}

/** `name` in a module's namespace, or in the exports object of a CommonJS module. */
function exportNamed(namespace: Namespace, name: string): unknown {
  if (name in namespace) return namespace[name];
  const fallback = namespace.default;
  if ((typeof fallback === 'object' && fallback !== null) || typeof fallback === 'function') {
    return (fallback as Namespace)[name];
  }
  return undefined;
}

function workersOf(target: string): string {
  return target === 'threads' ? 'worker threads' : 'child processes';
}

// In workers.

/** The batch class `ref` names: registered in this thread, else imported and registered. */
export async function resolveBatchClass(ref: DefinitionRef): Promise<BatchClass> {
  const known = registered<unknown>('batch', ref.name);
  if (
    typeof known?.value === 'function' &&
    known.module !== undefined &&
    moduleReference(known.module) === ref.module
  ) {
    return known.value as BatchClass;
  }
  const url = moduleLocation(ref.module);
  const value = exportNamed((await importDefinitions(url)) as Namespace, ref.name);
  if (typeof value !== 'function') {
    throw new ValidationError(
      `The batch class ${ref.name} is not exported from ${ref.module} in this worker: ` +
        `export it (export class ${ref.name} …), or use target 'async' or 'for'.`,
    );
  }
  register('batch', ref.name, { value, module: url, definedAt: undefined });
  return value as BatchClass;
}

/** The method a parallel method wraps, found on `Class` or among its module's exports. */
export async function resolveParallelMethod(
  Class: BatchClass,
  ref: MethodRef,
): Promise<(this: Batch, ...args: unknown[]) => unknown> {
  let wrapper: unknown;
  if ('member' in ref) {
    let proto: object | null = Class.prototype;
    for (let step = 0; step < ref.depth && proto !== null; step++) {
      proto = Object.getPrototypeOf(proto) as object | null;
    }
    wrapper =
      proto === null ? undefined : Object.getOwnPropertyDescriptor(proto, ref.member)?.value;
  } else {
    wrapper = exportNamed(
      (await importDefinitions(moduleLocation(ref.module))) as Namespace,
      ref.name,
    );
  }
  const spec = parallelSpecOf(wrapper);
  if (spec === undefined) {
    const what = 'member' in ref ? `${Class.name}.${ref.member}` : `${ref.name} of ${ref.module}`;
    throw new ValidationError(
      `${what} is not a parallel method in this worker: define it with inbatchParallel at the top level of its module.`,
    );
  }
  return spec.method as (this: Batch, ...args: unknown[]) => unknown;
}

const functions = new Map<string, Promise<AnyFunction>>();

/** The function `ref` names, imported once per worker. */
export function resolveFunction(ref: FunctionRef): Promise<AnyFunction> {
  const key = `${ref.module}\n${ref.name}`;
  let found = functions.get(key);
  if (!found) {
    found = importDefinitions(moduleLocation(ref.module)).then((namespace) => {
      const value = exportNamed(namespace as Namespace, ref.name);
      if (typeof value !== 'function') {
        throw new ValidationError(
          `${ref.module} exports no function ${ref.name} in this process: export it at the top level of the module.`,
        );
      }
      return value;
    });
    // A failed import is tried again by the next item.
    found.catch(() => functions.delete(key));
    functions.set(key, found);
  }
  return found;
}
