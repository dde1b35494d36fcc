/**
 * A Burr MapStates fan-out with a trivial action and a reduce, against LangGraph.js doing
 * the same with `Send` (a map node per item, a reducer channel, then a reduce node), in
 * the same process. weft at 1,000 to 100,000 items; LangGraph.js at 1,000, 5,000 and
 * 10,000 unless its 5,000 run predicts more than 2 minutes for 10,000 (then skipped, and
 * said). Best of 3 (LangGraph.js: 1 run above 1,000 items), after a warm-up.
 * Goals: weft's 10,000 under 0.5 s, 100,000 ≤ 11× its 10,000, ≥ 50× LangGraph.js at 5,000.
 */
import { Annotation, END, Send, START, StateGraph } from '@langchain/langgraph';
import { ApplicationBuilder, type AppState, action, MapStates } from 'weftjs/app';
import { best, nowMs, printTable, timeRuns } from './lib.ts';

const double = action({ reads: ['item'], writes: ['out'] }, (state) =>
  state.update({ out: state.get('item') * 2 }),
);

class DoubleAll extends MapStates {
  action() {
    return double.withName('double');
  }
  *states(state: AppState) {
    for (const item of state.get('items') as number[]) yield state.update({ item });
  }
  reduce(state: AppState, states: Iterable<AppState>) {
    let total = 0;
    for (const sub of states) total += sub.get('out') as number;
    return state.update({ total });
  }
  get reads() {
    return ['items'];
  }
  get writes() {
    return ['total'];
  }
}

async function weft(items: number[]): Promise<number> {
  const app = new ApplicationBuilder()
    .withActions({ fan: new DoubleAll() })
    .withState({ items })
    .withEntrypoint('fan')
    .build();
  const { state } = await app.run({ haltAfter: ['fan'] });
  return state.get('total');
}

const GraphState = Annotation.Root({
  items: Annotation<number[]>,
  outs: Annotation<number[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  total: Annotation<number>,
});

const langgraph = new StateGraph(GraphState)
  .addNode('double', (input: { item: number }) => ({ outs: [input.item * 2] }))
  .addNode('reduce', (state: typeof GraphState.State) => ({
    total: state.outs.reduce((a, b) => a + b, 0),
  }))
  .addConditionalEdges(START, (state: typeof GraphState.State) =>
    state.items.map((item) => new Send('double', { item })),
  )
  .addEdge('double', 'reduce')
  .addEdge('reduce', END)
  .compile();

async function viaLanggraph(items: number[]): Promise<number> {
  const out = await langgraph.invoke({ items }, { recursionLimit: 100 });
  return out.total;
}

const expected = (n: number) => n * (n - 1);
const rows: (string | number)[][] = [];
const weftMs = new Map<number, number>();
const lgMs = new Map<number, number>();

for (const n of [1_000, 5_000, 10_000, 100_000]) {
  const items = Array.from({ length: n }, (_, i) => i);
  const ms = best(
    await timeRuns(3, async () => {
      if ((await weft(items)) !== expected(n)) throw new Error('weft: wrong total');
    }),
  );
  weftMs.set(n, ms);
}

for (const n of [1_000, 5_000, 10_000]) {
  if (n === 10_000) {
    // Growth from 1,000 to 5,000 predicts 10,000; skip it past two minutes.
    const k = Math.log(lgMs.get(5_000)! / lgMs.get(1_000)!) / Math.log(5);
    const predicted = lgMs.get(5_000)! * 2 ** k;
    if (predicted > 120_000) {
      console.log(`LangGraph.js at 10,000 skipped: predicted ${Math.round(predicted / 1000)} s`);
      break;
    }
  }
  const items = Array.from({ length: n }, (_, i) => i);
  const once = async () => {
    if ((await viaLanggraph(items)) !== expected(n)) throw new Error('LangGraph.js: wrong total');
  };
  if (n === 1_000) {
    lgMs.set(n, best(await timeRuns(3, once)));
  } else {
    const start = nowMs();
    await once();
    lgMs.set(n, nowMs() - start);
  }
}

for (const n of [1_000, 5_000, 10_000, 100_000]) {
  const w = weftMs.get(n)!;
  const l = lgMs.get(n);
  rows.push([
    n.toLocaleString('en-US'),
    w,
    l === undefined ? '—' : l,
    l === undefined ? '—' : `${(l / w).toFixed(0)}×`,
  ]);
}
console.log('\nMapStates fan-out and reduce (trivial action), ms\n');
printTable(['items', 'weft', 'LangGraph.js (Send)', 'LangGraph.js / weft'], rows);
const ratio = weftMs.get(100_000)! / weftMs.get(10_000)!;
console.log(
  `\nweft 10,000: ${weftMs.get(10_000)!.toFixed(0)} ms (goal < 500); 100,000 / 10,000 = ${ratio.toFixed(1)}× (goal ≤ 11)`,
);
