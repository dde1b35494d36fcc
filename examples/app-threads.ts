/**
 * A CPU-bound MapStates on worker threads: count the primes in 24 ranges, one
 * sub-application per range, then reduce the counts in range order. The same
 * application runs on child processes with `--executor processes`, or in this thread
 * with `--executor asyncPool`: with no `withParallelExecutor`, parallel actions use the
 * default executor, which is the one `weft run` chose.
 *
 *   weft run examples/app-threads.ts --executor threads
 */
import { ApplicationBuilder, type AppState, action, MapStates } from 'weftjs/app';

const limit = 2_400_000;
const ranges = 24;

/** Counts primes in [from, to) by trial division: real work for a worker. */
export const countPrimes = action({ reads: ['from', 'to'], writes: ['primes'] }, (state) => {
  let primes = 0;
  for (let n = Math.max(2, state.get('from')); n < state.get('to'); n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) primes++;
  }
  return state.update({ primes });
});

class CountPerRange extends MapStates {
  action() {
    return countPrimes.withName('countPrimes');
  }
  *states(state: AppState) {
    const size = state.get('limit') / ranges;
    for (let i = 0; i < ranges; i++) yield state.update({ from: i * size, to: (i + 1) * size });
  }
  reduce(state: AppState, states: Iterable<AppState>) {
    const counts = [...states].map((range) => range.get('primes') as number);
    return state.update({ counts, total: counts.reduce((a, b) => a + b, 0) });
  }
  get reads() {
    return ['limit'];
  }
  get writes() {
    return ['counts', 'total'];
  }
}

const summary = action({ reads: ['total', 'limit'], writes: ['summary'] }, (state) =>
  state.update({
    summary: `primes below ${state.get('limit').toLocaleString('en-US')}: ${state.get('total')}`,
  }),
);

export default new ApplicationBuilder()
  .withActions({ count: new CountPerRange(), summary })
  .withTransitions(['count', 'summary'])
  .withState({ limit })
  .withEntrypoint('count')
  .withIdentifiers({ appId: 'primes-per-range' })
  .build();
