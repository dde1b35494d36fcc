/**
 * Resuming in bounded memory: a recorded map of 100,000 items streamed from an async
 * generator, each output 5 KB (about 500 MB in all), run once and then resumed with the
 * same run id, in SQLite and in PostgreSQL. Each run is a fresh child process (plain
 * JavaScript against the built package, `npm run build`), so that its peak RSS
 * (`process.resourceUsage().maxRSS`) is its own. Goal: the resume's peak within 1.5× the
 * first run's. Then `weft show` on the run (text, `--all`, `--json`; output thrown
 * away), each a fresh process too. Set WEFT_BENCH_POSTGRES to another URL (or to `off`)
 * to change or skip PostgreSQL; WEFT_BENCH_ITEMS to change the item count.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable } from './lib.ts';
import { dropBenchSchema } from './stores.ts';

const N = Number(process.env.WEFT_BENCH_ITEMS ?? 100_000);
const childScript = fileURLToPath(new URL('./resume-memory-child.mjs', import.meta.url));
const weftBin = fileURLToPath(new URL('../bin/weft.js', import.meta.url));
// Loaded before the CLI: prints the process's peak RSS as it exits.
const reportPeak =
  "data:text/javascript,process.on('exit',()=>process.stderr.write('\\npeak '+process.resourceUsage().maxRSS/1024+'\\n'))";

interface ChildResult {
  readonly peakMb: number;
  readonly seconds: number;
  readonly executed: number;
  /** Lookups of completed keys (findCompleted calls). */
  readonly lookups: number;
}

function child(storeUrl: string, runId: string, count: number): ChildResult {
  const out = execFileSync(process.execPath, [childScript, storeUrl, runId, String(count)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
}

/**
 * Runs `weft show` on the run (its output thrown away): its peak RSS, and its time or how
 * it failed.
 */
function show(
  storeUrl: string,
  runId: string,
  flags: readonly string[],
): [number, number | string] {
  const start = performance.now();
  const ran = spawnSync(
    process.execPath,
    ['--import', reportPeak, weftBin, 'show', runId, '--store', storeUrl, ...flags],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
  );
  const ms = performance.now() - start;
  const peak = /\npeak ([\d.]+)\n/.exec(ran.stderr);
  if (!peak) throw new Error(`weft show failed: ${ran.stderr}`);
  if (ran.status !== 0) return [Number(peak[1]), `failed: ${ran.stderr.split('\n')[0]}`];
  return [Number(peak[1]), ms];
}

const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
const stores: [string, string][] = [['SQLite', `sqlite:${join(dir, 'weft.db')}`]];
const pgUrl = process.env.WEFT_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_${Math.random().toString(36).slice(2, 10)}`;
if (pgUrl !== 'off') stores.push(['PostgreSQL', `${pgUrl}?schema=${schema}`]);

const rows: (string | number)[][] = [];
try {
  const baseline = child('memory:', 'baseline', 0);
  rows.push(['none (Node + weft loaded)', '-', baseline.peakMb, '-', '-', '-']);
  for (const [name, url] of stores) {
    const runId = `resume-memory-${process.pid}`;
    const first = child(url, runId, N);
    if (first.executed !== N) throw new Error(`${name}: the first run executed ${first.executed}`);
    const resumed = child(url, runId, N);
    if (resumed.executed !== 0) throw new Error(`${name}: the resume executed ${resumed.executed}`);
    rows.push([
      name,
      'first run',
      first.peakMb,
      first.seconds * 1000,
      '1.00×',
      String(first.lookups),
    ]);
    rows.push([
      name,
      'resume (nothing executed)',
      resumed.peakMb,
      resumed.seconds * 1000,
      `${(resumed.peakMb / first.peakMb).toFixed(2)}×`,
      String(resumed.lookups),
    ]);
    for (const flags of [[], ['--all'], ['--json']]) {
      const [peakMb, ms] = show(url, runId, flags);
      rows.push([name, ['weft show', ...flags].join(' '), peakMb, ms, '-', '-']);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (pgUrl !== 'off') {
    await dropBenchSchema(pgUrl, schema);
  }
}

console.log(
  `\nA recorded map of ${N.toLocaleString('en-US')} streamed items with 5 KB outputs, run then resumed\n`,
);
printTable(['store', 'run', 'peak RSS MB', 'ms', 'RSS vs first run', 'lookups'], rows);
