/**
 * `expr` transitions (`weftjs/app`): the values of the expression language — literals,
 * state keys, member access and indexing, arithmetic and precedence, as in Python.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileExpression } from '../../src/app/expr/index.ts';
import { ValidationError } from '../../src/core/errors.ts';
import { check, invalid, run, table } from './support/expr.ts';

describe('literals', () => {
  it('reads integers, floats, exponents and hex', () => {
    table([
      ['42', 42],
      ['3.25', 3.25],
      ['.5', 0.5],
      ['1.', 1],
      ['1e3', 1000],
      ['2.5E-1', 0.25],
      ['0x1F', 31],
      ['0XfF', 255],
    ]);
  });

  it('reads strings in either quote with escapes', () => {
    table([
      ["'a b'", 'a b'],
      ['"a b"', 'a b'],
      ["'it\\'s'", "it's"],
      ['"say \\"hi\\""', 'say "hi"'],
      ["'a\\nb\\tc\\\\'", 'a\nb\tc\\'],
      ["'\\u00e9\\u0041'", 'éA'],
      ['"it\'s"', "it's"],
    ]);
  });

  it('reads Python and JS spellings of booleans and None', () => {
    table([
      ['True', true],
      ['true', true],
      ['False', false],
      ['false', false],
      ['None', null],
      ['null', null],
    ]);
  });

  it('builds lists, allowing a trailing comma', () => {
    table([
      ['[]', []],
      ['[1, "a", [True]]', [1, 'a', [true]]],
      ['[1, 2,]', [1, 2]],
    ]);
  });
});

describe('names and keys', () => {
  it('reads own state values and lists the keys read, in order of first appearance', () => {
    const compiled = compileExpression('b + a > len(c) and b < 10');
    assert.deepEqual(compiled.keys, ['b', 'a', 'c']);
    assert.equal(compiled.source, 'b + a > len(c) and b < 10');
    assert.equal(compiled.test({ a: 1, b: 2, c: [1] }), true);
  });

  it('treats a builtin name that is not called as a state key', () => {
    const compiled = compileExpression('max > 3');
    assert.deepEqual(compiled.keys, ['max']);
    assert.equal(compiled.test({ max: 4 }), true);
  });

  it('names the missing key and the expression', () => {
    assert.throws(
      () => check('count < 10', {}),
      invalid("expr('count < 10'): the state has no key 'count'."),
    );
  });

  it('reads only own properties, never the prototype chain', () => {
    assert.throws(() => run('toString'), invalid(/no key 'toString'/));
    assert.throws(() => run('constructor', {}), invalid(/no key 'constructor'/));
    assert.throws(() => run('o.toString', { o: {} }), invalid(/the object has no key 'toString'/));
    assert.equal(run('x', Object.assign(Object.create(null), { x: 1 })), 1);
  });

  it('evaluates many times against different values', () => {
    const compiled = compileExpression('count < 3');
    assert.deepEqual(
      [0, 2, 3, 9].map((count) => compiled.test({ count })),
      [true, true, false, false],
    );
  });

  it('wraps an error thrown by a state getter or Proxy in a ValidationError with the cause', () => {
    const o = {
      get g(): number {
        throw new TypeError('boom');
      },
    };
    const error = (() => {
      try {
        return run('o.g', { o });
      } catch (caught) {
        return caught;
      }
    })();
    assert.ok(error instanceof ValidationError);
    assert.equal(error.message, "expr('o.g'): could not be evaluated: boom.");
    assert.ok(error.cause instanceof TypeError);
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('no');
        },
      },
    );
    assert.throws(() => check('p', { p: hostile }), invalid(/could not be evaluated: no/));
  });

  it('rejects values that are not an object', () => {
    // @ts-expect-error untyped callers can pass anything; the runtime check catches it.
    assert.throws(() => run('1', null), invalid(/needs an object of state values, got null/));
  });
});

describe('member access and indexing', () => {
  const values = {
    xs: [10, 20, 30],
    s: 'hello',
    o: { a: { b: 2 }, 'two words': 1 },
    m: new Map<unknown, unknown>([
      ['k', 'v'],
      [1, 'one'],
    ]),
    set: new Set([1, 2]),
    n: null,
  };

  it('reads members of plain objects, length and size', () => {
    table(
      [
        ['o.a.b', 2],
        ['xs.length', 3],
        ['s.length', 5],
        ['m.size', 2],
        ['set.size', 2],
      ],
      values,
    );
  });

  it('indexes arrays and strings, with Python negative indices', () => {
    table(
      [
        ['xs[0]', 10],
        ['xs[-1]', 30],
        ['xs[-3]', 10],
        ['s[1]', 'e'],
        ['s[-1]', 'o'],
        ['[1, 2][1]', 2],
        ['xs[len(xs) - 1]', 30],
      ],
      values,
    );
  });

  it('indexes objects by key and Maps with get', () => {
    table(
      [
        ["o['two words']", 1],
        ["o['a']['b']", 2],
        ["m['k']", 'v'],
        ['m[1]', 'one'],
      ],
      values,
    );
  });

  it('fails with a ValidationError for out of range, missing keys and bad targets', () => {
    assert.throws(
      () => run('xs[3]', values),
      invalid("expr('xs[3]'): index 3 is out of range for a list of length 3."),
    );
    assert.throws(() => run('xs[-4]', values), invalid(/index -4 is out of range/));
    assert.throws(() => run('xs[1.5]', values), invalid(/must be an integer, got 1\.5/));
    assert.throws(() => run("xs['0']", values), invalid(/must be an integer, got '0'/));
    assert.throws(() => run("m['nope']", values), invalid(/the map has no key 'nope'/));
    assert.throws(() => run('o.c', values), invalid(/the object has no key 'c'/));
    assert.throws(() => run('n.x', values), invalid("expr('n.x'): cannot read 'x' of null."));
    assert.throws(() => run('n[0]', values), invalid(/cannot index null/));
    assert.throws(() => run('xs.push', values), invalid(/a list has no member 'push'/));
    assert.throws(() => run('set[0]', values), invalid(/cannot index a set/));
    assert.throws(() => run('d.x', { d: new Date(0) }), invalid(/a Date has no member 'x'/));
  });
});

describe('arithmetic', () => {
  it('adds, subtracts, multiplies and divides numbers', () => {
    table([
      ['1 + 2', 3],
      ['5 - 7', -2],
      ['3 * 4', 12],
      ['7 / 2', 3.5],
      ['2 ** 10', 1024],
      ['2 ** -1', 0.5],
      ['-3', -3],
      ['+3', 3],
      ['--3', 3],
    ]);
  });

  it('floors with // and takes the sign of the divisor with %', () => {
    table([
      ['7 // 2', 3],
      ['-7 // 2', -4],
      ['7 // -2', -4],
      ['7.5 // 2', 3],
      ['7 % 3', 1],
      ['-7 % 3', 2],
      ['7 % -3', -2],
      ['-7 % -3', -1],
      ['6 % 3', 0],
      ['5.5 % 2', 1.5],
      ['1 // 0.1', 9], // as in Python: consistent with 1 % 0.1
      ['1 % 0.1', 0.09999999999999995],
      ["-1 // float('inf')", -1],
      ["-1 % float('inf')", Number.POSITIVE_INFINITY],
    ]);
  });

  it('concatenates strings and lists', () => {
    table(
      [
        ["'ab' + 'cd'", 'abcd'],
        ['xs + [3]', [1, 2, 3]],
        ['[] + []', []],
      ],
      { xs: [1, 2] },
    );
  });

  it('works on two bigints, with Python floor division and modulo', () => {
    table(
      [
        ['a + b', 10n],
        ['a - b', 4n],
        ['a * b', 21n],
        ['a // b', 2n],
        ['-a // b', -3n],
        ['-a % b', 2n],
        ['a ** b', 343n],
        ['-a', -7n],
        ['abs(-a)', 7n],
        ['a / b', 7 / 3],
      ],
      { a: 7n, b: 3n },
    );
  });

  it('rejects mixed or unsupported operands', () => {
    assert.throws(
      () => run('xs + 1', { xs: [] }),
      invalid("expr('xs + 1'): cannot use '+' on a list and a number."),
    );
    assert.throws(() => run("'a' * 3"), invalid(/cannot use '\*' on a string and a number/));
    assert.throws(() => run('True + 1'), invalid(/cannot use '\+' on a boolean and a number/));
    assert.throws(() => run('a + 1', { a: 1n }), invalid(/a bigint and a number/));
    assert.throws(() => run("-'a'"), invalid(/cannot apply unary '-' to a string/));
    assert.throws(() => run('n - 1', { n: null }), invalid(/on null and a number/));
  });

  it('fails on division by zero', () => {
    for (const source of ['1 / 0', '1 // 0', '1 % 0', '0 ** -1', 'a // b', 'a % b']) {
      assert.throws(() => run(source, { a: 1n, b: 0n }), invalid(/division by zero/), source);
    }
  });
});

describe('precedence', () => {
  it('follows Python precedence', () => {
    table([
      ['1 + 2 * 3', 7],
      ['(1 + 2) * 3', 9],
      ['10 - 4 - 3', 3],
      ['100 / 10 / 5', 2],
      ['2 * 3 % 4', 2],
      ['-2 ** 2', -4],
      ['(-2) ** 2', 4],
      ['2 ** 3 ** 2', 512],
      ['2 ** -1 * 4', 2],
      ['1 + 2 < 4', true],
      ['1 < 2 == True', false], // chained: 1 < 2 and 2 == True
      ['not 1 == 2', true],
      ['not 0 and 0', 0],
      ['True or False and False', true],
      ['(True or False) and False', false],
      ['1 or 2 and 0', 1],
      ['!1 == 2', true], // `!` is Python's `not`, below comparisons
      ['1 + 2 in [3]', true],
      ['[1, 2][0] + 1', 2],
      ['-[5][0]', -5],
    ]);
  });

  it('parses long flat chains without nesting', () => {
    assert.equal(run(`${'1 + '.repeat(20_000)}1`), 20_001);
    assert.equal(run(`${'a and '.repeat(5_000)}a`, { a: 2 }), 2);
    let nested: unknown = 'end';
    for (let i = 0; i < 5_000; i++) nested = [nested];
    assert.equal(run(`x${'[0]'.repeat(5_000)}`, { x: nested }), 'end');
  });
});
