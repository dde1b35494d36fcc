/**
 * A batch class whose parallel methods have target `mpc`: each runs once in the caller
 * and returns what runs once per item in child processes (a task or an exported
 * function). Child processes import this module: nothing here runs at its top level.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { task } from 'weftjs';
import { Batch, inbatchParallel } from 'weftjs/batch';
import { OddItemError } from './remote-batches.ts';

/** A task given each item's argument list: the item times the factor, and where it ran. */
export const scaleTask = task('test:batch/mpc-scale', ([value, factor]: [number, number]) => ({
  value: value * factor,
  pid: process.pid,
}));

/** A task that fails its first attempt and is retried once. */
export const retriedTask = task(
  'test:batch/mpc-retried',
  ([value]: [number], ctx) => {
    if (ctx.attempt === 1) throw new Error(`item ${value}: first attempt`);
    return { value, attempt: ctx.attempt, pid: process.pid };
  },
  { retries: 1, backoff: { delayMs: 1, jitter: false } },
);

/** An exported function, called with each item's arguments spread. */
export function scaled(this: unknown, value: number, factor: number, ...rest: unknown[]) {
  return { value: value * factor, rest: rest.length, pid: process.pid, self: typeof this };
}

/** Fails on odd items with their own error. */
export function oddFails(value: number) {
  if (value % 2 === 1) throw new OddItemError(`item ${value} is odd`);
  return value;
}

/** Appends the item to `dir`/log, and fails while a file `fail-<item>` is in `dir`. */
export function logWork(value: number, dir: string) {
  appendFileSync(join(dir, 'log'), `${value}\n`);
  if (existsSync(join(dir, `fail-${value}`))) throw new Error(`item ${value} was told to fail`);
  return value * 10;
}

/** Not exported: child processes cannot find it. */
function hidden(value: number) {
  return value;
}

function keep(results: unknown[]): unknown[] {
  return results;
}

export class Jobs extends Batch<number[]> {
  /** How many times the methods ran in this process. */
  methodRuns = 0;

  @inbatchParallel({ init: 'items', post: keep, target: 'mpc' })
  byTask(_factor: number) {
    this.methodRuns++;
    return scaleTask;
  }

  @inbatchParallel({ init: 'items', post: keep, target: 'mpc' })
  retried() {
    return retriedTask;
  }

  @inbatchParallel({ init: 'items', post: keep, target: 'mpc' })
  byFunction(_factor: number) {
    this.methodRuns++;
    return scaled;
  }

  @inbatchParallel({ init: 'items', post: keep, target: 'mpc' })
  failing() {
    return oddFails;
  }

  @inbatchParallel({ init: 'items', post: keep, target: 'mpc' })
  logged(_dir: string) {
    return logWork;
  }

  @inbatchParallel({ init: 'items', post: keep, target: 'mpc' })
  byHidden() {
    return hidden;
  }

  @inbatchParallel({ init: 'items', post: keep, target: 'mpc' })
  byNothing() {
    return 42;
  }
}
