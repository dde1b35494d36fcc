// Tasks that misbehave, to observe how each pool reports a dying worker.
import { threadId } from 'node:worker_threads';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Well-behaved task: waits a little, then reports which worker (pid:threadId) ran it.
export async function whoami(ms = 50) {
  await sleep(ms);
  return `${process.pid}:${threadId}`;
}

// Ends the worker thread (or the child process) from inside a task.
export function exitThree() {
  process.exit(3);
}

// Throws from a timer while the task's own promise is still pending (an uncaught exception).
export function asyncThrow() {
  return new Promise(() => {
    setTimeout(() => {
      throw new Error('boom');
    }, 10);
  });
}

// Allocates until the worker's heap limit (resourceLimits.maxOldGenerationSizeMb) is exceeded.
export function oom() {
  const hoard = [];
  for (;;) {
    hoard.push(new Array(100_000).fill(hoard.length));
  }
}
