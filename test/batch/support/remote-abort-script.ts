/**
 * A script, run by the abort tests in a process of its own (never imported): it aborts a
 * call on the shared pool while a worker thread is inside the call's item, held before
 * it has asked for the batch (remote-gated.ts), then lets the worker go on and ends. It
 * closes nothing: the process must still end by itself.
 */
import { calls } from './conventions.ts';
import { Gated, GateKeeper } from './remote-gated.ts';

const gate = new GateKeeper();
const controller = new AbortController();
const call = calls(new Gated([1])).value({ signal: controller.signal });
await gate.waiting;
controller.abort(new Error('stopped by the script'));
const outcome = await call.then(
  () => 'resolved',
  (error: Error) => error.message,
);
gate.open();
gate.close();
console.log(outcome);
