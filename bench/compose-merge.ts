/**
 * The merges of `weftjs/compose` against hand-written loops over the same typed arrays:
 * three float32 outputs of 1,024 × 4,096 merged by `sum`, by `concat` along axis 0, and
 * by the composite's batched concat (`mergeBatched`, mergeAxis 0 of each example, i.e.
 * batch axis 1: each row of the result is the three outputs' rows side by side). Each
 * side makes a new result per run, as a merge does. Throughput is bytes read + written
 * per second. Goal: each merge ≥ 0.5× its plain loop.
 *
 * Run: node --conditions=weft-source --import tsx bench/compose-merge.ts
 */
import { availableParallelism, loadavg } from 'node:os';
import { mergeBatched, mergeOutputs, type Tensor, tensor } from 'weftjs/compose';
import { best, median, printTable } from './lib.ts';

const ROWS = 1024;
const COLS = 4096;
const OUTPUTS = 3;
const RUNS = 9;
const SIZE = ROWS * COLS;

function makeOutputs(): Float32Array[] {
  return Array.from({ length: OUTPUTS }, (_, k) =>
    Float32Array.from({ length: SIZE }, (_, i) => ((i * (k + 3)) % 1000) / 7),
  );
}

// The plain loops: what one writes by hand for each merge.
function plainSum(arrays: readonly Float32Array[], out = new Float32Array(SIZE)): Float32Array {
  const [a, b, c] = arrays as [Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < SIZE; i++) out[i] = a[i]! + b[i]! + c[i]!;
  return out;
}

function plainConcat(
  arrays: readonly Float32Array[],
  out = new Float32Array(SIZE * OUTPUTS),
): Float32Array {
  for (let k = 0; k < OUTPUTS; k++) {
    const source = arrays[k]!;
    const offset = k * SIZE;
    for (let i = 0; i < SIZE; i++) out[offset + i] = source[i]!;
  }
  return out;
}

function plainRowConcat(
  arrays: readonly Float32Array[],
  out = new Float32Array(SIZE * OUTPUTS),
): Float32Array {
  const width = COLS * OUTPUTS;
  for (let row = 0; row < ROWS; row++) {
    for (let k = 0; k < OUTPUTS; k++) {
      const source = arrays[k]!;
      const from = row * COLS;
      const to = row * width + k * COLS;
      for (let j = 0; j < COLS; j++) out[to + j] = source[from + j]!;
    }
  }
  return out;
}

/** The ceiling of a copy: one TypedArray.set per output. */
function setConcat(arrays: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(SIZE * OUTPUTS);
  arrays.forEach((source, k) => {
    out.set(source, k * SIZE);
  });
  return out;
}

interface Scenario {
  readonly name: string;
  /** Bytes read + written by one merge. */
  readonly bytes: number;
  readonly weft: () => Float32Array;
  readonly plain: () => Float32Array;
  readonly extra?: readonly [string, () => Float32Array][];
}

export default async function main(): Promise<void> {
  console.log(
    `${OUTPUTS} float32 outputs of ${ROWS.toLocaleString('en-US')} × ${COLS.toLocaleString('en-US')}, ${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(2)}, best and median of ${RUNS} rounds`,
  );
  const arrays = makeOutputs();
  const tensors = arrays.map((data) => tensor(data, { shape: [ROWS, COLS] }));
  const names = tensors.map((_, i) => `operator_${i}`);
  const data = (merged: unknown) => (merged as Tensor<'float32'>).data;
  const bytes = SIZE * 4;
  // What a merge cannot do, since its result is new: write into memory already touched.
  const reused = 'plain loop, output reused (no new memory)';
  const sumOut = new Float32Array(SIZE);
  const concatOut = new Float32Array(SIZE * OUTPUTS);
  const scenarios: Scenario[] = [
    {
      name: 'sum',
      bytes: bytes * (OUTPUTS + 1),
      weft: () => data(mergeOutputs(tensors, { mergeStrategy: 'sum' })),
      plain: () => plainSum(arrays),
      extra: [[reused, () => plainSum(arrays, sumOut)]],
    },
    {
      name: 'concat, axis 0',
      bytes: bytes * OUTPUTS * 2,
      weft: () => data(mergeOutputs(tensors, { mergeStrategy: 'concat', mergeAxis: 0 })),
      plain: () => plainConcat(arrays),
      extra: [
        ['TypedArray.set per output', () => setConcat(arrays)],
        [reused, () => plainConcat(arrays, concatOut)],
      ],
    },
    {
      name: 'batched concat, example axis 0',
      bytes: bytes * OUTPUTS * 2,
      weft: () => data(mergeBatched(tensors, { names, mergeStrategy: 'concat', mergeAxis: 0 })),
      plain: () => plainRowConcat(arrays),
      extra: [[reused, () => plainRowConcat(arrays, concatOut)]],
    },
  ];

  const summary: string[] = [];
  for (const scenario of scenarios) {
    const targets: [string, () => Float32Array][] = [
      ['plain loop (the peer)', scenario.plain],
      ['weft', scenario.weft],
      ...(scenario.extra ?? []),
    ];
    // Each merge's result must equal the plain loop's before anything is timed.
    const expected = scenario.plain();
    for (const [label, run] of targets) {
      const out = run();
      if (out.length !== expected.length || out.some((value, i) => value !== expected[i])) {
        throw new Error(`${scenario.name}: ${label} differs from the plain loop`);
      }
    }
    // Rounds alternate the targets, so that a slow moment of the machine falls on all alike.
    const times = new Map<string, number[]>(targets.map(([label]) => [label, []]));
    for (let round = 0; round <= RUNS; round++) {
      for (const [label, run] of targets) {
        const start = performance.now();
        run();
        const took = performance.now() - start;
        if (round > 0) times.get(label)!.push(took); // round 0 warms up
      }
    }
    console.log(
      `\n**${scenario.name}** (${(scenario.bytes / 2 ** 20).toFixed(0)} MiB read + written)\n`,
    );
    const gbps = (ms: number) => scenario.bytes / 1e9 / (ms / 1000);
    const peer = best(times.get('plain loop (the peer)')!);
    printTable(
      ['how', 'best ms', 'median ms', 'GB/s (best)', 'GB/s (median)', 'vs plain loop'],
      targets.map(([label]) => {
        const runs = times.get(label)!;
        return [
          label,
          best(runs),
          median(runs),
          gbps(best(runs)),
          gbps(median(runs)),
          `${(peer / best(runs)).toFixed(2)}×`,
        ];
      }),
    );
    const ratio = peer / best(times.get('weft')!);
    const medianRatio = median(times.get('plain loop (the peer)')!) / median(times.get('weft')!);
    summary.push(
      `${scenario.name}: weft ${ratio.toFixed(2)}× the plain loop (best), ${medianRatio.toFixed(2)}× (median); goal ≥ 0.5×`,
    );
  }
  console.log(`\n${summary.join('\n')}`);
}

await main();
