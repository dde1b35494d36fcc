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

/**
 * Imports the job module and returns its default export. A TypeScript module of a
 * CommonJS project is compiled to CommonJS, where `export default` becomes
 * `module.exports.default`; it is unwrapped so that both module systems run the same job.
 */
export async function importJob(path: string): Promise<unknown> {
  const exported = (await loadModule(pathToFileURL(path).href)).default;
  if (
    typeof exported === 'object' &&
    exported !== null &&
    (exported as { __esModule?: unknown }).__esModule === true &&
    'default' in exported
  ) {
    return (exported as { default: unknown }).default;
  }
  return exported;
}
