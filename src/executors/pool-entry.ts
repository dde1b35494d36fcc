/**
 * How worker threads and child processes start: the plain-JavaScript boot module,
 * told by environment where the worker code is and whether to install the TypeScript
 * loader first (Node 20 does not carry `--import` loaders into worker threads).
 */
import { projectEnv } from '../core/registry.ts';
import { workersUseTypeScript } from './worker-args.ts';

const fromSource = import.meta.url.endsWith('.ts');

/** The module tinypool starts each worker with. */
export const workerBootUrl = new URL('./worker-boot.js', import.meta.url);

const workerEntryUrl = new URL(
  fromSource ? './worker-entry.ts' : './worker-entry.js',
  import.meta.url,
);

/** True when this process runs TypeScript through tsx, so workers need it too. */
function parentRunsTypeScript(args: readonly string[]): boolean {
  return (
    fromSource ||
    workersUseTypeScript() ||
    args.some((arg) => /(^|[=/\\])tsx([/\\@]|$)/.test(arg) || arg.includes('/tsx/'))
  );
}

/**
 * Environment and flags for a new worker. Workers get the TypeScript loader from the boot
 * module instead of `--import`: Node 20 does not carry `--import` loaders into worker
 * threads, and the boot module's loader keeps weftjs one module in CommonJS projects.
 */
export function workerLaunch(): {
  env: Record<string, string>;
  execArgv: string[];
} {
  const typescript = parentRunsTypeScript(process.execArgv);
  const execArgv = withoutTsxImports(process.execArgv);
  const env: Record<string, string> = {
    // With the project's root of this thread: workers name modules from the same root.
    ...projectEnv(),
    WEFT_WORKER_ENTRY: workerEntryUrl.href,
    WEFT_WORKER_TYPESCRIPT: typescript ? '1' : '0',
  };
  return { env, execArgv };
}

function withoutTsxImports(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--import' && /tsx/.test(args[i + 1] ?? '')) {
      i++;
      continue;
    }
    if (/^--import=.*tsx/.test(arg)) continue;
    kept.push(arg);
  }
  return kept;
}
