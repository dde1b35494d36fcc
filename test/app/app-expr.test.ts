import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileExpression, truthy } from '../../src/app/expr/index.ts';
import { ValidationError } from '../../src/core/errors.ts';

type Values = Record<string, unknown>;

const run = (source: string, values: Values = {}) => compileExpression(source).evaluate(values);
const check = (source: string, values: Values = {}) => compileExpression(source).test(values);

/** Matches a ValidationError whose message matches `message`. */
const invalid = (message: RegExp | string) => (error: unknown) => {
  assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
  assert.equal(error.code, 'WEFT_VALIDATION');
  if (typeof message === 'string') assert.equal(error.message, message);
  else assert.match(error.message, message);
  return true;
};

/** Asserts each `[source, expected]` pair, naming the source when one fails. */
function table(rows: readonly (readonly [string, unknown])[], values: Values = {}): void {
  for (const [source, expected] of rows) {
    assert.deepEqual(run(source, values), expected, source);
  }
}

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

describe('comparisons', () => {
  it('orders numbers, strings and bigints', () => {
    table(
      [
        ['1 < 2', true],
        ['2 <= 2', true],
        ['3 > 4', false],
        ['4 >= 5', false],
        ["'apple' < 'banana'", true],
        ["'b' >= 'a'", true],
        ['a < b', true],
        ['1.5 < 2', true],
      ],
      { a: 1n, b: 2n },
    );
  });

  it('compares structurally with == and !=, and === the same', () => {
    table(
      [
        ['1 == 1', true],
        ['1 != 1', false],
        ["'a' == 'a'", true],
        ['[1, [2]] == [1, [2]]', true],
        ['[1, 2] == [2, 1]', false],
        ['o == p', true],
        ['o === p', true],
        ['o !== p', false],
        ['o != q', true],
        ['None == n', true],
        ['u == None', true],
        ['1 == "1"', false],
        ['big == 3', true],
        ['[1] == 1', false],
      ],
      { o: { a: [1] }, p: { a: [1] }, q: { a: [2] }, n: null, u: undefined, big: 3n },
    );
  });

  it('compares Maps and Sets structurally, and survives cycles', () => {
    const a: unknown[] = [];
    a.push(a);
    const b: unknown[] = [];
    b.push(b);
    table(
      [
        ['m1 == m2', true],
        ['s1 == s2', true],
        ['a == b', true],
      ],
      {
        m1: new Map([['k', [1]]]),
        m2: new Map([['k', [1]]]),
        s1: new Set([1, 2]),
        s2: new Set([2, 1]),
        a,
        b,
      },
    );
  });

  it('uses identity for is and is not', () => {
    const list = [1];
    table(
      [
        ['None is None', true],
        ['n is None', true],
        ['u is None', true],
        ['0 is None', false],
        ['x is x', true],
        ['x is [1]', false],
        ['x is not [1]', true],
        ['n is not None', false],
      ],
      { n: null, u: undefined, x: list },
    );
  });

  it('tests membership with in and not in', () => {
    table(
      [
        ['2 in xs', true],
        ['[1] in [[1], 2]', true],
        ['4 not in xs', true],
        ['2 not in xs', false],
        ["'ell' in 'hello'", true],
        ["'z' not in 'hello'", true],
        ["'k' in m", true],
        ['3 in set', true],
        ['4 in set', false],
        ["'a' in o", true],
        ["'b' in o", false],
        ["'toString' in o", false],
        ['1 in o', false],
      ],
      { xs: [1, 2, 3], m: new Map([['k', 1]]), set: new Set([3]), o: { a: 1 } },
    );
  });

  it('chains like Python, evaluating each operand once and stopping early', () => {
    table(
      [
        ['1 < 2 < 3', true],
        ['1 < 3 < 2', false],
        ['3 > 2 > 1 >= 1', true],
        ['1 < x <= 5 != 4', true],
        ['1 == 1 in [1]', true], // 1 == 1 and 1 in [1]
      ],
      { x: 5 },
    );
    // `missing` is never read: the chain already failed at 2 < 1.
    assert.equal(run('2 < 1 < missing'), false);
  });

  it('refuses to order incomparable values', () => {
    assert.throws(
      () => run('xs < 1', { xs: [] }),
      invalid("expr('xs < 1'): cannot compare a list with a number using '<'."),
    );
    assert.throws(() => run("1 < '2'"), invalid(/a number with a string using '<'/));
    assert.throws(() => run('None >= 1'), invalid(/null with a number/));
    assert.throws(() => run('a < 1', { a: 1n }), invalid(/a bigint with a number/));
    assert.throws(() => run("1 in 'abc'"), invalid(/needs a string on the left/));
    assert.throws(() => run('1 in 5'), invalid(/cannot use 'in' on a number/));
  });
});

describe('logic', () => {
  it('returns the deciding operand, as Python does', () => {
    table([
      ["0 or 'x'", 'x'],
      ["'' or []", []],
      ['1 and 2', 2],
      ['0 and 2', 0],
      ['None || 3', 3],
      ['2 && 0', 0],
      ['not []', true],
      ['!1', false],
      ['not not 5', true],
    ]);
  });

  it('short-circuits, so a missing key on the skipped side is never read', () => {
    assert.equal(run('True or missing'), true);
    assert.equal(run('False and missing'), false);
    assert.equal(check("'k' in o and o.k > 1", { o: {} }), false);
  });

  it('applies Python truthiness in test', () => {
    assert.equal(check('xs', { xs: [] }), false);
    assert.equal(check('xs', { xs: [0] }), true);
    assert.equal(check("''"), false);
    assert.equal(check('o', { o: {} }), false);
  });
});

describe('builtins', () => {
  const values = {
    xs: [3, 1, 2],
    s: 'abc',
    m: new Map([[1, 2]]),
    set: new Set([1]),
    o: { a: 1, b: 2 },
    words: ['pear', 'apple'],
  };

  it('len of lists, strings, Maps, Sets and objects', () => {
    table(
      [
        ['len(xs)', 3],
        ['len(s)', 3],
        ['len(m)', 1],
        ['len(set)', 1],
        ['len(o)', 2],
        ['len([])', 0],
      ],
      values,
    );
    assert.throws(
      () => run('len(5)'),
      invalid("expr('len(5)'): len() takes a list, string, map, set or object, got a number."),
    );
  });

  it('min and max of arguments or of one list', () => {
    table(
      [
        ['min(xs)', 1],
        ['max(xs)', 3],
        ['min(4, 2, 8)', 2],
        ['max(4, 2, 8)', 8],
        ['min(words)', 'apple'],
        ['max(set)', 1],
      ],
      values,
    );
    assert.throws(() => run('min([])'), invalid(/min\(\) of an empty list/));
    assert.throws(() => run('max(7)'), invalid(/max\(\) of one argument takes a list/));
    assert.throws(() => run("max(1, 'a')"), invalid(/cannot compare/));
  });

  it('abs, str, int, float and bool', () => {
    table([
      ['abs(-2.5)', 2.5],
      ['abs(3)', 3],
      ['str(12)', '12'],
      ["str('x')", 'x'],
      ['str(True)', 'True'],
      ['str(None)', 'None'],
      ["str([1, 'a', None])", "[1, 'a', None]"],
      ['int(3.9)', 3],
      ['int(-3.9)', -3],
      ['int(-0.5)', 0],
      ["int(' 42 ')", 42],
      ['int(True)', 1],
      ["float('2.5')", 2.5],
      ["float('-inf')", Number.NEGATIVE_INFINITY],
      ['float(3)', 3],
      ['bool([])', false],
      ["bool('x')", true],
    ]);
    assert.ok(Number.isNaN(run("float('nan')")));
    assert.throws(() => run("int('4.5')"), invalid(/int\(\) cannot convert '4\.5'/));
    assert.throws(() => run("float('abc')"), invalid(/float\(\) cannot convert 'abc'/));
    assert.throws(() => run("abs('1')"), invalid(/abs\(\) takes a number, got a string/));
    assert.throws(() => run("int(float('inf'))"), invalid(/int\(\) cannot convert inf/));
  });

  it('rejects other calls at compile time, naming the function', () => {
    assert.throws(
      () => compileExpression('eval(1)'),
      invalid(
        "expr('eval(1)'): unknown function 'eval' at column 1; only len, abs, min, max, str, int, float, bool can be called.",
      ),
    );
    assert.throws(() => compileExpression('toString(x)'), invalid(/unknown function 'toString'/));
    assert.throws(() => compileExpression('x.y()'), invalid(/unexpected '\(' at column 4/));
    assert.throws(() => compileExpression('(len)(x)'), invalid(/unexpected '\(' at column 6/));
    assert.throws(() => compileExpression('len(x)(1)'), invalid(/unexpected '\('/));
    assert.throws(
      () => compileExpression('len(1, 2)'),
      invalid(/len\(\) takes one argument, got 2 at column 1/),
    );
    assert.throws(() => compileExpression('max()'), invalid(/at least one argument, got 0/));
  });
});

describe('truthy', () => {
  it('is false exactly for Python falsy values', () => {
    const falsy = [false, 0, -0, Number.NaN, 0n, '', null, undefined, [], new Map(), new Set(), {}];
    const truthyValues = [true, 1, -1, 'a', ' ', [0], new Map([[0, 0]]), new Set([0]), { a: 0 }];
    for (const value of falsy) assert.equal(truthy(value), false, String(value));
    for (const value of truthyValues) assert.equal(truthy(value), true, String(value));
    assert.equal(truthy(Object.create(null)), false);
    assert.equal(truthy(new Date(0)), true); // class instances are truthy, as in Python
    assert.equal(
      truthy(() => 0),
      true,
    );
  });
});

describe('syntax errors', () => {
  it('quote the expression and the 1-based column', () => {
    const cases: [string, string][] = [
      ['count <', "expr('count <'): expected a value at column 8."],
      ['1 +* 2', "expr('1 +* 2'): expected a value, found '*' at column 4."],
      ['(1 + 2', "expr('(1 + 2'): expected ')' at column 7."],
      ['[1 2]', "expr('[1 2]'): expected ']', found '2' at column 4."],
      ['a b', "expr('a b'): unexpected 'b' at column 3."],
      ['a not b', "expr('a not b'): unexpected 'not' at column 3."],
      ['x = 1', "expr('x = 1'): unexpected character '=' at column 3; use '==' to compare."],
      ['a @ b', "expr('a @ b'): unexpected character '@' at column 3."],
      ["'abc", "expr(''abc'): unterminated string at column 1."],
      ["x == 'a\\q'", "expr('x == 'a\\q''): unknown escape '\\q' at column 8."],
      ['3abc', "expr('3abc'): invalid number '3abc' at column 1."],
      ['x.1', "expr('x.1'): unexpected '.1' at column 2."],
      ['x.', "expr('x.'): expected a name after '.' at column 3."],
      ['', "expr(''): expected a value at column 1."],
      ['and', "expr('and'): expected a value, found 'and' at column 1."],
      ['()', "expr('()'): expected a value, found ')' at column 2."],
    ];
    for (const [source, message] of cases) {
      assert.throws(() => compileExpression(source), invalid(message), source);
    }
  });

  it('rejects a source that is not a string', () => {
    for (const bad of [42, null, undefined, ['count']]) {
      assert.throws(
        // @ts-expect-error untyped callers can pass anything; the runtime check catches it.
        () => compileExpression(bad),
        invalid(/expr\(\) takes the expression as a string/),
      );
    }
  });

  it('shortens a long expression in the message', () => {
    const source = `${'a + '.repeat(50)}`;
    assert.throws(
      () => compileExpression(source),
      invalid(/^expr\('a \+ a.*\.\.\.'\): expected a value at column 201\.$/),
    );
  });
});

describe('nesting depth', () => {
  it('allows 200 levels and rejects 201', () => {
    const parens = (n: number) => `${'('.repeat(n)}1${')'.repeat(n)}`;
    assert.equal(run(parens(200)), 1);
    assert.throws(
      () => compileExpression(parens(201)),
      invalid(/nests more than 200 levels deep at column 201/),
    );
    assert.equal(run(`${'-'.repeat(200)}1`), 1);
    assert.throws(
      () => compileExpression(`${'not '.repeat(201)}1`),
      invalid(/nests more than 200/),
    );
    assert.throws(() => compileExpression(`${'2 ** '.repeat(201)}1`), invalid(/nests/));
    assert.throws(() => compileExpression(`${'len('.repeat(201)}x`), invalid(/nests/));
  });

  it('rejects very deep input with a ValidationError, not a stack overflow', () => {
    for (const source of [
      '('.repeat(100_000),
      '['.repeat(100_000),
      '-'.repeat(100_000),
      `${'x['.repeat(50_000)}0`,
      `${'!'.repeat(100_000)}1`,
    ]) {
      assert.throws(() => compileExpression(source), invalid(/nests more than 200/));
    }
  });

  it('turns a stack overflow on deeply nested state data into a ValidationError', () => {
    const deep = () => {
      let value: unknown = [];
      for (let i = 0; i < 200_000; i++) value = [value];
      return value;
    };
    assert.throws(
      () => run('a == b', { a: deep(), b: deep() }),
      invalid(/^expr\('a == b'\): could not be evaluated: /),
    );
  });
});

describe('properties', () => {
  const values = {
    a: 1,
    b: 'x',
    c: [1, 2],
    d: { e: 1 },
    n: null,
    m: new Map([['k', 1]]),
  };

  /** Compiles and tests `source`; any failure must be a ValidationError. */
  function compileAndTest(source: string): void {
    try {
      compileExpression(source).test(values);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
    }
  }

  it('any string either evaluates or throws a ValidationError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), compileAndTest), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), compileAndTest), {
      numRuns: 300,
    });
  });

  it('any string of tokens either evaluates or throws a ValidationError', () => {
    const token = fc.constantFrom(
      ...'a b c d n m e k x 0 1 2 -1 1.5 0x10 1e2'.split(' '),
      ...'+ - * / // % ** < <= > >= == != === !== ( ) [ ] , . ! && ||'.split(' '),
      ...'and or not in is True False None null len min max str int float bool abs'.split(' '),
      "'k'",
      '"x"',
      "'",
      '\\',
    );
    const tokens = fc.array(token, { maxLength: 25 });
    fc.assert(
      fc.property(tokens, (parts) => compileAndTest(parts.join(' '))),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(tokens, (parts) => compileAndTest(parts.join(''))),
      { numRuns: 500 },
    );
  });

  type Arith =
    | { readonly op: 'num'; readonly value: number }
    | { readonly op: 'neg'; readonly operand: Arith }
    | {
        readonly op: '+' | '-' | '*' | '/' | '//' | '%' | '**';
        readonly left: Arith;
        readonly right: Arith;
      };

  const { arith } = fc.letrec<{ arith: Arith }>((tie) => ({
    arith: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ op: fc.constant('num' as const), value: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ op: fc.constant('neg' as const), operand: tie('arith') }),
      fc.record({
        op: fc.constantFrom<'+' | '-' | '*' | '/' | '//' | '%'>('+', '-', '*', '/', '//', '%'),
        left: tie('arith'),
        right: tie('arith'),
      }),
      // A small literal exponent keeps powers finite and exact.
      fc.record({
        op: fc.constant('**' as const),
        left: tie('arith'),
        right: fc.record({
          op: fc.constant('num' as const),
          value: fc.integer({ min: 0, max: 3 }),
        }),
      }),
    ),
  }));

  // Binding strength of each form, for printing with the fewest parentheses Python needs.
  const strength = (node: Arith): number => {
    if (node.op === 'num') return 5;
    if (node.op === 'neg') return 3;
    if (node.op === '**') return 4;
    return node.op === '+' || node.op === '-' ? 1 : 2;
  };

  function print(node: Arith): string {
    if (node.op === 'num') return String(node.value);
    const wrap = (child: Arith, needs: boolean) => (needs ? `(${print(child)})` : print(child));
    if (node.op === 'neg') return `-${wrap(node.operand, strength(node.operand) < 3)}`;
    const mine = strength(node);
    if (node.op === '**') {
      return `${wrap(node.left, strength(node.left) <= 4)} ** ${print(node.right)}`;
    }
    // Left-associative: an equally strong right operand needs parentheses, a left one does not.
    const left = wrap(node.left, strength(node.left) < mine);
    return `${left} ${node.op} ${wrap(node.right, strength(node.right) <= mine)}`;
  }

  /** The reference: computes the tree directly; `//` and `%` follow CPython's float_divmod. */
  function compute(node: Arith): number {
    if (node.op === 'num') return node.value;
    if (node.op === 'neg') return -compute(node.operand);
    const a = compute(node.left);
    const b = compute(node.right);
    if (node.op === '+') return a + b;
    if (node.op === '-') return a - b;
    if (node.op === '*') return a * b;
    if (node.op === '**') return a ** b;
    if (b === 0) throw new RangeError('division by zero');
    if (node.op === '/') return a / b;
    const fmod = a % b;
    const adjust = fmod !== 0 && Math.sign(fmod) !== Math.sign(b);
    if (node.op === '%') return adjust ? fmod + b : fmod;
    const div = (a - fmod) / b - (adjust ? 1 : 0);
    if (div === 0) return 0;
    return div - Math.floor(div) > 0.5 ? Math.floor(div) + 1 : Math.floor(div);
  }

  it('a printed arithmetic tree evaluates to the value computed directly', () => {
    fc.assert(
      fc.property(arith, (tree) => {
        const source = print(tree);
        let expected: number;
        try {
          expected = compute(tree);
        } catch {
          assert.throws(() => run(source), invalid(/division by zero/), source);
          return;
        }
        const actual = run(source) as number;
        const same = actual === expected || (Number.isNaN(actual) && Number.isNaN(expected));
        assert.ok(same, `${source}: got ${actual}, expected ${expected}`);
      }),
      { numRuns: 1000 },
    );
  });
});
