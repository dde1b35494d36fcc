/**
 * A datarax composite of three element-wise operators (x → -exp(-exp(x)), softplus,
 * tanh / 2, as operator tasks) over a batch of 1,024 examples of 4,096 float32, merged by
 * `sum` and by `concat`: on `threads({ workers: 2 })` against the same composite inline
 * (in this thread, one task after another), beside a plain loop doing the same work
 * without weft. Goal: threads ≥ 1.6× inline on 2 cores.
 *
 * Run: node --conditions=weft-source --import tsx bench/compose-composite.ts
 */
import { availableParallelism, loadavg } from 'node:os';
import { inline, threads } from 'weftjs';
import {
  CompositeOperator,
  type MergeStrategy,
  ParallelStrategy,
  type Tensor,
  tensor,
} from 'weftjs/compose';
import {
  elementWise,
  gumbel,
  gumbelOp,
  halfTanh,
  halfTanhOp,
  softplus,
  softplusOp,
} from './compose/operators.ts';
import { best, median, printTable } from './lib.ts';

const EXAMPLES = 1_024;
const FEATURES = 4_096;
const RUNS = 8;

function makeBatch(memory: 'own' | 'shared' = 'own'): Tensor {
  const length = EXAMPLES * FEATURES;
  // A batch made in shared memory is read there by the workers; any other is copied into
  // shared memory once per apply.
  const data =
    memory === 'shared'
      ? new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT))
      : new Float32Array(length);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7) % 1000) / 500 - 1;
  return tensor(data, { shape: [EXAMPLES, FEATURES] });
}

/** The same work without weft: each function over each example, then the merge. */
function plainLoop(batch: Tensor, merge: 'sum' | 'concat'): Float32Array {
  const fns = [gumbel, softplus, halfTanh];
  const out = new Float32Array(merge === 'sum' ? batch.size : batch.size * fns.length);
  const x = batch.data as Float32Array;
  for (let e = 0; e < EXAMPLES; e++) {
    const example = x.subarray(e * FEATURES, (e + 1) * FEATURES);
    fns.forEach((fn, f) => {
      const y = elementWise(example, fn);
      if (merge === 'concat') out.set(y, (e * fns.length + f) * FEATURES);
      else for (let i = 0; i < FEATURES; i++) out[e * FEATURES + i]! += y[i]!;
    });
  }
  return out;
}

export default async function main(): Promise<void> {
  const cores = availableParallelism();
  console.log(
    `${EXAMPLES} examples of ${FEATURES} float32, 3 operators, ${cores} cores, load ${loadavg()[0]!.toFixed(2)}`,
  );
  const batch = makeBatch();
  const sharedBatch = makeBatch('shared');
  const pool = threads({ workers: 2 });
  const here = inline();
  const rows: (string | number)[][] = [];
  const ratios: string[] = [];
  try {
    for (const merge of ['sum', 'concat'] as const satisfies readonly MergeStrategy[]) {
      const composite = new CompositeOperator({
        name: `bench-${merge}`,
        operators: [gumbelOp, softplusOp, halfTanhOp],
        strategy: new ParallelStrategy({ mergeStrategy: merge }),
      });
      const expected = plainLoop(batch, merge);
      const ways: [string, () => Promise<Float32Array>][] = [
        ['plain loop (no weft)', async () => plainLoop(batch, merge)],
        ['inline', async () => dataOf(await composite.apply(batch, { executor: here }))],
        [
          'threads, 2 workers',
          async () => dataOf(await composite.apply(batch, { executor: pool })),
        ],
        [
          'threads, batch in shared memory',
          async () => dataOf(await composite.apply(sharedBatch, { executor: pool })),
        ],
      ];
      // Rounds alternate the ways, so that a slow moment of the machine falls on all alike.
      const times = new Map<string, number[]>(ways.map(([label]) => [label, []]));
      // CPU time of the whole process (every thread) per ms of wall time: how many cores worked.
      const busy = new Map<string, number[]>(ways.map(([label]) => [label, []]));
      for (let round = 0; round <= RUNS; round++) {
        for (const [label, run] of ways) {
          const cpu = process.cpuUsage();
          const start = performance.now();
          const out = await run();
          const took = performance.now() - start;
          const { user, system } = process.cpuUsage(cpu);
          if (round > 0) {
            times.get(label)!.push(took); // round 0 warms up
            busy.get(label)!.push((user + system) / 1000 / took);
          }
          check(out, expected, `${merge}, ${label}`);
        }
      }
      for (const [label] of ways) {
        const runs = times.get(label)!;
        rows.push([merge, label, best(runs), median(runs), median(busy.get(label)!)]);
      }
      const inlineMs = best(times.get('inline')!);
      const threadsMs = best(times.get('threads, 2 workers')!);
      const plainMs = best(times.get('plain loop (no weft)')!);
      const sharedMs = best(times.get('threads, batch in shared memory')!);
      const medianRatio = median(times.get('inline')!) / median(times.get('threads, 2 workers')!);
      const sharedMedian =
        median(times.get('inline')!) / median(times.get('threads, batch in shared memory')!);
      ratios.push(
        `${merge}: threads vs inline ${(inlineMs / threadsMs).toFixed(2)}× best, ` +
          `${medianRatio.toFixed(2)}× median (goal ≥ 1.6×); batch in shared memory ` +
          `${(inlineMs / sharedMs).toFixed(2)}× best, ${sharedMedian.toFixed(2)}× median; ` +
          `inline vs plain loop ${(plainMs / inlineMs).toFixed(2)}×`,
      );
    }
  } finally {
    await pool.close();
    await here.close();
  }
  printTable(['merge', 'how', 'best ms', 'median ms', 'cores busy'], rows);
  console.log('');
  for (const line of ratios) console.log(line);
  console.log(`load at the end ${loadavg()[0]!.toFixed(2)}`);
}

function dataOf(tree: unknown): Float32Array {
  return (tree as Tensor).data as Float32Array;
}

/** Throws unless `out` holds what the plain loop made (float32 sums may round alike). */
function check(out: Float32Array, expected: Float32Array, what: string): void {
  if (out.length !== expected.length) {
    throw new Error(`${what}: ${out.length} values, expected ${expected.length}`);
  }
  for (let i = 0; i < out.length; i += 997) {
    if (Math.abs(out[i]! - expected[i]!) > 1e-5) {
      throw new Error(`${what}: value ${i} is ${out[i]}, expected ${expected[i]}`);
    }
  }
}

await main();
