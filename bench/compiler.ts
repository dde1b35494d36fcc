/**
 * LLMCompiler's task fetching unit: weft's `scheduleTasks` against the seed's own (Python,
 * a ThreadPoolExecutor whose waiting tasks poll every 200 ms; bench/compiler-seed.py), in
 * the same run. Makespan against the critical path for (a) the seed's example: 1 s and
 * 2 s, then their sum (2 s); (b) a chain of 20 dependent tasks of 10 ms (200 ms); (c) 200
 * independent tasks of 10 ms, 50 at a time (4 × 10 ms = 40 ms). Tools sleep on timers.
 * Best of 3 after a warm-up; the seed example once each. Beside them, the same sleeps with
 * no scheduler at all (timers alone): what the timers themselves add. Goal: weft within
 * 5 ms of the critical path in each scenario.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type CompilerTask, scheduleTasks, type ToolArgs } from 'weftjs/compiler';
import { best, nowMs, printTable, timeRuns } from './lib.ts';

/** The seed's tools, in seconds as in the seed; `sleep_after` is the chain's. */
const tools = {
  sleep_next: async (args: ToolArgs) => {
    const { t } = args as { t: number };
    await sleep(t * 1000);
    return t;
  },
  sleep_total: (args: ToolArgs) => {
    const { time1 = 0, time2 = 0 } = args as { time1?: number; time2?: number };
    return time1 + time2;
  },
  sleep_after: async (args: ToolArgs) => {
    const { t } = args as { t: number };
    await sleep(t * 1000);
    return t;
  },
};

const seedPlan: CompilerTask[] = [
  { idx: 1, tool: 'sleep_next', args: { t: 1 } },
  { idx: 2, tool: 'sleep_next', args: { t: 2 } },
  { idx: 3, tool: 'sleep_total', args: { time1: '$1', time2: '$2' }, dependencies: [1, 2] },
];
const chainPlan: CompilerTask[] = Array.from({ length: 20 }, (_, i) => ({
  idx: i + 1,
  tool: 'sleep_after',
  args: i === 0 ? { t: 0.01 } : { t: 0.01, after: `$${i}` },
  dependencies: i === 0 ? [] : [i],
}));
const widePlan: CompilerTask[] = Array.from({ length: 200 }, (_, i) => ({
  idx: i + 1,
  tool: 'sleep_next',
  args: { t: 0.01 },
}));

interface Scenario {
  readonly name: string;
  readonly key: 'seed' | 'chain' | 'wide';
  readonly plan: readonly CompilerTask[];
  readonly concurrency?: number;
  readonly criticalMs: number;
  readonly runs: number;
  /** The same sleeps with no scheduler: awaited in a loop, or a hand-written pool. */
  readonly bare: () => Promise<unknown>;
  readonly check: (observations: Map<number, unknown>) => boolean;
}

const scenarios: Scenario[] = [
  {
    name: 'seed example (1 s, 2 s, sum)',
    key: 'seed',
    plan: seedPlan,
    criticalMs: 2000,
    runs: 1,
    bare: async () => {
      const [a, b] = await Promise.all([sleep(1000, 1), sleep(2000, 2)]);
      return a + b;
    },
    check: (observations) => observations.get(3) === 3,
  },
  {
    name: 'chain of 20 × 10 ms',
    key: 'chain',
    plan: chainPlan,
    criticalMs: 200,
    runs: 3,
    bare: async () => {
      for (let i = 0; i < 20; i++) await sleep(10);
    },
    check: (observations) => observations.size === 20 && observations.get(20) === 0.01,
  },
  {
    name: '200 independent × 10 ms, 50 at a time',
    key: 'wide',
    plan: widePlan,
    concurrency: 50,
    criticalMs: 40,
    runs: 3,
    bare: async () => {
      let next = 0;
      const worker = async () => {
        while (next < 200) {
          next++;
          await sleep(10);
        }
      };
      await Promise.all(Array.from({ length: 50 }, worker));
    },
    check: (observations) => observations.size === 200,
  },
];

async function weft(scenario: Scenario): Promise<number> {
  return measure(scenario.runs, async () => {
    const observations = await scheduleTasks(scenario.plan, {
      tools,
      concurrency: scenario.concurrency,
    });
    if (!scenario.check(observations)) throw new Error(`${scenario.name}: wrong observations`);
  });
}

/** Best of `runs` after a warm-up; a single run is timed alone. */
async function measure(runs: number, fn: () => Promise<unknown>): Promise<number> {
  if (runs > 1) return best(await timeRuns(runs, fn));
  const start = nowMs();
  await fn();
  return nowMs() - start;
}

interface SeedResult {
  readonly max_workers: number;
  readonly makespans_ms: number[];
}

function seed(scenario: Scenario): SeedResult {
  const script = fileURLToPath(new URL('compiler-seed.py', import.meta.url));
  const result = spawnSync('python3', [script, scenario.key, String(scenario.runs)], {
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`compiler-seed.py ${scenario.key} failed: ${result.error ?? result.stderr}`);
  }
  return JSON.parse(result.stdout) as SeedResult;
}

const rows: (string | number)[][] = [];
for (const scenario of scenarios) {
  const weftMs = await weft(scenario);
  const bareMs = await measure(scenario.runs, scenario.bare);
  const python = seed(scenario);
  const seedMs = best(python.makespans_ms);
  const runs = scenario.runs === 1 ? 'once' : `best of ${scenario.runs}`;
  rows.push(
    [`${scenario.name}, weft (${runs})`, scenario.criticalMs, weftMs, weftMs - scenario.criticalMs],
    [
      `${scenario.name}, timers alone (${runs})`,
      scenario.criticalMs,
      bareMs,
      bareMs - scenario.criticalMs,
    ],
    [
      `${scenario.name}, seed, ${python.max_workers} threads (${runs})`,
      scenario.criticalMs,
      seedMs,
      seedMs - scenario.criticalMs,
    ],
  );
}

console.log('\nLLMCompiler task fetching unit: makespan against the critical path\n');
printTable(['scenario', 'critical path ms', 'makespan ms', 'overhead ms'], rows);
