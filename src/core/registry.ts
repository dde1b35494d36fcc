/**
 * One registry of definitions, shared by every front end: tasks, Burr actions, laminar
 * flows, batch methods and compose operators are registered by kind, name and module,
 * and a worker (a thread, a process, another machine) resolves a {@link DefinitionRef}
 * by importing the module and looking the name up again.
 *
 * Module references are portable: a module inside the project (the nearest folder with a
 * package.json above the working directory) is named by its path from there
 * (`./src/jobs/work.ts`), so that a worker on another machine with the same checkout
 * finds it; a module outside the project keeps its URL.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { importDefinitions } from './definitions.ts';
import { isWeftError, UnknownTaskError, ValidationError } from './errors.ts';

/** What a definition is: the front end that made it decides how a worker runs it. */
export type DefinitionKind = 'task' | 'action' | 'flow' | 'batch' | 'operator';

/** How a worker finds a definition again. Plain data: it travels to workers as it is. */
export interface DefinitionRef {
  readonly kind: DefinitionKind;
  /** Unique among the definitions of its kind in a thread. */
  readonly name: string;
  /** The defining module: `./path/from/project/root.ts`, or a URL outside the project. */
  readonly module: string;
}

/** A registered definition. */
export interface Definition<T = unknown> {
  readonly value: T;
  /** URL of the defining module, or undefined when it could not be found. */
  readonly module: string | undefined;
  /** Where it was defined (`file:line:column`), for error messages. */
  readonly definedAt: string | undefined;
}

/** How each kind is named in messages, and how to fix a definition a worker cannot find. */
const kinds: Record<DefinitionKind, { readonly noun: string; readonly fix: string }> = {
  task: {
    noun: 'task',
    fix: 'Define the task at the top level of that module (not inside a function), or pass { module } to task().',
  },
  action: {
    noun: 'action',
    fix: 'Define actions with action() at the top level of the module (or export their class).',
  },
  flow: { noun: 'flow', fix: 'Create the flow at the top level of its module.' },
  batch: {
    noun: 'batch method',
    fix: 'Define and export the batch class at the top level of its module.',
  },
  operator: { noun: 'operator', fix: 'Define the operator at the top level of its module.' },
};

/**
 * One map per thread, also when two copies of weft are loaded in it (its sources and its
 * build, or its ES module and CommonJS forms): a definition made through one copy must be
 * found through the other.
 */
const registryKey = Symbol.for('weft.definitions');
const globals = globalThis as typeof globalThis & { [registryKey]?: Map<string, Definition> };
const registry: Map<string, Definition> = globals[registryKey] ?? new Map();
globals[registryKey] = registry;

function keyOf(kind: DefinitionKind, name: string): string {
  return `${kind}\n${name}`;
}

/** Registers (or replaces) the definition of `kind` named `name`. */
export function register<T>(kind: DefinitionKind, name: string, definition: Definition<T>): void {
  registry.set(keyOf(kind, name), definition);
}

/** The definition of `kind` named `name` in this thread, if its module was loaded here. */
export function registered<T = unknown>(
  kind: DefinitionKind,
  name: string,
): Definition<T> | undefined {
  return registry.get(keyOf(kind, name)) as Definition<T> | undefined;
}

/** Names of every definition of `kind` in this thread, for error messages. */
export function definitionNames(kind: DefinitionKind): string[] {
  const prefix = `${kind}\n`;
  const names: string[] = [];
  for (const key of registry.keys())
    if (key.startsWith(prefix)) names.push(key.slice(prefix.length));
  return names;
}

/**
 * The reference a worker resolves, or undefined when the module is unknown (a definition
 * made in an `eval` or a REPL cannot be found elsewhere).
 */
export function definitionRef(
  kind: DefinitionKind,
  name: string,
  module: string | undefined,
): DefinitionRef | undefined {
  return module === undefined ? undefined : { kind, name, module: moduleReference(module) };
}

/**
 * Finds a definition, importing its module when this thread has not loaded it yet.
 * Fails with the module's {@link TopLevelWorkError} if importing it started work, and
 * with an error naming the definition, the module and the fix when it is not there.
 */
export async function resolveDefinition<T = unknown>(ref: DefinitionRef): Promise<T> {
  const known = registered<T>(ref.kind, ref.name);
  if (known) return known.value;
  const { noun, fix } = kinds[ref.kind];
  const label = `${noun[0]!.toUpperCase()}${noun.slice(1)} '${ref.name}'`;
  try {
    await importDefinitions(moduleLocation(ref.module));
  } catch (error) {
    // A module that fails to load fails tasks with a task error (WEFT_UNKNOWN_TASK, which
    // executors report per task); the front ends' definitions fail with the import's own.
    if (isWeftError(error, 'WEFT_TOP_LEVEL_WORK') || ref.kind !== 'task') throw error;
    throw missing(
      ref.kind,
      `${label}: its module ${ref.module} failed to load: ${(error as Error).message}`,
      error,
    );
  }
  const found = registered<T>(ref.kind, ref.name);
  if (found) return found.value;
  const names = definitionNames(ref.kind);
  throw missing(
    ref.kind,
    `No ${noun} named '${ref.name}' after importing ${ref.module}` +
      (names.length === 0
        ? ''
        : ` (it defines: ${names.slice(0, 20).join(', ')}${names.length > 20 ? `, and ${names.length - 20} more` : ''})`) +
      `. ${fix}`,
  );
}

function missing(kind: DefinitionKind, message: string, cause?: unknown): Error {
  const options = cause === undefined ? undefined : { cause };
  // Tasks keep their own code (WEFT_UNKNOWN_TASK), which callers and tests recognise.
  return kind === 'task'
    ? new UnknownTaskError(message, options)
    : new ValidationError(message, options);
}

let root: string | null | undefined;

/**
 * The project's root: `WEFT_PROJECT_ROOT` when set, else the nearest folder with a
 * package.json at or above the working directory (undefined outside any package), found
 * once per thread. weft's worker threads and child processes are given the root of the
 * thread that starts them (see {@link projectEnv}), so that both name modules alike even
 * if the working directory changed in between.
 */
export function projectRoot(): string | undefined {
  if (root === undefined) {
    const given = process.env.WEFT_PROJECT_ROOT;
    root = given === undefined || given === '' ? findRoot(process.cwd()) : given;
  }
  return root ?? undefined;
}

/** The environment for a worker this thread starts: its own, with the project's root. */
export function projectEnv(): Record<string, string> {
  const env = { ...process.env } as Record<string, string>;
  const base = projectRoot();
  if (base !== undefined) env.WEFT_PROJECT_ROOT = base;
  return env;
}

function findRoot(from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

const references = new Map<string, string>();

/**
 * The portable name of the module at `url`: `./path/from/root.ts` inside the project,
 * else the URL itself.
 */
export function moduleReference(url: string): string {
  let reference = references.get(url);
  if (reference === undefined) {
    reference = url;
    const base = projectRoot();
    if (base !== undefined && url.startsWith('file:')) {
      const path = relative(base, fileURLToPath(url));
      if (path !== '' && !path.startsWith('..') && !isAbsolute(path)) {
        reference = `./${path.split(sep).join('/')}`;
      }
    }
    references.set(url, reference);
  }
  return reference;
}

const locations = new Map<string, string>();

/** The URL to import for a module reference made by {@link moduleReference}. */
export function moduleLocation(reference: string): string {
  if (!reference.startsWith('./')) return reference;
  let location = locations.get(reference);
  if (location === undefined) {
    const base = projectRoot();
    if (base === undefined) {
      throw new ValidationError(
        `Module ${reference} is named from the project's root, but no package.json was found at or ` +
          `above ${process.cwd()}: start the worker in the project's folder.`,
      );
    }
    location = pathToFileURL(join(base, reference)).href;
    locations.set(reference, location);
  }
  return location;
}
