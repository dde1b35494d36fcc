/**
 * The job of the fault-injection tests, run with `weft run`: a map of `count` tasks (its
 * first argument) that each append `<item> <pid>` to the executions file named by
 * WEFT_FAULT_LOG as they start, so that a test can count executions across processes
 * and kills. With WEFT_FAULT_GATE=`<item>:<file>`, the tasks from that item on wait until
 * the file exists, which holds the run at a known point while the test acts.
 * It prints the number of outputs and their digest: equal digests, equal outputs.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JobContext, map, task } from 'weftjs';

/** Tasks in flight at once: what a kill may cost in repeated executions. */
export const concurrency = 8;

const log = process.env.WEFT_FAULT_LOG;
const gate = parseGate(process.env.WEFT_FAULT_GATE);

export const record = task('faults:record', async (item: number) => {
  if (log) appendFileSync(log, `${item} ${process.pid}\n`);
  if (gate && item >= gate.from) await fileExists(gate.file);
  // Long enough that a kill lands among running tasks, short enough for a quick suite.
  await sleep(3);
  return { item, square: item * item, text: `item ${item}`.padEnd(64, '.') };
});

export default function main(ctx: JobContext): Promise<string> {
  return mapAndDigest(Number(ctx.args[0] ?? 300), ctx.signal);
}

/** The job's work: the map over `count` items, and the digest of its outputs. */
export async function mapAndDigest(count: number, signal?: AbortSignal): Promise<string> {
  const items = Array.from({ length: count }, (_, i) => i);
  const outputs = await map(items, record, { concurrency, ...(signal ? { signal } : {}) });
  const digest = createHash('sha256').update(JSON.stringify(outputs)).digest('hex');
  return `${outputs.length} ${digest}`;
}

function parseGate(text: string | undefined): { from: number; file: string } | undefined {
  if (!text) return undefined;
  const colon = text.indexOf(':');
  return { from: Number(text.slice(0, colon)), file: text.slice(colon + 1) };
}

/** Resolves once `file` exists, watching its folder (no polling). */
function fileExists(file: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dirname(file), () => {
      if (existsSync(file)) done();
    });
    const done = () => {
      watcher.close();
      resolve();
    };
    if (existsSync(file)) done();
  });
}
