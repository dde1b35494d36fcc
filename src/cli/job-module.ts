/**
 * Loading the module that `weft run` runs: TypeScript in either module system, here and in
 * the workers that import it again for its definitions, and its default export.
 */
import { pathToFileURL } from 'node:url';
import { loadModule } from '../core/definitions.ts';
import { registerTypeScript } from '../executors/register-typescript.js';
import { useTypeScriptInWorkers } from '../executors/worker-args.ts';

const typescriptFile = /\.[cm]?tsx?$/;

/** Installs the TypeScript loader when `path` is a TypeScript module, in this thread and in workers. */
export async function prepareTypeScript(path: string): Promise<void> {
  if (!typescriptFile.test(path)) return;
  await registerTypeScript();
  useTypeScriptInWorkers();
}

/** A job module as `weft run` uses it. */
export interface LoadedJob {
  /** Its default export: what runs. */
  readonly job: unknown;
  /** Its named exports (a composite's `batch`). */
  readonly exports: Readonly<Record<string, unknown>>;
}

/**
 * Imports the job module: its default export and its named exports. A TypeScript module
 * of a CommonJS project is compiled to CommonJS, where `export default` becomes
 * `module.exports.default` and the named exports sit on that exports object; it is
 * unwrapped so that both module systems run the same job.
 */
export async function importJob(path: string): Promise<LoadedJob> {
  const namespace = (await loadModule(pathToFileURL(path).href)) as Record<string, unknown>;
  const exported = namespace.default;
  if (
    typeof exported !== 'object' ||
    exported === null ||
    (exported as { __esModule?: unknown }).__esModule !== true
  ) {
    return { job: exported, exports: namespace };
  }
  return {
    job: 'default' in exported ? (exported as { default: unknown }).default : exported,
    exports: { ...exported, ...namespace },
  };
}
