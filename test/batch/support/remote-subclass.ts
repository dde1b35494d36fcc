/**
 * Subclasses defined apart from the parallel methods they inherit (from
 * remote-batches.ts). Worker threads import this module: nothing runs at its top level.
 */
import { inbatchParallel } from 'weftjs/batch';
import { Probe } from './remote-batches.ts';

/** With a parallel method of its own, defined here: workers find the class here. */
export class Derived extends Probe {
  @inbatchParallel({ init: 'indices', target: 'threads' })
  negate(i: number) {
    this.data[i] = -this.data[i]!;
  }
}

/** With no parallel method of its own: workers look for it only where its methods are defined. */
export class Bare extends Probe {}
