/**
 * What the fault-injection tests share: the job they run and its uninterrupted output,
 * seeded random choices (the seed is printed, and a failure says how to replay it), the
 * executions file the job's tasks append to, and killing a `weft` process once that
 * file holds a chosen number of lines.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtempSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Finished, killAtLines, lines } from '../fixtures/child-jobs.ts';
import type { Started } from '../fixtures/weft-cli.ts';
import { concurrency, mapAndDigest } from './map-job.ts';

/** The job every fault test runs (see map-job.ts). */
export const job = fileURLToPath(new URL('./map-job.ts', import.meta.url));
/** Tasks the job keeps in flight: what one kill may cost in repeated executions. */
export { concurrency };

/** A folder of its own for a test file's stores and executions files. */
export function scratch(label: string): string {
  return mkdtempSync(join(tmpdir(), `weft-faults-${label}-`));
}

/**
 * What the job prints over `count` items when nothing goes wrong: its work done here, in
 * this process, from start to end. The reference the faulted runs must end with.
 */
export async function uninterruptedOutput(count: number): Promise<string> {
  const printed = await mapAndDigest(count);
  assert.match(printed, new RegExp(`^${count} [0-9a-f]{64}$`));
  return printed;
}

/** Random choices from one seed, so that a failing sequence of faults can be replayed. */
export interface Chance {
  readonly seed: number;
  /** A whole number from `min` to `max`, both included. */
  between(min: number, max: number): number;
}

/**
 * A seeded source of choices for one test: `WEFT_FAULT_SEED` when set, otherwise a new
 * seed, reported as a diagnostic of the test.
 */
export function chance(t: TestContext): Chance {
  const given = Number(process.env.WEFT_FAULT_SEED);
  const seed = Number.isSafeInteger(given) && given > 0 ? given : randomInt(1, 2 ** 31);
  t.diagnostic(`seed ${seed}`);
  // mulberry32: small, fast, and the same sequence for the same seed everywhere.
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    seed,
    between: (min, max) => min + Math.floor(next() * (max - min + 1)),
  };
}

/** Runs `fn`; a failure says which seed replays it. */
export async function replayable<T>(chance: Chance, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof Error) {
      error.message += `\n(replay with WEFT_FAULT_SEED=${chance.seed})`;
    }
    throw error;
  }
}

/** What the executions file says: each line is one execution of an item. */
export interface Executions {
  /** Executions so far, repeats included. */
  readonly total: number;
  /** How many times each item ran. */
  readonly counts: ReadonlyMap<number, number>;
}

/** Reads the executions file (none yet when it does not exist). */
export function executions(file: string): Executions {
  const counts = new Map<number, number>();
  const all = lines(file);
  for (const line of all) {
    const item = Number(line.split(' ')[0]);
    counts.set(item, (counts.get(item) ?? 0) + 1);
  }
  return { total: all.length, counts };
}

/**
 * Checks that every one of `count` items ran and that repeats stay within what `kills`
 * kills may cost: the tasks in flight at each kill and one group of records being written
 * (no larger than the concurrency).
 * @returns how many executions were repeats
 */
export function assertBoundedRepeats(file: string, count: number, kills: number): number {
  const { total, counts } = executions(file);
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !counts.has(i));
  assert.deepEqual(missing, [], 'every item ran');
  assert.equal(counts.size, count, 'no other item ran');
  const repeats = total - count;
  assert.ok(
    repeats <= kills * 2 * concurrency,
    `${repeats} executions were repeats; ${kills} kills may repeat at most the ${concurrency} ` +
      `tasks in flight and a group of ${concurrency} records at each`,
  );
  return repeats;
}

/**
 * Kills `started` with SIGKILL once `file` holds `total` lines.
 * @returns how the process ended (always by SIGKILL; it fails if it ended by itself first)
 */
export async function killAtExecutions(
  started: Started,
  file: string,
  total: number,
): Promise<Finished> {
  await killAtLines(file, started.child, {
    count: total,
    endedFirst: (code) => `weft ended (code ${code}) before ${total} executions`,
  });
  const end = await started.finished;
  assert.equal(end.signal, 'SIGKILL', `weft was killed: ${end.stderr}`);
  return end;
}

/**
 * Waits until `file` holds `total` lines, watching it (no polling).
 * @param stop settles when waiting is pointless, e.g. the process that writes has ended
 * @returns true once the lines are there, false if `stop` settled first
 */
export function executionsReached(
  file: string,
  total: number,
  stop: Promise<unknown>,
): Promise<boolean> {
  return new Promise((resolve) => {
    writeFileSync(file, '', { flag: 'a' });
    const done = (reached: boolean) => {
      watcher.close();
      resolve(reached);
    };
    const watcher = watch(file, () => {
      if (lines(file).length >= total) done(true);
    });
    void stop.finally(() => done(lines(file).length >= total));
    if (lines(file).length >= total) done(true);
  });
}
