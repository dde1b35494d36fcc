/**
 * Workers import the module that defines a task, an action or a flow to find it there.
 * Such a module may also run its work at the top level; front ends ask
 * {@link importingDefinitions} before starting work, so that a worker's import is
 * refused with a clear error instead of starting more workers without end.
 */

let importing = 0;

/** Imports `module` for its definitions, marking the import in progress. */
export async function importDefinitions(module: string): Promise<unknown> {
  importing++;
  try {
    return await import(module);
  } finally {
    importing--;
  }
}

/** True while a worker imports a module for its definitions. */
export function importingDefinitions(): boolean {
  return importing > 0;
}
