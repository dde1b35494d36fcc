/**
 * Text from a model is hostile input. Keys named `__proto__`, `constructor` and
 * `prototype` — in plan arguments, resolved placeholders, expressions and states — are
 * plain own keys: they never set a prototype, and nothing inherited from Object.prototype
 * is ever read as a value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inline, State, ValidationError } from 'weftjs';
import {
  type CompilerTask,
  LLMCompiler,
  PlanError,
  parseArgs,
  parseDecision,
  parsePlan,
  renumber,
  resolve,
  scheduleTasks,
  type ToolArgs,
} from 'weftjs/compiler';
import { compileExpression } from '../../src/app/expr/index.ts';
import { collect } from '../fixtures/compiler-helpers.ts';

const hostile = ['__proto__', 'constructor', 'prototype'] as const;

/** The braced placeholder of task `n`, spelt without a template-like literal. */
const braced = (n: number): string => ['$', '{', n, '}'].join('');

/**
 * Asserts that `value`, and every object inside it, is an ordinary object: prototype
 * Object.prototype, only own enumerable data properties, nothing inherited that a tool
 * could read as `isAdmin`, and JSON that shows exactly its own keys.
 */
function assertPlain(value: unknown, path = 'value'): void {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) assertPlain(item, `${path}[${i}]`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  assert.equal(Object.getPrototypeOf(value), Object.prototype, `${path} has Object.prototype`);
  const record = value as Record<string, unknown>;
  assert.equal(record.isAdmin, Object.hasOwn(record, 'isAdmin') ? record.isAdmin : undefined);
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    assert.ok('value' in descriptor, `${path}.${String(key)} is a data property`);
    assert.ok(descriptor.enumerable, `${path}.${String(key)} is enumerable`);
  }
  const json = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), Object.keys(value), `${path}: JSON shows the own keys`);
  for (const key of Object.keys(value)) assertPlain(record[key], `${path}.${key}`);
}

/** The own value under `key`, read without any accessor (so `__proto__` is the own key). */
function own(value: unknown, key: string): unknown {
  return Object.getOwnPropertyDescriptor(value, key)?.value;
}

describe('hostile keys: parseArgs', () => {
  it('keeps __proto__, constructor and prototype as own keys of named arguments', () => {
    for (const key of hostile) {
      const args = parseArgs(`user="bob", ${key}={"isAdmin": true}`);
      assertPlain(args);
      assert.deepEqual(Object.keys(args), ['user', key]);
      assert.equal((args as Record<string, unknown>).isAdmin, undefined, key);
      assert.deepEqual(own(args, key), { isAdmin: true });
      assert.equal(JSON.stringify(args), `{"user":"bob","${key}":{"isAdmin":true}}`);
    }
  });

  it('keeps them as own keys when named arguments follow positional ones', () => {
    const args = parseArgs('1, __proto__={"isAdmin": true}') as unknown[];
    assertPlain(args);
    assert.equal(args.length, 2);
    assert.deepEqual(Object.keys(args[1] as object), ['__proto__']);
    assert.equal((args[1] as Record<string, unknown>).isAdmin, undefined);
  });

  it('refuses a hostile name given twice, as any other name', () => {
    assert.throws(
      () => parseArgs('__proto__=1, __proto__=2'),
      (error: Error) => /'__proto__' is given twice/.test(error.message),
    );
  });

  it('keeps them as own keys in nested objects and lists, in JSON and Python style', () => {
    const texts = [
      `x={"__proto__": {"isAdmin": true}, "constructor": {"prototype": 1}}`,
      `x={__proto__: {isAdmin: True}, constructor: {prototype: 1}}`,
      `x=[{"__proto__": {"isAdmin": true}}, [{'constructor': {'__proto__': None}}]]`,
      `[{"__proto__": [{"__proto__": {"isAdmin": true}}]}]`,
    ];
    for (const text of texts) assertPlain(parseArgs(text));
    for (const text of texts.slice(0, 2)) {
      const { x } = parseArgs(text) as { x: object };
      assert.deepEqual(Object.keys(x), ['__proto__', 'constructor']);
      assert.deepEqual(own(x, '__proto__'), { isAdmin: true });
      assert.deepEqual(own(x, 'constructor'), { prototype: 1 });
    }
    const [list] = parseArgs(texts[3]!) as [unknown[]];
    const inner = own(list[0], '__proto__') as unknown[];
    assert.deepEqual(Object.keys(inner[0] as object), ['__proto__']);
  });
});

describe('hostile keys: parsePlan and the tools it calls', () => {
  it('gives the tool exactly the arguments the plan wrote', async () => {
    const plan = [
      '1. lookup(user="bob", __proto__={"isAdmin": true})',
      '2. lookup(constructor={"prototype": {"isAdmin": true}}, prototype=[{"__proto__": 1}])',
      `3. lookup(x={"__proto__": "$1"}, __proto__="${braced(2)}")`,
      '4. join()',
    ].join('\n');
    const tasks = await collect(parsePlan(plan));
    assert.equal(tasks.length, 3);
    for (const task of tasks) assertPlain(task.args);
    const seen: unknown[] = [];
    const lookup = (args: Record<string, unknown>) => {
      seen.push(args);
      return { isAdmin: args.isAdmin ?? false };
    };
    const observations = await scheduleTasks(tasks, { tools: { lookup }, executor: inline() });
    assert.deepEqual(
      [...observations.values()],
      [{ isAdmin: false }, { isAdmin: false }, { isAdmin: false }],
    );
    for (const args of seen) assertPlain(args);
    assert.equal(JSON.stringify(seen[0]), '{"user":"bob","__proto__":{"isAdmin":true}}');
    assert.equal(
      JSON.stringify(seen[1]),
      '{"constructor":{"prototype":{"isAdmin":true}},"prototype":[{"__proto__":1}]}',
    );
    assert.equal(
      JSON.stringify(seen[2]),
      '{"x":{"__proto__":{"isAdmin":false}},"__proto__":{"isAdmin":false}}',
    );
  });

  it('never calls an Object.prototype member as a tool', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const [task] = await collect(parsePlan(`1. ${name}("x")`));
      assert.equal(task?.tool, name);
      await assert.rejects(
        scheduleTasks([task!], { tools: { lookup: () => 1 }, executor: inline() }),
        (error: unknown) =>
          error instanceof PlanError && error.message.includes(`unknown tool '${name}'`),
      );
    }
  });

  it('keeps hostile keys of task objects from a planner through the compiler loop', async () => {
    const seen: unknown[] = [];
    const compiler = new LLMCompiler({
      // A planner that numbers from 1 on its replan is renumbered: that rebuilds args too.
      planner: ({ round }) => [
        JSON.parse(
          `{"idx": 1, "tool": "echo", "args": {"__proto__": {"isAdmin": true}, "r": ${round}}}`,
        ) as CompilerTask,
      ],
      tools: {
        echo: (args: Record<string, unknown>) => {
          seen.push(args);
          return args.isAdmin ?? 'not admin';
        },
      },
      joiner: ({ round }) => (round === 1 ? { replan: 'again' } : { finish: 'done' }),
      executor: inline(),
    });
    const result = await compiler.invoke('q');
    assert.deepEqual([...result.observations.values()], ['not admin', 'not admin']);
    assert.equal(seen.length, 2);
    for (const args of seen) {
      assertPlain(args);
      assert.deepEqual(Object.keys(args as object), ['__proto__', 'r']);
    }
  });
});

describe('hostile keys: resolve and renumber', () => {
  const parsed = () =>
    JSON.parse(
      `{"__proto__": {"isAdmin": "$1"}, "constructor": ["${braced(1)}", {"prototype": "$1"}], "prototype": {"__proto__": "$1"}}`,
    ) as Record<string, unknown>;

  it('rebuild objects with the same own keys, at every depth', () => {
    const resolved = resolve(parsed(), new Map([[1, true]]));
    assertPlain(resolved);
    assert.equal(
      JSON.stringify(resolved),
      '{"__proto__":{"isAdmin":true},"constructor":[true,{"prototype":true}],"prototype":{"__proto__":true}}',
    );
    const renumbered = renumber(parsed(), 1, 4);
    assertPlain(renumbered);
    assert.equal(
      JSON.stringify(renumbered),
      `{"__proto__":{"isAdmin":"$5"},"constructor":["${braced(5)}",{"prototype":"$5"}],"prototype":{"__proto__":"$5"}}`,
    );
  });

  it('give an observation that is an object with hostile keys unchanged', () => {
    const observation = JSON.parse('{"__proto__": {"isAdmin": true}}') as object;
    const resolved = resolve({ x: '$1' }, new Map([[1, observation]])) as Record<string, unknown>;
    assert.equal(resolved.x, observation);
    assert.equal((resolved.x as Record<string, unknown>).isAdmin, undefined);
  });
});

describe('hostile keys: the joiner decision', () => {
  it('reads only an own finish or replan key', () => {
    const inherited = Object.create({ finish: 'inherited' }) as { finish: unknown };
    assert.throws(() => parseDecision(inherited), ValidationError);
    const decision = parseDecision(JSON.parse('{"__proto__": {"finish": 1}, "replan": "r"}'));
    assert.deepEqual(decision, { replan: 'r' });
    assert.equal(Object.getPrototypeOf(decision), Object.prototype);
  });
});

describe('hostile keys: State', () => {
  const hostileRecord = () =>
    JSON.parse(
      '{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {"isAdmin": true}}, "prototype": 1}',
    ) as Record<string, unknown>;

  function assertHostileState(state: State, keys: readonly string[]): void {
    assert.deepEqual(state.keys(), keys);
    const object = state.toObject();
    assertPlain(object);
    assert.deepEqual(Object.keys(object), keys);
    assertPlain(state.toJSON());
    assert.equal((object as Record<string, unknown>).isAdmin, undefined);
    for (const key of keys) {
      assert.ok(state.has(key), key);
      assert.deepEqual(state.get(key), own(object, key), key);
    }
  }

  it('keeps the names as plain keys through of, update, merge, subset and wipe', () => {
    const keys = ['__proto__', 'constructor', 'prototype'];
    assertHostileState(State.of(hostileRecord()), keys);
    assertHostileState(State.fromObject(hostileRecord()), keys);
    const base = State.of({ a: 1 });
    assertHostileState(base.update(hostileRecord()), ['a', ...keys]);
    assertHostileState(base.merge(hostileRecord()), ['a', ...keys]);
    assertHostileState(base.merge(State.of(hostileRecord())), ['a', ...keys]);
    const full = State.of(hostileRecord());
    assertHostileState(full.subset('__proto__', 'prototype'), ['__proto__', 'prototype']);
    assertHostileState(full.wipe({ keep: ['constructor'] }), ['constructor']);
    assertHostileState(full.wipe({ delete: ['constructor'] }), ['__proto__', 'prototype']);
    assert.deepEqual(State.of(hostileRecord()).get('__proto__'), { isAdmin: true });
  });

  it('appends, extends and increments the names as plain keys', () => {
    const base: State = State.of({});
    const appended = base.append(JSON.parse('{"__proto__": {"isAdmin": true}}') as never);
    assertHostileState(appended, ['__proto__']);
    assert.deepEqual(appended.get('__proto__'), [{ isAdmin: true }]);
    const extended = appended.extend(JSON.parse('{"__proto__": [1], "constructor": [2]}') as never);
    assertHostileState(extended, ['__proto__', 'constructor']);
    assert.deepEqual(extended.get('__proto__'), [{ isAdmin: true }, 1]);
    const counted = base.increment(JSON.parse('{"constructor": 2, "prototype": 1}') as never);
    assertHostileState(counted, ['constructor', 'prototype']);
    assert.equal(counted.get('constructor'), 2);
  });

  it('never shows an Object.prototype member as a value of a state without that key', () => {
    const state = State.of({ a: 1 });
    for (const key of [...hostile, 'toString', 'hasOwnProperty', 'valueOf']) {
      assert.equal(state.get(key as 'a'), undefined, key);
      assert.equal(state.get(key as 'a', 'fallback'), 'fallback', key);
      assert.equal(state.has(key), false, key);
    }
    assert.throws(
      () => state.subset('constructor' as 'a', { ignoreMissing: false }),
      /missing key\(s\) 'constructor'/,
    );
    // A missing key starts empty or at 0, not at the inherited function.
    assert.deepEqual(state.append({ constructor: 1 } as never).get('constructor' as 'a'), [1]);
    assert.equal(state.increment({ toString: 1 } as never).get('toString' as 'a'), 1);
  });
});

describe('hostile keys: expressions', () => {
  it('read hostile names only as own keys of the state', () => {
    const state = State.of(hostileRecord());
    const values = state.toObject();
    const run = (source: string) => compileExpression(source).evaluate(values);
    assert.deepEqual(run('__proto__'), { isAdmin: true });
    assert.equal(run('__proto__.isAdmin'), true);
    assert.equal(run("constructor['prototype'].isAdmin"), true);
    assert.equal(run('prototype + 1'), 2);
    assert.equal(run("'__proto__' in constructor"), false);
    assert.equal(run('len(constructor)'), 1);
  });

  it('refuse names the state does not own, at top level and as members', () => {
    const values = { a: {}, s: 'text', l: [1] };
    const invalid = (source: string, message: RegExp) =>
      assert.throws(
        () => compileExpression(source).evaluate(values),
        (error: unknown) => error instanceof ValidationError && message.test(error.message),
        source,
      );
    for (const key of [...hostile, 'toString', 'valueOf', 'hasOwnProperty']) {
      invalid(key, new RegExp(`the state has no key '${key}'`));
      invalid(`a.${key}`, new RegExp(`the object has no key '${key}'`));
      invalid(`a['${key}']`, /the object has no key/);
      invalid(`s.${key}`, /has no member/);
      invalid(`l.${key}`, /has no member/);
      assert.equal(compileExpression(`'${key}' in a`).evaluate(values), false, key);
    }
    invalid('constructor.constructor', /the state has no key 'constructor'/);
    invalid("a.constructor.constructor('return 1')", /unexpected '\('|can be called/);
    invalid("s['constructor']", /must be an integer/);
  });

  function hostileRecord(): Record<string, unknown> {
    return JSON.parse(
      '{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {"isAdmin": true}}, "prototype": 1}',
    ) as Record<string, unknown>;
  }
});

// Kept apart so a typo in a test cannot make the suite pass without running a case.
describe('hostile keys: helper self-check', () => {
  it('assertPlain rejects an object whose prototype was set', () => {
    const injected = { user: 'bob' };
    Object.setPrototypeOf(injected, { isAdmin: true });
    assert.throws(() => assertPlain(injected), assert.AssertionError);
    assert.throws(() => assertPlain({ x: [injected] }), assert.AssertionError);
    assertPlain(JSON.parse('{"__proto__": {"isAdmin": true}}'));
    // The ToolArgs type accepts what parseArgs gives.
    const typed: ToolArgs = parseArgs('a=1');
    assert.ok(typed);
  });
});
