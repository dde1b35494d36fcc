/** Tasks the benchmarks run on worker threads and child processes (workers import this module). */
import { task, transfer } from 'weftjs';
import { burn } from './pool-libraries/cpu.mjs';

/** CPU-bound: a calibrated busy loop. */
export const burnTask = task('bench:burn', (iterations: number) => burn(iterations));

/** Tiny: measures per-task overhead. */
export const increment = task('bench:increment', (n: number) => n + 1);

/** Sums a typed array; returns the array moved back when asked, so both directions can be timed. */
export const sumArray = task(
  'bench:sumArray',
  (input: { data: Float64Array; sendBack: boolean }) => {
    const { data } = input;
    let sum = 0;
    for (let i = 0; i < data.length; i += 4096) sum += data[i]!;
    return input.sendBack ? transfer({ sum, data }) : { sum };
  },
);
