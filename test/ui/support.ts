/**
 * What the `weft ui` tests share: the stores they run against (SQLite in a temporary
 * folder, PostgreSQL in a fresh schema, and SQLite with its fast queries hidden, so that
 * the answers computed by streaming are checked by the same cases), runs recorded by weft
 * itself (an application, a flow, a failed map, a few small runs), reading the API, and
 * small helpers (a store with properties replaced, a deferred, a port in use).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Executor, map, openStore, type Store, task, withRun } from 'weftjs';
import { ApplicationBuilder, action, mapReduceAction, StorePersister } from 'weftjs/app';
import { Flow } from 'weftjs/flow';
import { machineIdentity } from '../../src/core/lease.ts';
import type { ApiErrorBody } from '../../src/ui/api-types.ts';
import { freshPostgresSchema } from '../fixtures/services.ts';
import { foreachOver } from '../flow/support.ts';

// The flow tests' deferred: a promise the test resolves.
export { type Deferred, deferred } from '../flow/support.ts';

/** A store the API is tested on. */
export interface StoreCase {
  readonly name: string;
  open(): Promise<Store>;
}

/**
 * The stores of the shared cases. Call at the top level of a test file (the PostgreSQL
 * schema is dropped when the file's tests are done).
 * @param label A few lower-case letters naming the file.
 */
export function storeCases(label: string): StoreCase[] {
  const dir = mkdtempSync(join(tmpdir(), `weft-ui-${label}-`));
  const postgres = freshPostgresSchema(`ui${label}`);
  return [
    { name: 'sqlite', open: () => openStore(`sqlite:${join(dir, 'weft.db')}`) },
    { name: 'postgres', open: () => openStore(postgres.url) },
    {
      name: 'sqlite, answers streamed',
      open: async () => withoutQueries(await openStore(`sqlite:${join(dir, 'streamed.db')}`)),
    },
  ];
}

/**
 * `target` with the properties of `overrides` in place of its own. Its other methods are
 * bound to it, so that they reach its private fields through the proxy.
 */
export function overriding<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(inner, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof T];
      const value = Reflect.get(inner, property, inner);
      return typeof value === 'function' ? value.bind(inner) : value;
    },
  });
}

/**
 * `store` without its fast queries for viewers (`store.queries`): the server then computes
 * every answer from the store's streams of tasks and events. Every other method is the
 * store's own.
 */
export function withoutQueries(store: Store): Store {
  return overriding(store, { queries: undefined });
}

export const double = task('ui:double', (x: number) => x * 2);

/** Fails for 3 and 4, with a cause. */
export const failOnThree = task('ui:failOnThree', (x: number) => {
  if (x >= 3) throw new Error(`item ${x} is too big`, { cause: new RangeError('limit is 2') });
  return x;
});

/**
 * A run of an application (`start` → `fanOut` → `done`) whose parallel action maps over
 * three states as sub-applications; its states are saved after every step.
 */
export async function recordAppRun(store: Store, runId: string, appId: string): Promise<void> {
  const start = action({ reads: [], writes: ['xs', 'phase'] }, (state) =>
    state.update({ xs: [1, 2, 3], phase: 'started' }),
  );
  const step = action({ reads: ['x'], writes: ['y'], name: 'step' }, (state) =>
    state.update({ y: (state.get('x') as number) * 10 }),
  );
  const fanOut = mapReduceAction({
    action: step,
    state: function* (state) {
      for (const x of state.get('xs') as number[]) yield state.update({ x });
    },
    reducer: (state, states) => state.update({ ys: [...states].map((s) => s.get('y')) }),
    reads: ['xs'],
    writes: ['ys'],
  });
  const done = action({ reads: ['ys'], writes: ['phase'] }, (state) =>
    state.update({ phase: 'done' }),
  );
  await withRun({ store, runId, meta: { file: '/jobs/app-job.ts', args: [] } }, async () => {
    const app = new ApplicationBuilder()
      .withActions({ start, fanOut, done })
      .withTransitions(['start', 'fanOut'], ['fanOut', 'done'])
      .withEntrypoint('start')
      .withIdentifiers({ appId })
      .withStatePersister(new StorePersister(store))
      .build();
    await app.run({ haltAfter: ['done'] });
  });
}

/** A run of a flow: `Shard` (3 sharded values, one plain), `Process` (ForEach), `Join`. */
export async function recordFlowRun(
  store: Store,
  runId: string,
  name: string,
  executor: Executor,
): Promise<void> {
  const flow = new Flow(name, { store, executor });
  const Shard = flow.layer('Shard', (self) => {
    self.shard({ foo: [1, 2, 3] });
    self.set({ bar: 'b' });
  });
  const Process = flow.layer(
    'Process',
    { foreach: foreachOver(Shard, 'foo') },
    (self, shard) => {
      self.set({ v: (shard.foo as number) * 10 });
    },
    [Shard],
  );
  flow.layer(
    'Join',
    async (self, process) => {
      self.set({ all: await process.v.toArray() });
    },
    [Process],
  );
  await flow.run({ runId });
}

/**
 * A run of `weft run /jobs/failing.ts` whose map of 1…5 fails at 3, 4 and 5: every item
 * runs, then the run fails with the first task's error.
 */
export async function recordFailedRun(
  store: Store,
  runId: string,
  executor: Executor,
): Promise<void> {
  await assert.rejects(
    withRun({ store, runId, meta: { file: '/jobs/failing.ts', args: [] } }, async () => {
      const outcomes = await map([1, 2, 3, 4, 5], failOnThree, { executor, onError: 'collect' });
      const failed = outcomes.find((outcome) => outcome instanceof Error);
      if (failed) throw failed;
    }),
    /too big/,
  );
}

/** A small run of `n` tasks: completed, or failed when `fail`. */
export async function recordSmallRun(
  store: Store,
  runId: string,
  file: string,
  executor: Executor,
  fail = false,
): Promise<void> {
  const work = withRun({ store, runId, meta: { file, args: [] } }, () =>
    map(fail ? [1, 5] : [1, 2], fail ? failOnThree : double, { executor }),
  );
  if (fail) await assert.rejects(work);
  else await work;
}

/** A run of one map of `n` tasks, each taking its item's tenth of a millisecond. */
export async function recordWideRun(
  store: Store,
  runId: string,
  n: number,
  executor: Executor,
): Promise<void> {
  await withRun({ store, runId }, () =>
    map(
      Array.from({ length: n }, (_, i) => i),
      busy,
      { executor },
    ),
  );
}

/** Busy for `x` / 100 ms, so that tasks take different times. */
export const busy = task('ui:busy', (x: number) => {
  const until = performance.now() + (x % 100) / 100;
  while (performance.now() < until);
  return x;
});

/** Opens a run whose owner is a process of this machine that has ended: it shows as stopped. */
export async function recordStoppedRun(store: Store, runId: string): Promise<void> {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  assert.ok(pid);
  await store.openRun(
    runId,
    { file: '/jobs/crashed.ts', args: [] },
    {
      owner: `${hostname()}:${pid}:dead:${machineIdentity() ?? ''}`,
    },
  );
}

/** Runs `use` while another server holds a port of 127.0.0.1, and gives it that port. */
export async function withPortTaken(use: (port: number) => Promise<void>): Promise<void> {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    await use((taken.address() as AddressInfo).port);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
}

/** What an API call answered: status, content type, and the body as JSON. */
export interface Answer<T> {
  readonly status: number;
  readonly type: string | null;
  readonly body: T;
}

/** GETs `path` of a Hono app (or any fetch handler) and reads its JSON. */
export async function getJson<T>(
  app: { request(path: string): Response | Promise<Response> },
  path: string,
): Promise<Answer<T>> {
  const response = await app.request(path);
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: JSON.parse(text) as T,
  };
}

/** Asserts an error answer of `status` whose code is `code` and whose message matches. */
export function assertError(
  answer: Answer<unknown>,
  status: number,
  code: string,
  message: RegExp,
): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.match(answer.type ?? '', /application\/json/);
  const { error } = answer.body as ApiErrorBody;
  assert.equal(error.code, code);
  assert.match(error.message, message);
}
