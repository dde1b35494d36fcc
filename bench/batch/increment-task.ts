/** The tiny item as a weft task, for the plain `map` row of the batch benchmark. */
import { task } from 'weftjs';

export const increment = task('bench:batch/increment', (x: number) => x + 1);
