/**
 * A script, run by the exit tests in a process of its own (never imported): one parallel
 * call on the shared pool of its target (`threads` or `mpc`, the first argument), whose
 * results it prints. It closes nothing: the process must still end by itself.
 */
import { calls } from './conventions.ts';
import { Probe } from './remote-batches.ts';
import { Jobs } from './remote-mpc.ts';

const results: { value: number }[] =
  process.argv[2] === 'mpc'
    ? await calls(new Jobs([1, 2])).byTask(2)
    : await calls(new Probe([1, 2])).where(2);
console.log(JSON.stringify(results.map((result) => result.value)));
