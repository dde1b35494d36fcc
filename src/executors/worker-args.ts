/**
 * Whether new worker threads and child processes install the TypeScript loader before
 * they import task modules. The CLI turns it on for a `.ts` job; a process started with
 * tsx itself is recognised from its own flags (see pool-entry.ts).
 */
let typescript = false;

/** Makes every worker created from now on install the TypeScript loader. */
export function useTypeScriptInWorkers(): void {
  typescript = true;
}

/** True once {@link useTypeScriptInWorkers} was called. */
export function workersUseTypeScript(): boolean {
  return typescript;
}
