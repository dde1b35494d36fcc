/**
 * The seed's task fetching unit on weft: tasks 1 and 2 sleep 1 s and 2 s at once, task 3
 * sums their observations as soon as both are done — 2 s in all, the critical path, with
 * no polling delay.
 *
 *   weft run examples/compiler-seed.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { scheduleTasks, type ToolArgs } from 'weftjs/compiler';

async function sleep_next(args: ToolArgs) {
  const { t } = args as { t: number };
  await sleep(t * 1000);
  return t;
}

function sleep_total(args: ToolArgs) {
  const { time1 = 0, time2 = 0 } = args as { time1?: number; time2?: number };
  return time1 + time2;
}

export default async function main() {
  const started = performance.now();
  const observations = await scheduleTasks(
    [
      { idx: 1, tool: 'sleep_next', args: { t: 1 }, dependencies: [] },
      { idx: 2, tool: 'sleep_next', args: { t: 2 }, dependencies: [] },
      { idx: 3, tool: 'sleep_total', args: { time1: '$1', time2: '$2' }, dependencies: [1, 2] },
    ],
    { tools: { sleep_next, sleep_total } },
  );
  const seconds = (performance.now() - started) / 1000;
  console.log('observations:', Object.fromEntries(observations));
  console.log(`makespan: ${seconds.toFixed(1)} s (critical path 2 s)`);
}
