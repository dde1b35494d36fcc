/**
 * Immutable State, as in Burr: every operation returns a new State and the old one is
 * untouched, so snapshots can be kept, compared and sent to workers safely.
 *
 *   weft run examples/state.ts
 */
import { State } from 'weftjs';

export default function main() {
  const start = State.of({ count: 0, items: [] as string[] });
  const next = start
    .update({ count: 1 })
    .append({ items: 'a' })
    .extend({ items: ['b', 'c'] })
    .increment({ count: 2 });
  return {
    start: start.toObject(),
    next: next.toObject(),
    onlyCount: next.subset('count').toObject(),
    wiped: next.wipe({ keep: ['items'] }).toObject(),
    keys: next.keys(),
  };
}
