/**
 * Where a definition was made, read from the (source-mapped) stack. Workers find a
 * task, an action or a flow again by importing the module that defined it, so every
 * front end names its definitions by their call site.
 */
import { pathToFileURL } from 'node:url';
import { ValidationError } from './errors.ts';

/** Where a definition was made: its module (when a file) and `file:line:column`. */
export interface CallSite {
  /** URL of the module, or undefined when the frame is not a file (eval, REPL). */
  readonly module: string | undefined;
  readonly location: string;
}

/**
 * Finds the module and line that called `fn`: the line as people read it (through a
 * source map), the module as it was loaded. With source maps on (tsx turns them on), the
 * printed stack of built code names the TypeScript it came from, and a worker importing
 * that would load a second copy of the code, not the one that defined the task.
 */
export function callSite(fn: Function): CallSite | undefined {
  const printed = siteOfFrame(stackFrames(fn, 1)[0]);
  if (printed?.module === undefined) return printed;
  const loaded = loadedModule(fn);
  return loaded === undefined ? printed : { module: loaded, location: printed.location };
}

/** The URL of the module V8 ran at the frame above the call of `fn`, unmapped. */
function loadedModule(fn: Function): string | undefined {
  const holder: { stack?: unknown } = {};
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  // V8's own call sites: the source-map rewriting happens only when they are printed.
  Error.prepareStackTrace = (_error, sites) => sites;
  try {
    Error.captureStackTrace(holder, fn);
    const sites = holder.stack as readonly NodeJS.CallSite[] | undefined;
    const file = Array.isArray(sites) ? sites[0]?.getFileName() : undefined;
    if (file === undefined || file === null) return undefined;
    if (file.startsWith('file:')) return file;
    if (file.startsWith('/') || /^[A-Za-z]:\\/.test(file)) return pathToFileURL(file).href;
    return undefined;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

/** The `count` stack frames above the call of `fn`, as V8 prints them. */
export function stackFrames(fn: Function, count: number): string[] {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = count;
  try {
    Error.captureStackTrace(holder, fn);
  } finally {
    Error.stackTraceLimit = limit;
  }
  return holder.stack?.split('\n').slice(1) ?? [];
}

/** The module and `file:line:column` of one printed stack frame. */
export function siteOfFrame(frame: string | undefined): CallSite | undefined {
  if (frame === undefined) return undefined;
  const match =
    /\(?((?:file|data|https?):[^()\s]*?|\/[^()]*?|[A-Za-z]:\\[^()]*?):(\d+):(\d+)\)?\s*$/.exec(
      frame.trim(),
    );
  if (!match) return undefined;
  const file = match[1]!;
  const location = `${file}:${match[2]}:${match[3]}`;
  if (file.startsWith('file:')) return { module: file, location };
  if (file.startsWith('/') || /^[A-Za-z]:\\/.test(file)) {
    return { module: pathToFileURL(file).href, location };
  }
  return { module: undefined, location };
}

/**
 * A module given by the user (`{ module: import.meta.url }`) as a URL string.
 * @param where what is being defined, for the error message, e.g. `task('resize')`
 */
export function moduleUrl(module: string | URL, where: string): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return module;
  if (module.startsWith('/') || /^[a-z]:[\\/]/i.test(module)) return pathToFileURL(module).href;
  throw new ValidationError(
    `${where}: module must be a URL or an absolute path (use import.meta.url), got '${module}'.`,
  );
}
