/**
 * dag and map at scale: long chains must not overflow the call stack, and large graphs
 * and queues must give every result. Correctness only; speed is measured in
 * bench/dag-scale.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asyncPool,
  type DagNode,
  type DagOutcome,
  DependencyFailedError,
  dag,
  map,
  task,
} from 'weftjs';
import { isValidation } from '../fixtures/map-dag-tasks.ts';

const CHAIN = 300_000;

const increment = task('test:increment', (x: number) => x + 1);
const fails = task('test:fails', () => {
  throw new Error('boom');
});

/** n0 ← n1 ← … : node i depends on node i − 1 and computes i from its result. */
function chain(n: number, first: DagNode['task'] = increment): DagNode[] {
  const nodes: DagNode[] = [{ id: 'n0', task: first, input: -1 }];
  for (let i = 1; i < n; i++) {
    const previous = `n${i - 1}`;
    nodes.push({
      id: `n${i}`,
      task: increment,
      dependencies: [previous],
      input: (done) => done.get(previous),
    });
  }
  return nodes;
}

/** Seeded, so a failure can be repeated. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('dag at scale', () => {
  it(`runs a chain of ${CHAIN.toLocaleString('en-US')} nodes in order`, async () => {
    const results = await dag(chain(CHAIN));
    assert.equal(results.size, CHAIN);
    for (let i = 0; i < CHAIN; i++) {
      if (results.get(`n${i}`) !== i) assert.fail(`n${i} is ${results.get(`n${i}`)}, not ${i}`);
    }
  });

  it('runs a chain listed backwards (each node before its dependency)', async () => {
    const results = await dag(chain(CHAIN).reverse(), { executor: asyncPool() });
    assert.equal(results.size, CHAIN);
    assert.equal(results.get(`n${CHAIN - 1}`), CHAIN - 1);
  });

  it('fails every node of a long chain after a failed first node (collect)', async () => {
    // Far deeper than the call stack allows; fewer nodes, as each failure builds an error.
    const n = 100_000;
    const seen: DagOutcome[] = [];
    for await (const outcome of dag(chain(n, fails), { onError: 'collect' })) {
      seen.push(outcome);
    }
    assert.equal(seen.length, n);
    assert.equal(seen[0]!.id, 'n0');
    for (let i = 1; i < n; i++) {
      const outcome = seen[i]!;
      // In chain order, each naming its direct dependency and the root cause.
      if (
        outcome.id !== `n${i}` ||
        outcome.ok ||
        !(outcome.error instanceof DependencyFailedError) ||
        !outcome.error.message.includes(`'n${i - 1}'`) ||
        !outcome.error.message.includes("'n0'")
      ) {
        assert.fail(`outcome ${i} is wrong: ${JSON.stringify(outcome)} ${String(outcome)}`);
      }
    }
  });

  it('finds a cycle at the end of a long path without overflowing the stack', async () => {
    // n0 depends on n1, n1 on n2, …: the search goes 300,000 nodes deep, then meets
    // n(N-3) → n(N-2) → n(N-1) → n(N-3).
    let runs = 0;
    const counted = () => {
      runs++;
      return 1;
    };
    const nodes: DagNode[] = [];
    for (let i = 0; i < CHAIN; i++) {
      const next = i === CHAIN - 1 ? CHAIN - 3 : i + 1;
      nodes.push({ id: `n${i}`, task: counted, dependencies: [`n${next}`] });
    }
    const [a, b, c] = [CHAIN - 3, CHAIN - 2, CHAIN - 1].map((i) => `n${i}`);
    await assert.rejects(
      Promise.resolve(dag(nodes)),
      isValidation(new RegExp(`cycle ${a} → ${b} → ${c} → ${a}\\.`)),
    );
    assert.equal(runs, 0, 'no node ran');
  });

  for (const [label, asyncTasks] of [
    ['synchronous', false],
    ['async', true],
  ] as const) {
    it(`runs a wide random dag of 100,000 ${label} nodes with every result right`, async () => {
      const n = 100_000;
      const next = random(12);
      // Node i sums its dependencies' values plus i, modulo a prime.
      const prime = 1_000_003;
      const combine = (input: { i: number; values: number[] }) =>
        input.values.reduce((total, value) => (total + value) % prime, input.i);
      const combineTask = asyncTasks
        ? task('test:combineAsync', async (input: { i: number; values: number[] }) =>
            combine(input),
          )
        : task('test:combine', combine);
      const expected: number[] = [];
      const nodes: DagNode[] = [];
      for (let i = 0; i < n; i++) {
        const deps = new Set<number>();
        const count = i === 0 ? 0 : Math.floor(next() * 4);
        for (let k = 0; k < count; k++) deps.add(Math.floor(next() * i));
        // A repeated dependency counts once.
        const ids = [...deps].flatMap((d) => (d % 7 === 0 ? [`n${d}`, `n${d}`] : [`n${d}`]));
        expected.push(combine({ i, values: [...deps].map((d) => expected[d]!) }));
        nodes.push({
          id: `n${i}`,
          task: combineTask,
          dependencies: ids,
          input: (done) => ({ i, values: [...deps].map((d) => done.get(`n${d}`) as number) }),
        });
      }
      const results = await dag(nodes, { executor: asyncPool({ concurrency: 64 }) });
      assert.equal(results.size, n);
      for (let i = 0; i < n; i++) {
        if (results.get(`n${i}`) !== expected[i]) assert.fail(`n${i} is wrong`);
      }
    });
  }
});

describe('map at scale', () => {
  it('gives every output of 100,000 async items at concurrency Infinity', async () => {
    // All but 64 wait in the executor's queue, which compacts many times over.
    const n = 100_000;
    const items = Array.from({ length: n }, (_, i) => i);
    const out = await map(items, async (x: number) => x * 2, {
      executor: asyncPool({ concurrency: 64 }),
      concurrency: Number.POSITIVE_INFINITY,
    });
    assert.equal(out.length, n);
    for (let i = 0; i < n; i++) if (out[i] !== i * 2) assert.fail(`output ${i} is ${out[i]}`);
  });
});
