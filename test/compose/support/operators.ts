/**
 * Operators the compose tests run on worker threads and in child processes. Workers
 * import this module to find them: it only defines, nothing runs at its top level.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { operator, type Tensor, type Tree, tensor, withState } from 'weftjs/compose';

/** x * 2, element-wise. */
export const double = operator('compose-test/double', (x: Tensor) => x.map((v) => v * 2));

/** x * 3, element-wise. */
export const triple = operator('compose-test/triple', (x: Tensor) => x.map((v) => v * 3));

/** x plus a normal draw per element, from the operator's stream for this example. */
export const noisy = operator('compose-test/noisy', (x: Tensor, { random }) =>
  x.map((v) => v + random.normal()),
);

/**
 * The example unchanged, with metadata telling where its data lives: whether its buffer
 * is shared memory, and how many bytes that buffer holds (the whole batch when shared).
 */
export const whereIsData = operator('compose-test/whereIsData', (x: Tensor) =>
  withState(
    x.map((v) => v + 1),
    {
      metadata: {
        shared: x.data.buffer instanceof SharedArrayBuffer,
        bufferBytes: x.data.buffer.byteLength,
      },
    },
  ),
);

/** Reports its new state: the example's own index and what it was given. */
export const counting = operator('compose-test/counting', (x: Tensor, ctx) =>
  withState(x, {
    state: { given: ctx.state, index: ctx.index, operator: ctx.operator.index },
    metadata: { name: ctx.operator.name },
  }),
);

/**
 * Counts each sight of an example in `extraParams.seen` (an Int32Array on shared memory)
 * and fails on the examples of `extraParams.failOnce` the first time, on those of
 * `extraParams.failAlways` every time. Retried once.
 */
export const flaky = operator(
  'compose-test/flaky',
  (x: Tensor, { extraParams, index }) => {
    const {
      seen,
      failOnce = [],
      failAlways = [],
    } = extraParams as {
      seen: Int32Array;
      failOnce?: number[];
      failAlways?: number[];
    };
    const sight = Atomics.add(seen, index, 1) + 1;
    if (failAlways.includes(index) || (failOnce.includes(index) && sight === 1)) {
      throw new Error(`example ${index} failed on sight ${sight}`);
    }
    return x.map((v) => v + 100);
  },
  { retries: 1, backoff: { delayMs: 0 } },
);

/**
 * Marks its start in slot `operator.index` of `extraParams.started` (shared memory) and
 * waits, at most `extraParams.waitMs`, until every other operator has started too.
 */
export const meet = operator('compose-test/meet', (x: Tensor, { extraParams, operator: me }) =>
  rendezvous(x, extraParams, me.index),
);
export const meetToo = operator(
  'compose-test/meetToo',
  (x: Tensor, { extraParams, operator: me }) => rendezvous(x, extraParams, me.index),
);

function rendezvous(x: Tensor, params: Readonly<Record<string, unknown>>, slot: number): Tensor {
  const started = params.started as Int32Array;
  Atomics.add(started, slot, 1);
  Atomics.notify(started, slot);
  const deadline = Date.now() + (params.waitMs as number);
  for (let other = 0; other < started.length; other++) {
    while (Atomics.load(started, other) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`operator ${other} never started while operator ${slot} ran`);
      Atomics.wait(started, other, 0, left);
    }
  }
  return x;
}

/**
 * Appends `<operator>:<example>` to `<extraParams.dir>/log` per example it finished, and
 * fails on an example while a file `fail-<example>` is in that folder.
 */
export const logged = operator(
  'compose-test/logged',
  (x: Tensor, { extraParams, index, random }) => {
    const dir = extraParams.dir as string;
    if (existsSync(join(dir, `fail-${index}`)))
      throw new Error(`example ${index} was told to fail`);
    appendFileSync(join(dir, 'log'), `${index}\n`);
    return x.map((v) => v + random());
  },
);

/** Its output under odd keys: `__proto__`, a NUL, a lone surrogate, `constructor`. */
export const oddKeys = operator<Tensor, Tree>('compose-test/oddKeys', (x) => {
  const out: Record<string, Tree> = {};
  for (const [key, value] of [
    ['__proto__', x],
    ['a\u0000b', x.map((v) => v * 2)],
    ['\ud800', x.map(() => Number.NaN)],
    ['constructor', tensor([1])],
  ] as const) {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
});

/** Fails on example 1 with an error of its own. */
export const failsOnOne = operator('compose-test/failsOnOne', (x: Tensor, { index }) => {
  if (index === 1) throw new RangeError('no example 1 here');
  return x;
});

/** Its example unchanged, whatever tree it is. */
export const passThrough = operator<Tree, Tree>('compose-test/passThrough', (x) => x);

/** x + 1, keeping a view of its input's data as its state and in its metadata. */
export const keepsInput = operator('compose-test/keepsInput', (x: Tensor) =>
  withState(
    x.map((v) => v + 1),
    { state: x.data, metadata: { input: x.data } },
  ),
);

/** x * 10 rounded, as int32 whatever its input's dtype. */
export const toTenths = operator('compose-test/toTenths', (x: Tensor) =>
  x.map((v) => Math.round(v * 10), 'int32'),
);

/**
 * Adds `extraParams.cfg.k` and `state.offset` (tensors nested in what it is given) to its
 * example, counts its examples in `extraParams.count` (shared memory) when given one, and
 * reports tensors in its state and metadata, beside an object only shaped like one.
 */
export const tensorsAround = operator(
  'compose-test/tensorsAround',
  (x: Tensor, { extraParams, state, index }) => {
    const { cfg, count } = extraParams as { cfg: { k: Tensor }; count?: Int32Array };
    const { offset } = state as { offset: Tensor };
    if (count !== undefined) Atomics.add(count, 0, 1);
    const lookalike = { shape: [1], dtype: 'float32', data: new Float32Array([index]) };
    return withState(
      x.map((v) => v + cfg.k.get(0) + offset.get(0)),
      { state: { offset, seen: [x], lookalike }, metadata: { input: x } },
    );
  },
);

/**
 * Blocks its thread for `extraParams.ms` per example (it never yields, so no message
 * reaches it meanwhile) while `extraParams.count` (shared memory) is below
 * `extraParams.slowFor` (always, when not given), then counts the example there. With
 * `extraParams.entered` (shared memory), the first example to enter first waits, up to
 * 20 s, until another example enters (on another thread: a retry, say).
 */
function blocking(x: Tensor, params: Readonly<Record<string, unknown>>): Tensor {
  const {
    count,
    ms = 0,
    slowFor = Number.POSITIVE_INFINITY,
    entered,
  } = params as {
    count: Int32Array;
    ms?: number;
    slowFor?: number;
    entered?: Int32Array;
  };
  if (entered !== undefined) {
    if (Atomics.add(entered, 0, 1) === 0) Atomics.wait(entered, 0, 1, 20_000);
    else Atomics.notify(entered, 0);
  }
  if (Atomics.load(count, 0) < slowFor)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  Atomics.add(count, 0, 1);
  Atomics.notify(count, 0);
  return x;
}

/** See {@link blocking}. */
export const blocks = operator('compose-test/blocks', (x: Tensor, { extraParams }) =>
  blocking(x, extraParams),
);

/** {@link blocks}, each attempt timed out after 120 ms and retried once. */
export const blocksTimed = operator(
  'compose-test/blocksTimed',
  (x: Tensor, { extraParams }) => blocking(x, extraParams),
  { timeoutMs: 120, retries: 1, backoff: { delayMs: 0 } },
);

/**
 * Blocks its process for `extraParams.ms` per example, then appends the example's index
 * to `<extraParams.dir>/log` (processes share no memory to count in).
 */
export const blocksLogged = operator(
  'compose-test/blocksLogged',
  (x: Tensor, { extraParams, index }) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, extraParams.ms as number);
    appendFileSync(join(extraParams.dir as string, 'log'), `${index}\n`);
    return x;
  },
);
