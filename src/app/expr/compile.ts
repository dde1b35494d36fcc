/**
 * The compiler: source to AST to closures. Nothing is `eval`ed; only state values are read,
 * and only the builtins can be called.
 */
import { ValidationError } from '../../core/errors.ts';
import { BUILTINS } from './builtins.ts';
import { type Node, Parser, type Step } from './parse.ts';
import { arithmetic, compare, item, member, negate, type Raise, truthy } from './semantics.ts';
import { type SyntaxErrorOf, tokenize } from './tokens.ts';
import { typeName } from './values.ts';

/** A parsed condition expression; evaluate it against state values. */
export interface CompiledExpression {
  /** The expression's source text, as given. */
  readonly source: string;
  /** Names of the state keys the expression reads (top-level identifiers, excluding builtins), in order of first appearance. */
  readonly keys: readonly string[];
  /** Evaluates; the result is converted with Python truthiness by `test`, raw by `evaluate`. */
  evaluate(values: Readonly<Record<string, unknown>>): unknown;
  /** Evaluates and applies Python truthiness (see {@link truthy}). */
  test(values: Readonly<Record<string, unknown>>): boolean;
}

type Values = Readonly<Record<string, unknown>>;
type Evaluator = (values: Values) => unknown;

/**
 * Compiles `source` once; the result can be evaluated many times.
 * @throws ValidationError when `source` is not a string or not a valid expression; the
 * message quotes the expression and the 1-based column.
 * @example compileExpression('count < 10 and not done').test({ count: 3, done: false }) // true
 */
export function compileExpression(source: string): CompiledExpression {
  if (typeof source !== 'string') {
    throw new ValidationError(`expr() takes the expression as a string, got ${typeName(source)}.`);
  }
  const label = `expr('${source.length > 80 ? `${source.slice(0, 77)}...` : source}')`;
  const syntaxError: SyntaxErrorOf = (message, pos, hint) =>
    new ValidationError(`${label}: ${message} at column ${pos + 1}${hint ? `; ${hint}` : ''}.`);
  const raise: Raise = (message) => new ValidationError(`${label}: ${message}.`);
  let run: Evaluator;
  let keys: readonly string[];
  try {
    const parser = new Parser(tokenize(source, syntaxError), syntaxError);
    run = compileNode(parser.parse(), raise);
    keys = Object.freeze([...parser.keys]);
  } catch (error) {
    throw asValidationError(error, label, 'compiled');
  }
  // `test` applies truthy inside the guard too: a hostile Proxy can throw from it.
  const guarded =
    <T>(use: (values: Values) => T) =>
    (values: Values): T => {
      if (typeof values !== 'object' || values === null) {
        throw raise(`needs an object of state values, got ${typeName(values)}`);
      }
      try {
        return use(values);
      } catch (error) {
        throw asValidationError(error, label, 'evaluated');
      }
    };
  return Object.freeze({
    source,
    keys,
    evaluate: guarded(run),
    test: guarded((values) => truthy(run(values))),
  });
}

/** A backstop: a stack overflow or a throwing user getter still surfaces as a ValidationError. */
function asValidationError(error: unknown, label: string, stage: string): ValidationError {
  if (error instanceof ValidationError) return error;
  const reason = error instanceof Error ? error.message : 'a non-error value was thrown';
  return new ValidationError(`${label}: could not be ${stage}: ${reason}.`, { cause: error });
}

/** AST to closures: each node becomes a function of the state values. */
function compileNode(node: Node, raise: Raise): Evaluator {
  switch (node.type) {
    case 'literal': {
      const value = node.value;
      return () => value;
    }
    case 'name': {
      const name = node.name;
      return (values) => {
        if (!Object.hasOwn(values, name)) throw raise(`the state has no key '${name}'`);
        return values[name];
      };
    }
    case 'list': {
      const items = node.items.map((item) => compileNode(item, raise));
      return (values) => items.map((item) => item(values));
    }
    case 'call': {
      const run = BUILTINS.get(node.name)!.run;
      const args = node.args.map((arg) => compileNode(arg, raise));
      return (values) =>
        run(
          args.map((arg) => arg(values)),
          raise,
        );
    }
    case 'access': {
      const target = compileNode(node.target, raise);
      const steps = node.steps.map((step) => compileStep(step, raise));
      return (values) => steps.reduce((value, step) => step(value, values), target(values));
    }
    case 'not': {
      const operand = compileNode(node.operand, raise);
      return (values) => !truthy(operand(values));
    }
    case 'unary': {
      const operand = compileNode(node.operand, raise);
      const op = node.op;
      return (values) => negate(op, operand(values), raise);
    }
    case 'logic': {
      const operands = node.operands.map((operand) => compileNode(operand, raise));
      const stopWhen = node.op === 'or';
      // Like Python, returns the operand that decided the result, not a boolean.
      return (values) => {
        let result: unknown;
        for (const operand of operands) {
          result = operand(values);
          if (truthy(result) === stopWhen) return result;
        }
        return result;
      };
    }
    case 'compare': {
      const first = compileNode(node.first, raise);
      const rest = node.rest.map(({ op, right }) => ({ op, right: compileNode(right, raise) }));
      // `a < b < c` is `a < b and b < c`, with b evaluated once and c only if needed.
      return (values) => {
        let left = first(values);
        for (const { op, right } of rest) {
          const value = right(values);
          if (!compare(op, left, value, raise)) return false;
          left = value;
        }
        return true;
      };
    }
    case 'arith': {
      const first = compileNode(node.first, raise);
      const rest = node.rest.map(({ op, right }) => ({ op, right: compileNode(right, raise) }));
      return (values) =>
        rest.reduce(
          (left, { op, right }) => arithmetic(op, left, right(values), raise),
          first(values),
        );
    }
  }
}

function compileStep(step: Step, raise: Raise): (value: unknown, values: Values) => unknown {
  if (step.kind === 'member') return (value) => member(value, step.name, raise);
  const index = compileNode(step.index, raise);
  return (value, values) => item(value, index(values), raise);
}
