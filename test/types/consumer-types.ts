/**
 * What a consumer's compiler sees. `tsconfig.examples.json` checks this file against the
 * published declarations (dist/*.d.ts, through package.json exports) with strict `nodenext`
 * settings; `tsconfig.json` checks it against the source. A declaration that loses a type
 * (widens it, drops a variance, cannot name it) fails `tsc` here. Nothing runs: every check
 * sits in a function that is never called. With `declaration` on, the exports whose types are
 * inferred (at the end) must also be nameable, as they are in a consumer's own declarations.
 */
import {
  dag,
  events,
  type JobContext,
  map,
  openStore,
  State,
  type StateRecord,
  type Task,
  task,
  threads,
  withRun,
} from 'weftjs';
import {
  type Action,
  ApplicationBuilder,
  type ApplicationContext,
  type AppState,
  action,
  defaultTransition,
  expr,
  GraphBuilder,
  type Inputs,
  MapActions,
  MapActionsAndStates,
  MapStates,
  MemoryTracker,
  mapReduceAction,
  RunnableGraph,
  type StepOutcome,
  StorePersister,
  SubGraphTask,
  TaskBasedParallelAction,
  when,
} from 'weftjs/app';
import {
  type BullmqOptions,
  bullmq,
  RedisUnreachableError,
  startWorker,
  type WeftWorker,
  type WorkerStats,
} from 'weftjs/bullmq';
import {
  type CompilerTask,
  type JoinerInput,
  LLMCompiler,
  type PlannerInput,
  parsePlan,
  scheduleTasks,
  type ToolArgs,
} from 'weftjs/compiler';
import { type Accessor, Flow, ForEach, type LayerView, Parameter } from 'weftjs/flow';

/** Compile-time check that two types are mutually assignable; a mismatch fails `tsc`. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** True only for `any`, so a type that silently became `any` is caught. */
type IsAny<T> = 0 extends 1 & T ? true : false;
function expectType<_T extends true>(): void {}

export const square: Task<number, number> = task('square', (x: number) => x * x);
export const shout = task('shout', async (text: string, { signal }) => {
  signal.throwIfAborted();
  return text.toUpperCase();
});

export function stateTypes(): void {
  const s = State.of({ count: 0, items: [] as string[] });
  expectType<Same<typeof s, State<{ count: number; items: string[] }>>>();

  // The issue's case: an updated typed State is an AppState, and a plain State.
  const appState: AppState = s.update({ b: 2 });
  const plain: State = s.update({ b: 2 });
  const record: State<StateRecord> = State.of({ a: 1 });
  // Fewer keys, or wider values, fit too: State is covariant.
  const fewer: State<{ count: number }> = s;
  const wider: State<{ count: number | string }> = s;
  const generic = <T extends StateRecord>(typed: State<T>): State => typed;
  generic(s);

  const next = s
    .update({ count: 1 })
    .append({ items: 'a' })
    .extend({ items: ['b', 'c'] });
  expectType<Same<typeof next, State<{ count: number; items: string[] }>>>();
  const counted = next.increment({ count: 2 });
  expectType<Same<typeof counted, State<{ count: number; items: string[] }>>>();
  const retyped = s.update({ count: 'many', name: 'x' });
  expectType<Same<typeof retyped, State<{ count: string; items: string[]; name: string }>>>();
  expectType<Same<ReturnType<typeof s.get<'count'>>, number>>();
  const keys = s.keys();
  expectType<Same<typeof keys, ('count' | 'items')[]>>();
  expectType<
    Same<typeof s extends State<infer T> ? T : never, { count: number; items: string[] }>
  >();
  const kept = s.wipe({ keep: ['count'] });
  expectType<Same<typeof kept, State<{ count: number }>>>();
  const deleted = s.wipe({ delete: ['count'] });
  expectType<Same<typeof deleted, State<{ items: string[] }>>>();
  const picked = s.subset('items');
  expectType<Same<typeof picked, State<{ items: string[] }>>>();
  const merged = s.merge(State.of({ count: true }));
  expectType<Same<typeof merged, State<{ count: boolean; items: string[] }>>>();
  const withDefault = State.of<{ n?: number }>({}).get('n', 'none');
  expectType<Same<typeof withDefault, number | 'none'>>();
  for (const [key, value] of s) expectType<Same<[typeof key, typeof value], [string, unknown]>>();

  // @ts-expect-error 'missing' is not a key of this state.
  s.get('missing');
  // @ts-expect-error items holds strings.
  s.append({ items: 1 });
  // @ts-expect-error count is not an array.
  s.extend({ count: [1] });
  // @ts-expect-error items is not a number.
  s.increment({ items: 1 });
  // @ts-expect-error a State without `count` is not a State with it.
  const missing: State<{ count: number }> = State.of({ items: [] as string[] });
  // @ts-expect-error a number is not a string.
  const narrower: State<{ count: string }> = s;

  // AppState reads loosely (keys are named at run time), yet the State itself is not `any`.
  const loose = appState.get('anything');
  expectType<IsAny<typeof loose>>();
  // @ts-expect-error an AppState is a State, not a number.
  const notAny: number = appState;
  void [plain, record, fewer, wider, missing, narrower, notAny];
}

export async function engineTypes(ctx: JobContext): Promise<void> {
  const squares = await map([1, 2, 3], square, { executor: threads(), signal: ctx.signal });
  expectType<Same<typeof squares, number[]>>();
  for await (const y of map([1, 2, 3], square, { ordered: false })) {
    expectType<Same<typeof y, number>>();
  }
  const settled = await map(['a', 'b'], shout, { onError: 'collect' });
  expectType<Same<typeof settled, (string | Error)[]>>();
  const lengths = await map(['a', 'bb'], (text: string) => text.length);
  expectType<Same<typeof lengths, number[]>>();
  // @ts-expect-error square takes numbers.
  await map(['a'], square);

  const results = await dag([
    { id: 'a', task: shout, input: 'x' },
    { id: 'b', task: square, input: 2 },
    { id: 'c', task: square, dependencies: ['a', 'b'], input: (done) => done.get('b') },
  ]);
  expectType<Same<typeof results, Map<string, unknown>>>();

  const store = await openStore('memory:');
  const total = await withRun({ store, runId: 'nightly' }, async (run) => {
    expectType<Same<typeof run.id, string>>();
    return (await map([1, 2], square)).length;
  });
  expectType<Same<typeof total, number>>();

  const off = events.on('task:end', (event) => {
    expectType<Same<typeof event.key, string>>();
    expectType<Same<typeof event.durationMs, number>>();
  });
  off();
  for await (const event of events.stream({ signal: ctx.signal })) void event.type;
}

// Function actions: the state parameter is an AppState, the inputs are named.
const start = action({ reads: [], writes: ['prompts'] }, (state) =>
  state.update({ prompts: ['a', 'b'] }),
);
const queryLlm = action(
  { reads: ['prompt'], writes: ['llm_output'], inputs: ['model'] },
  async (state, { model }, context) => {
    context.signal.throwIfAborted();
    return state.update({ llm_output: `${model}: ${state.get('prompt')}` });
  },
);
const withResult = action({ reads: [], writes: ['n'] }, (state) => [
  { note: 'a result' },
  state.update({ n: 1 }),
]);
const done = action({ reads: ['all'], writes: [] }, (state) => state);

class Models extends MapActionsAndStates {
  *actions(): Generator<Action> {
    yield queryLlm.bind({ model: 'a' }).withName('a_answer');
    yield queryLlm.bind({ model: 'b' }).withName('b_answer');
  }
  *states(state: AppState, _context: ApplicationContext, _inputs: Inputs) {
    for (const prompt of state.get('prompts')) yield state.update({ prompt });
  }
  reduce(state: AppState, states: Iterable<AppState>) {
    return state.update({ all: [...states].map((sub) => sub.get('llm_output')) });
  }
  get reads() {
    return ['prompts'];
  }
  get writes() {
    return ['all'];
  }
}

class OverPrompts extends MapStates {
  action() {
    return queryLlm.bind({ model: 'a' });
  }
  async *states(state: AppState) {
    for (const prompt of state.get('prompts')) yield state.update({ prompt });
  }
  async reduce(state: AppState, states: AsyncIterable<AppState>) {
    const all = [];
    for await (const sub of states) all.push(sub.get('llm_output'));
    return state.update({ all });
  }
  override isAsync() {
    return true;
  }
  get reads() {
    return ['prompts'];
  }
  get writes() {
    return ['all'];
  }
}

class OverModels extends MapActions {
  actions() {
    return [queryLlm.bind({ model: 'a' }), RunnableGraph.create(queryLlm.bind({ model: 'b' }))];
  }
  override state(state: AppState) {
    return state.update({ prompt: state.get('prompts')[0] });
  }
  reduce(state: AppState) {
    return state.update({ all: [] });
  }
  get reads() {
    return ['prompts'];
  }
  get writes() {
    return ['all'];
  }
}

class Tasks extends TaskBasedParallelAction {
  *tasks(state: AppState, context: ApplicationContext) {
    const graph = RunnableGraph.create(queryLlm.bind({ model: 'a' }));
    for (const [i, prompt] of state.get('prompts').entries()) {
      yield new SubGraphTask({
        graph,
        state: state.update({ prompt }),
        applicationId: `${context.appId}:${i}`,
      });
    }
  }
  reduce(state: AppState) {
    return state.update({ all: [] });
  }
  get reads() {
    return ['prompts'];
  }
  get writes() {
    return ['all'];
  }
}

const functional = mapReduceAction({
  action: [queryLlm.bind({ model: 'a' })],
  state: function* (state) {
    for (const prompt of state.get('prompts')) yield state.update({ prompt });
  },
  reducer: (state, states) => state.update({ all: [...states].map((t) => t.get('llm_output')) }),
  reads: ['prompts'],
  writes: ['all'],
});

export async function appTypes(): Promise<void> {
  const store = await openStore('memory:');
  const persister = new StorePersister(store);
  const app = new ApplicationBuilder()
    .withActions({ start, models: new Models(), done })
    .withActions({ prompts: new OverPrompts(), overModels: new OverModels(), tasks: new Tasks() })
    .withActions({ functional, withResult })
    .withTransitions(
      ['start', 'models'],
      ['models', 'done', expr('len(all) > 0')],
      ['models', 'start', when({ all: [] })],
      ['models', 'start', defaultTransition],
    )
    .withState({ prompts: ['a'] })
    .withState(State.of({ prompts: ['a'] }))
    .withEntrypoint('start')
    .withIdentifiers({ appId: 'my-app' })
    .withStatePersister(persister)
    .initializeFrom(persister, {
      resumeAtNextAction: true,
      defaultState: { prompts: ['a'] },
      defaultEntrypoint: 'start',
    })
    .withTracker(new MemoryTracker())
    .withParallelExecutor(() => threads())
    .build();
  const { action: last, result, state } = await app.run({ haltAfter: ['done'] });
  expectType<Same<typeof last, string | undefined>>();
  expectType<Same<typeof state, AppState>>();
  void result;
  const stepped: StepOutcome | null = await app.step({ inputs: { model: 'a' } });
  for await (const outcome of app.iterate({ haltBefore: ['done'] })) void outcome.state;
  const graph = new GraphBuilder().withActions({ start, done }).withTransitions(['start', 'done']);
  new RunnableGraph(graph.build(), 'start', ['done']);
  void stepped;
}

export async function flowTypes(): Promise<void> {
  const flow = new Flow('JoinFlow');
  const Shard = flow.layer('Shard', (self) => {
    self.shard({ foo: [1, 2] });
    self.set({ bar: 'a' });
  });
  const Process = flow.layer(
    'Process',
    {
      foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'foo' })] }),
      retry: { attempts: 3, delay: 100, backoff: 2, jitter: 50 },
    },
    (self, shard) => {
      expectType<Same<typeof self.index, number>>();
      self.set({ foo: shard.foo * 10 });
    },
    [Shard],
  );
  flow.layer(
    'Join',
    async (_self, process: LayerView) => {
      const foo: Accessor<number> = process.foo;
      const all = await foo.toArray();
      expectType<Same<typeof all, number[]>>();
      const last = await foo.at(-1);
      expectType<Same<typeof last, number>>();
      void foo.length;
    },
    [Process],
  );
  new Parameter({ layer: Process, attribute: 'foo', index: null });
  const result = await flow.run({ runId: 'nightly' });
  expectType<Same<typeof result.runId, string>>();
}

export async function compilerTypes(): Promise<void> {
  const sleepNext = async (args: ToolArgs) => (args as { t: number }).t;
  const sleepTotal = (args: ToolArgs) => {
    const { time1 = 0, time2 = 0 } = args as { time1?: number; time2?: number };
    return time1 + time2;
  };
  const observations = await scheduleTasks(
    [
      { idx: 1, tool: 'sleep_next', args: { t: 1 } },
      { idx: 2, tool: 'sleep_next', args: { t: 2 }, dependencies: [] },
      { idx: 3, tool: 'sleep_total', args: { time1: '$1', time2: '$2' }, dependencies: [1, 2] },
    ],
    { tools: { sleep_next: sleepNext, sleep_total: sleepTotal, square } },
  );
  expectType<Same<typeof observations, Map<number, unknown>>>();

  for await (const planned of parsePlan('1. search("x")\n2. join()')) {
    expectType<Same<typeof planned, CompilerTask>>();
  }
  const compiler = new LLMCompiler({
    planner: async function* ({ nextIdx }: PlannerInput) {
      yield `${nextIdx}. sleep_next(1)\n`;
    },
    tools: { sleep_next: sleepNext },
    joiner: ({ observations }: JoinerInput) => ({ finish: observations.size }),
    maxReplans: 2,
  });
  const { answer, rounds } = await compiler.invoke('Is SF warmer than NYC?');
  expectType<Same<typeof answer, unknown>>();
  expectType<Same<typeof rounds, number>>();
}

// A consumer library's exports with inferred types: its declarations must name every type
// they mention through weftjs's own exports.
export async function bullmqTypes(): Promise<void> {
  const options: BullmqOptions = {
    connection: 'redis://127.0.0.1:6379',
    queue: 'jobs',
    prefix: 'bull',
    jobOptions: { priority: 1, removeOnComplete: true },
  };
  const remote = bullmq(options);
  // The same executor every fan-out takes.
  const cubes: number[] = await map([1, 2], square, { executor: remote });
  bullmq({ connection: { host: '127.0.0.1', port: 6379, db: 2 } });
  // @ts-expect-error BullMQ's jobId is weft's to set (from the task key)
  bullmq({ jobOptions: { jobId: 'mine' } });
  const worker: WeftWorker = await startWorker({ queue: 'jobs', executor: 'threads', workers: 2 });
  const stats: WorkerStats = worker.stats();
  const running: number = stats.running;
  await worker.close({ force: false });
  const error: unknown = new Error();
  if (error instanceof RedisUnreachableError) {
    const where: string = error.location;
    void where;
  }
  void cubes;
  void running;
}

export function withB<T extends StateRecord>(state: State<T>) {
  return state.update({ b: 2 });
}
export function withoutA<T extends { a: number; b: string }>(state: State<T>) {
  return state.wipe({ delete: ['a'] });
}
export function mergedStates<T extends StateRecord, U extends StateRecord>(
  a: State<T>,
  b: State<U>,
) {
  return a.merge(b);
}
export function entriesOf<T extends StateRecord>(state: State<T>) {
  return [...state];
}
export const concrete = State.of({ a: 1, xs: [] as number[] })
  .update({ c: 'x' })
  .append({ xs: 2 })
  .wipe({ delete: ['a'] });
export const executor = threads();
export const squares = map([1, 2], square);
export const graph = dag([{ id: 'a', task: square, input: 1 }]);
export const noop = action({ reads: [], writes: [] }, (state) => state);
export const flow = new Flow('Named');
export const layer = flow.layer('Only', (self) => self.set({ a: 1 }));
export const plan = parsePlan('1. search("x")');
