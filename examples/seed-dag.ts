/**
 * The LLMCompiler seed's task-fetching example as a weft dag: tasks 1 and 2 sleep 1 s
 * and 2 s; task 3 adds their results and starts the moment both are done. The seed
 * polls every 200 ms; weft is event-driven, so the makespan is the critical path, 2 s.
 *
 *   weft run examples/seed-dag.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { dag, type JobContext, task } from 'weftjs';

export const sleepNext = task('examples:sleepNext', async (seconds: number) => {
  await sleep(seconds * 1000);
  return seconds;
});

export const sleepTotal = task(
  'examples:sleepTotal',
  ({ time1, time2 }: { time1: number; time2: number }) => time1 + time2,
);

export default async function main(ctx: JobContext) {
  const started = performance.now();
  const observations = await dag(
    [
      { id: '1', task: sleepNext, input: 1 },
      { id: '2', task: sleepNext, input: 2 },
      {
        id: '3',
        task: sleepTotal,
        dependencies: ['1', '2'],
        input: (done) => ({ time1: done.get('1'), time2: done.get('2') }),
      },
    ],
    { signal: ctx.signal, scope: ctx.scope },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  return { observations: Object.fromEntries(observations), seconds };
}
