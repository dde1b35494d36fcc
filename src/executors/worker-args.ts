/**
 * Node flags that worker threads and child processes start with: this process's own,
 * plus module loaders added at run time (the CLI adds the TypeScript loader so that
 * workers can import `.ts` task modules).
 */
const extraImports: string[] = [];

/** Makes every worker created from now on preload `specifier` with `--import`. */
export function addWorkerImport(specifier: string): void {
  if (!extraImports.includes(specifier)) extraImports.push(specifier);
}

/** The `execArgv` for a new worker thread or child process. */
export function workerExecArgv(): string[] {
  const args = [...process.execArgv];
  for (const specifier of extraImports) {
    if (
      !args.some(
        (arg, i) =>
          arg === `--import=${specifier}` || (arg === '--import' && args[i + 1] === specifier),
      )
    ) {
      args.push('--import', specifier);
    }
  }
  return args;
}
