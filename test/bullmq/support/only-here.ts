/**
 * A task whose module the missing-module test keeps out of the workers' copy of the
 * project: the orchestrator defines it, the workers cannot find it.
 */
import { task } from 'weftjs';

export const onlyHere = task('bullmq-test:onlyHere', (n: number) => n + 1);
