/** Tasks of the bullmq benchmark; `weft worker`s import this module to find them. */
import { task } from 'weftjs';
import { burn } from '../pool-libraries/cpu.mjs';

/** Returns its input at once: what a job costs end to end, with no work in it. */
export const noop = task('bench:bullmq-noop', (n: number) => n);

/** CPU-bound: a calibrated busy loop. */
export const burnTask = task('bench:bullmq-burn', (iterations: number) => burn(iterations));
