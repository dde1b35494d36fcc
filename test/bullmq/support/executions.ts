/**
 * The executions log that `counted` tasks append to (one `<pid> <key>` line per
 * execution, from any process): reading it, counting it, and waiting, with a deadline,
 * until it holds what a test waits for (watching the file, no polling).
 */
import { existsSync, readFileSync, watch, writeFileSync } from 'node:fs';

/** One execution of a task. */
export interface Execution {
  /** The process it ran in. */
  readonly pid: number;
  readonly key: string;
}

/** The executions logged in `file` so far, in order (none when it does not exist). */
export function readExecutions(file: string): Execution[] {
  if (!existsSync(file)) return [];
  const executions: Execution[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    // A line being written by another process may be seen without its end: skip it.
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    executions.push({ pid: Number(line.slice(0, space)), key: line.slice(space + 1) });
  }
  return executions;
}

/** How many times each key ran. */
export function countByKey(executions: readonly Execution[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { key } of executions) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/** The keys that ran more than once. */
export function repeatedKeys(executions: readonly Execution[]): string[] {
  return [...countByKey(executions)].filter(([, n]) => n > 1).map(([key]) => key);
}

/** Options of {@link waitForExecutions}. */
export interface WaitOptions {
  /** Settles when waiting is pointless (the process that runs the tasks has ended). */
  readonly stop?: Promise<unknown>;
  /** @default 30000 */
  readonly timeoutMs?: number;
  /** Says what was awaited, in the rejection. */
  readonly what: string;
}

/**
 * Resolves with the executions logged in `file` as soon as `until` holds for them (checked
 * on every change of the file); rejects when `stop` settles or the deadline passes first.
 */
export function waitForExecutions(
  file: string,
  until: (executions: readonly Execution[]) => boolean,
  { stop, timeoutMs = 30_000, what }: WaitOptions,
): Promise<Execution[]> {
  return new Promise((resolve, reject) => {
    writeFileSync(file, '', { flag: 'a' });
    let done = false;
    const finish = (error: Error | undefined, executions: Execution[] = []) => {
      if (done) return;
      done = true;
      watcher.close();
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(executions);
    };
    const look = () => {
      if (done) return;
      const executions = readExecutions(file);
      if (until(executions)) finish(undefined, executions);
    };
    const watcher = watch(file, look);
    const timer = setTimeout(() => {
      look();
      finish(
        new Error(
          `${what}: not seen within ${timeoutMs} ms (${readExecutions(file).length} executions logged)`,
        ),
      );
    }, timeoutMs);
    void stop?.finally(() => {
      look();
      finish(
        new Error(
          `${what}: not seen before the tasks' process ended (${readExecutions(file).length} executions logged)`,
        ),
      );
    });
    look();
  });
}
