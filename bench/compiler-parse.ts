/**
 * `parsePlan` on long lines streamed in 4-character chunks, as a model streams tokens:
 * time for 100 KB and 1 MB of plan text, and the growth exponent between them
 * (log(t₁ₘ / t₁₀₀ₖ) / log 10: 1 is linear, 2 quadratic). Three shapes: one task whose
 * argument is one long string; one task whose argument is a long list of values; many
 * short task lines. Beside it, in the same run, Node's `readline` splitting the same
 * chunks into lines (a linear peer that only splits), and `parsePlan` given the text
 * whole. Best of 5 after a warm-up. Goal: a growth exponent near 1, as the peer's in the
 * same run (the load of the machine moves both), never near 2.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parsePlan } from 'weftjs/compiler';
import { best, printTable, timeRuns } from './lib.ts';

const chunkSize = 4;
const sizes = [100_000, 1_000_000];

interface Shape {
  readonly name: string;
  /** Plan text of about `bytes` characters, and the number of tasks in it. */
  readonly make: (bytes: number) => { text: string; tasks: number };
}

const shapes: Shape[] = [
  {
    name: 'one long string argument',
    make: (bytes) => ({ text: `1. search(query="${'a'.repeat(bytes)}")\n2. join()\n`, tasks: 1 }),
  },
  {
    name: 'one long list argument',
    make: (bytes) => {
      const items = Math.floor(bytes / 10);
      const list = Array.from({ length: items }, (_, i) => (i % 2 ? `"v${i % 1000}"` : i)).join(
        ', ',
      );
      return { text: `1. total(values=[${list}])\n2. join()\n`, tasks: 1 };
    },
  },
  {
    name: 'short lines (~25 bytes each)',
    make: (bytes) => {
      const lines = Math.floor(bytes / 25);
      const text = Array.from({ length: lines }, (_, i) => `${i + 1}. f(x=$${Math.max(i, 1)})\n`);
      return { text: `${text.join('')}${lines + 1}. join()\n`, tasks: lines };
    },
  },
];

function chunksOf(text: string): string[] {
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += chunkSize) chunks.push(text.slice(at, at + chunkSize));
  return chunks;
}

/** Chunks handed over one by one, each after a microtask, as a model's stream would. */
async function* stream(chunks: readonly string[]): AsyncGenerator<string> {
  for (const chunk of chunks) {
    await Promise.resolve();
    yield chunk;
  }
}

async function countTasks(text: AsyncIterable<string> | string): Promise<number> {
  let tasks = 0;
  for await (const _ of parsePlan(text)) tasks++;
  return tasks;
}

async function countLines(chunks: readonly string[]): Promise<number> {
  let lines = 0;
  const reader = createInterface({ input: Readable.from(chunks), crlfDelay: Infinity });
  for await (const _ of reader) lines++;
  return lines;
}

const exponent = (small: number, large: number) =>
  Math.log(large / small) / Math.log(sizes[1]! / sizes[0]!);

const rows: (string | number)[][] = [];
for (const shape of shapes) {
  const times = { streamed: [] as number[], whole: [] as number[], readline: [] as number[] };
  for (const bytes of sizes) {
    const { text, tasks } = shape.make(bytes);
    const chunks = chunksOf(text);
    const check = (found: number) => {
      if (found !== tasks) throw new Error(`${shape.name}: ${found} tasks, expected ${tasks}`);
    };
    times.streamed.push(
      best(await timeRuns(5, async () => check(await countTasks(stream(chunks))))),
    );
    times.whole.push(best(await timeRuns(5, async () => check(await countTasks(text)))));
    times.readline.push(best(await timeRuns(5, () => countLines(chunks))));
  }
  for (const [runner, [small, large]] of [
    ['weft `parsePlan`, 4-char chunks', times.streamed],
    ['weft `parsePlan`, whole text', times.whole],
    ['Node `readline`, 4-char chunks (split only)', times.readline],
  ] as const) {
    rows.push([shape.name, runner, small!, large!, exponent(small!, large!)]);
  }
}
printTable(['shape', 'runner', '100 KB ms', '1 MB ms', 'growth exponent'], rows);
