/**
 * How a worker finds the task a job names: by importing the job's module from the
 * project the worker was started in, once, and looking the task up by name. Found tasks
 * and failures are kept, so that a queue of a million jobs imports nothing a million
 * times, and a module missing here fails each of its jobs at once, naming the module and
 * the project root the worker looked in.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isWeftError, UnknownTaskError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import {
  moduleLocation,
  moduleReference,
  projectRoot,
  resolveDefinition,
} from '../core/registry.ts';
import type { Task } from '../core/task.ts';

/** Most (module, task) pairs remembered; beyond, the oldest are forgotten. */
const cacheLimit = 4096;

type Found = { readonly task: Task } | { readonly error: Error };

/** Finds jobs' tasks for one worker and checks them against its executor. */
export class TaskResolver {
  readonly #executor: Executor;
  readonly #found = new Map<string, Found | Promise<Found>>();

  constructor(executor: Executor) {
    this.#executor = executor;
  }

  /**
   * The task `name` of `module` (a reference from the project root, or a file URL), or
   * the error its jobs fail with. Synchronous once known, so that a job of a known task
   * costs a map lookup.
   */
  find(name: string, module: string): Found | Promise<Found> {
    const key = `${module}\n${name}`;
    const known = this.#found.get(key);
    if (known !== undefined) return known;
    const finding = this.#resolve(name, module).then((found) => {
      // Kept as a plain value from now on: later jobs need no promise.
      if (this.#found.get(key) === finding) this.#found.set(key, found);
      return found;
    });
    this.#found.set(key, finding);
    if (this.#found.size > cacheLimit) this.#found.delete(this.#found.keys().next().value!);
    return finding;
  }

  async #resolve(name: string, module: string): Promise<Found> {
    try {
      const checked = checkModule(name, module);
      if ('error' in checked) return checked;
      const task = await resolveDefinition<Task>({ kind: 'task', name, module: checked.module });
      this.#executor.check(task);
      return { task };
    } catch (error) {
      return { error: explain(name, module, error) };
    }
  }
}

/** Where the worker looks for modules, as messages say it. */
function rootText(): string {
  return projectRoot() ?? `no project (no package.json at or above ${process.cwd()})`;
}

/**
 * The module a job names, in the one spelling the worker imports it by, or why the worker
 * will not import it. With a project root, only files of the project are imported (named
 * from the root, or by a file URL inside it), so that a job's data cannot make a worker
 * load code from elsewhere on the machine; without one (tasks defined outside any
 * package), any file URL. A URL with a query or a hash is refused: each new one would
 * import the module anew, running its top-level code again and keeping another copy.
 */
function checkModule(name: string, module: string): { module: string } | { error: Error } {
  const root = projectRoot();
  const refuse = (why: string, fix: string) => ({
    error: new UnknownTaskError(
      `Task '${name}' cannot run on this worker: its module ${module} ${why} ` +
        `(project root of this worker: ${rootText()}). ${fix}`,
    ),
  });
  let path: string;
  if (module.startsWith('./')) {
    if (root === undefined) {
      return refuse(
        "is named from the project's root, but there is no project here",
        "Start weft worker in the project's folder.",
      );
    }
    path = resolve(root, module);
  } else if (module.startsWith('file:')) {
    if (module.includes('?') || module.includes('#')) {
      return refuse(
        'has a query or a hash, which would make the worker import the module anew for every job',
        'Name the module by its file alone, as weft does when it adds a job.',
      );
    }
    try {
      path = fileURLToPath(module);
    } catch {
      return refuse('is not a file URL it can read', 'Name a file of the project.');
    }
  } else {
    return refuse(
      'is neither a file of the project (./path/from/the/root) nor a file URL, and weft workers import nothing else',
      'Define the task in a module of the project.',
    );
  }
  if (root !== undefined) {
    const inside = relative(root, path);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      return refuse(
        'is outside the project root, and a worker imports only files of its project',
        'Define the task in a module inside the project, or start weft worker in the folder of the project that holds it (or set WEFT_PROJECT_ROOT).',
      );
    }
  }
  if (!existsSync(path)) {
    return refuse(
      `is not on this machine (looked for ${path})`,
      "Start weft worker in the project's folder, with the same code as the machine that added the job.",
    );
  }
  // One spelling per file, so that `./a/../b.ts`, `file:///…//b.ts` and the like import the same module once.
  const canonical = moduleReference(pathToFileURL(path).href);
  // Resolved once here, so that the import reports what is wrong inside the module.
  moduleLocation(canonical);
  return { module: canonical };
}

/** The error a task's jobs fail with, naming the module and where the worker looked. */
function explain(name: string, module: string, error: unknown): Error {
  if (isWeftError(error, 'WEFT_UNKNOWN_TASK')) {
    return new UnknownTaskError(`${error.message} (project root of this worker: ${rootText()})`, {
      cause: error.cause,
    });
  }
  if (isWeftError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new UnknownTaskError(
    `Task '${name}' cannot run on this worker: its module ${module} failed to load (${reason}); ` +
      `project root of this worker: ${rootText()}.`,
    { cause: error },
  );
}
