/**
 * Resume of 1,000,000 tasks: a recorded `map` of no-op tasks whose outputs are the item
 * numbers, run once, then resumed with the same run id (nothing executes). Times the
 * resumed `withRun` as a whole (opening the run, looking the keys up, replaying the outputs
 * through `map`) and takes its peak memory, for two forms of the same map: collected (an
 * array in, `await map(...)` gives an array out) and streamed (a generator in, read with
 * `for await`). Peer: the same outputs read straight out of better-sqlite3, one
 * `SELECT key, output FROM tasks WHERE run_id = ?` iterated, each output decoded with the
 * store's serializer — the floor for reading 1M outputs back. Every phase is a fresh child
 * process, so that its peak RSS (`process.resourceUsage().maxRSS`) is its own; one more
 * run of each form, with `--expose-gc`, collects the garbage every 50 ms to find the most
 * heap live at once (the collected form holds its input and its output, 8 bytes an item
 * each). The first resume follows the
 * recording at once (in PostgreSQL, before the table is analysed); its time is shown apart.
 * Two sizes, 300,000 and 1,000,000, give the growth exponent of time and memory;
 * PostgreSQL the same at 60,000 and 200,000 (writing is slower there). Goal: 1M resumes
 * under 2 s on SQLite, with a peak that does not grow with the run.
 *
 * Environment: WEFT_BENCH_ITEMS (the large SQLite size; the small one is 0.3× it),
 * WEFT_BENCH_PG_ITEMS (the large PostgreSQL size), WEFT_BENCH_POSTGRES (a URL, or `off`),
 * WEFT_BENCH_RUNS (resumes per form, best taken; default 3).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { asyncPool, defaultSerializer, map, openStore, task, withRun } from 'weftjs';
import { printTable } from './lib.ts';
import { dropBenchSchema } from './stores.ts';

let executed = 0;
const noop = task('bench:noop', (i: number) => {
  executed++;
  return i;
});

type Phase = 'baseline' | 'record' | 'collected' | 'streamed' | 'peer';

interface PhaseResult {
  readonly ms: number;
  /** CPU time of the process over the same span (user + system), less moved by load. */
  readonly cpuMs: number;
  readonly peakMb: number;
  /** The most heap in use right after a full collection (runs with `--expose-gc` only). */
  readonly liveHeapMb: number;
  readonly executed: number;
  /** findCompleted calls made by the run. */
  readonly lookups: number;
}

function* numbers(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** One phase, in this (child) process: prints its result as the last line. */
async function childPhase(phase: Phase, storeUrl: string, runId: string, n: number) {
  // Only in the runs that measure the live heap: sampling costs time (and timers run only
  // when the event loop turns).
  let liveHeap = 0;
  const collect = (globalThis as { gc?: () => void }).gc;
  const sample = () => {
    collect?.();
    liveHeap = Math.max(liveHeap, process.memoryUsage().heapUsed);
  };
  const sampler = collect ? setInterval(sample, 50) : undefined;
  let ms = 0;
  let cpuMs = 0;
  let lookups = 0;
  const cpuSince = (from: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(from);
    return (used.user + used.system) / 1000;
  };
  if (phase === 'peer') {
    // SQLite only: the file, read as it is.
    const db = new Database(storeUrl.slice('sqlite:'.length), { readonly: true });
    const start = performance.now();
    const cpu = process.cpuUsage();
    let sum = 0;
    let rows = 0;
    const select = db.prepare('SELECT key, output FROM tasks WHERE run_id = ?');
    for (const row of select.iterate(runId) as Iterable<{ key: string; output: string }>) {
      sum += defaultSerializer.decode(row.output) as number;
      rows++;
    }
    ms = performance.now() - start;
    cpuMs = cpuSince(cpu);
    db.close();
    if (rows !== n || sum !== (n * (n - 1)) / 2) throw new Error(`peer read ${rows} rows`);
  } else if (phase !== 'baseline') {
    const store = await openStore(storeUrl);
    const find = store.findCompleted.bind(store);
    store.findCompleted = (id, keys) => {
      lookups++;
      return find(id, keys);
    };
    const executor = asyncPool({ concurrency: 64 });
    const start = performance.now();
    const cpu = process.cpuUsage();
    await withRun({ store, runId }, async () => {
      if (phase === 'collected') {
        const items = Array.from({ length: n }, (_, i) => i);
        const out = await map(items, noop, { executor });
        if (out.length !== n || out[n - 1] !== n - 1) throw new Error('wrong result');
      } else {
        let seen = 0;
        for await (const out of map(numbers(n), noop, { executor })) {
          if (out !== seen) throw new Error(`output ${seen} is ${out}`);
          seen++;
        }
        if (seen !== n) throw new Error(`saw ${seen} outputs of ${n}`);
      }
    });
    ms = performance.now() - start;
    cpuMs = cpuSince(cpu);
    await executor.close();
    await store.close();
  }
  clearInterval(sampler);
  const result: PhaseResult = {
    ms,
    cpuMs,
    peakMb: process.resourceUsage().maxRSS / 1024,
    liveHeapMb: liveHeap / 2 ** 20,
    executed,
    lookups,
  };
  console.log(JSON.stringify(result));
}

function spawnPhase(
  phase: Phase,
  storeUrl: string,
  runId: string,
  n: number,
  live = false,
): PhaseResult {
  const out = execFileSync(
    process.execPath,
    [
      ...process.execArgv,
      ...(live ? ['--expose-gc'] : []),
      fileURLToPath(import.meta.url),
      phase,
      storeUrl,
      runId,
      String(n),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as PhaseResult;
}

const labels: Record<string, string> = {
  record: 'first run (recording)',
  collected: 'resumed withRun, collected',
  streamed: 'resumed withRun, streamed',
  peer: 'peer: SELECT … .iterate() + decode',
};

const exponent = (small: number, large: number, ratio: number) =>
  (Math.log(large / small) / Math.log(ratio)).toFixed(2);

async function main() {
  const large = Number(process.env.WEFT_BENCH_ITEMS ?? 1_000_000);
  const pgLarge = Number(process.env.WEFT_BENCH_PG_ITEMS ?? 200_000);
  const runs = Number(process.env.WEFT_BENCH_RUNS ?? 3);
  const pgUrl = process.env.WEFT_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_${Math.random().toString(36).slice(2, 10)}`;
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
  const stores: [name: string, url: string, sizes: number[]][] = [
    ['SQLite', `sqlite:${join(dir, 'weft.db')}`, [Math.round(large * 0.3), large]],
  ];
  if (pgUrl !== 'off') {
    stores.push(['PostgreSQL', `${pgUrl}?schema=${schema}`, [Math.round(pgLarge * 0.3), pgLarge]]);
  }
  const rows: (string | number)[][] = [];
  const growth: (string | number)[][] = [];
  const versusPeer: string[] = [];
  try {
    const baseline = spawnPhase('baseline', '', '', 0);
    rows.push(['none (Node + weft loaded)', '-', '-', '-', '-', '-', baseline.peakMb, '-', '-']);
    for (const [name, url, sizes] of stores) {
      const bySize = new Map<number, Map<string, PhaseResult>>();
      for (const n of sizes) {
        const runId = `resume-1m-${n}`;
        const phases = new Map<string, PhaseResult>();
        bySize.set(n, phases);
        const record = spawnPhase('record', url, runId, n);
        if (record.executed !== n) throw new Error(`${name}: recorded ${record.executed} of ${n}`);
        phases.set('record', record);
        const forms: Phase[] = url.startsWith('sqlite:')
          ? ['collected', 'streamed', 'peer']
          : ['collected', 'streamed'];
        const firsts = new Map<string, number>();
        for (const form of forms) {
          let bestOf: PhaseResult | undefined;
          let worstPeak = 0;
          for (let i = 0; i < runs; i++) {
            const result = spawnPhase(form, url, runId, n);
            if (result.executed !== 0) {
              throw new Error(`${name} ${form}: executed ${result.executed}`);
            }
            if (i === 0) firsts.set(form, result.ms);
            if (!bestOf || result.ms < bestOf.ms) bestOf = result;
            worstPeak = Math.max(worstPeak, result.peakMb);
          }
          const live = form === 'peer' ? undefined : spawnPhase(form, url, runId, n, true);
          // Times are the best run's; the peak the worst run's.
          phases.set(form, { ...bestOf!, peakMb: worstPeak, liveHeapMb: live?.liveHeapMb ?? 0 });
        }
        for (const [form, r] of phases) {
          const resumed = form === 'collected' || form === 'streamed';
          rows.push([
            name,
            n.toLocaleString('en-US'),
            labels[form]!,
            r.ms,
            firsts.get(form) ?? '-',
            r.cpuMs,
            r.peakMb,
            resumed ? r.liveHeapMb : '-',
            resumed ? String(r.lookups) : '-',
          ]);
        }
      }
      const [small, big] = sizes as [number, number];
      for (const form of bySize.get(big)!.keys()) {
        if (form === 'record') continue;
        const a = bySize.get(small)!.get(form)!;
        const b = bySize.get(big)!.get(form)!;
        growth.push([
          name,
          labels[form]!,
          exponent(a.ms, b.ms, big / small),
          exponent(a.cpuMs, b.cpuMs, big / small),
          `${a.peakMb.toFixed(0)} → ${b.peakMb.toFixed(0)}`,
          exponent(a.peakMb - baseline.peakMb, b.peakMb - baseline.peakMb, big / small),
          form === 'peer' ? '-' : `${a.liveHeapMb.toFixed(1)} → ${b.liveHeapMb.toFixed(1)}`,
        ]);
      }
      const peer = bySize.get(big)!.get('peer');
      if (peer) {
        for (const form of ['collected', 'streamed']) {
          const r = bySize.get(big)!.get(form)!;
          versusPeer.push(
            `${name}, ${big.toLocaleString('en-US')} items, ${form}: ${(r.ms / peer.ms).toFixed(2)}× ` +
              `the peer's time, ${(r.cpuMs / peer.cpuMs).toFixed(2)}× its CPU`,
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (pgUrl !== 'off') {
      await dropBenchSchema(pgUrl, schema);
    }
  }
  console.log(
    `\nResume of a recorded map of no-op tasks (nothing executed again); best of ${runs}\n`,
  );
  printTable(
    [
      'store',
      'items',
      'run',
      `ms (best of ${runs})`,
      'first ms',
      'CPU ms',
      'peak RSS MB',
      'live heap MB',
      'lookups',
    ],
    rows,
  );
  console.log('\nGrowth from the small size to the large one (exponent: 1.00 is linear)\n');
  printTable(
    [
      'store',
      'run',
      'time exponent',
      'CPU exponent',
      'peak RSS MB',
      'RSS above baseline exponent',
      'live heap MB',
    ],
    growth,
  );
  console.log(
    `\n${versusPeer.join('\n')}\nLoad average: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
}

const [phase, storeUrl, runId, count] = process.argv.slice(2);
if (phase) await childPhase(phase as Phase, storeUrl!, runId!, Number(count));
else await main();
