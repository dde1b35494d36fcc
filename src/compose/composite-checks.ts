/**
 * What a composite checks of what it is given, when it is built and at each apply: typed
 * errors naming the option and the fix. Composites, strategies, executors and key scopes
 * are told by their shape, so that those made by another loaded copy of weft (`weft run`
 * imports a job's TypeScript apart from weft's own) are accepted too.
 */
import { describeType, isPlainObject } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import type { KeyScope } from '../core/keys.ts';
import { isTask } from '../core/task.ts';
import type { ApplyOptions, CompositeOperator } from './composite.ts';
import type { OperatorFn } from './operator.ts';
import type { OperatorEntry } from './run-operators.ts';
import type { CompositionStrategy } from './strategies.ts';
import type { Tree } from './tree.ts';

export function entryOf(op: unknown, index: number, where: string): OperatorEntry {
  if (isComposite(op)) return { kind: 'composite', name: op.name, composite: op };
  if (isTask(op)) return { kind: 'task', name: op.name, task: op };
  if (typeof op === 'function') {
    return {
      kind: 'function',
      name: op.name || `operator_${index}`,
      fn: op as OperatorFn<Tree, unknown>,
    };
  }
  throw new ValidationError(
    `${where}: operators[${index}] is ${describeType(op)}; an operator is a function (element, ctx) => output, a task made by operator('name', fn) or task(), or a CompositeOperator.`,
  );
}

/**
 * A composite, also one made by another loaded copy of weft (`weft run` imports a job's
 * TypeScript apart from weft's own): told by its shape, not its class.
 */
export function isComposite(value: unknown): value is CompositeOperator {
  if (typeof value !== 'object' || value === null) return false;
  const { run, describe, name, operators } = value as Partial<CompositeOperator>;
  return (
    typeof run === 'function' &&
    typeof describe === 'function' &&
    typeof name === 'string' &&
    Array.isArray(operators)
  );
}

export function isStrategy(value: unknown): value is CompositionStrategy {
  if (typeof value !== 'object' || value === null) return false;
  const { check, merge, describe } = value as Partial<CompositionStrategy>;
  return (
    typeof check === 'function' && typeof merge === 'function' && typeof describe === 'function'
  );
}

export function checkExecutor(value: unknown, where: string): asserts value is Executor {
  const executor = value as Partial<Executor> | null;
  if (
    typeof executor !== 'object' ||
    executor === null ||
    typeof executor.run !== 'function' ||
    typeof executor.runBatch !== 'function' ||
    typeof executor.check !== 'function' ||
    typeof executor.remote !== 'boolean'
  ) {
    throw new ValidationError(
      `${where} must be an executor (threads(), processes(), asyncPool(), inline() from 'weftjs'), got ${describeType(value)}.`,
    );
  }
}

/**
 * Checks an apply's options.
 * @throws ValidationError naming the option and the fix
 */
export function checkApplyOptions(
  options: ApplyOptions,
  count: number,
  name: string,
): ApplyOptions {
  const where = `Composite '${name}'.apply(batch, options)`;
  if (!isPlainObject(options)) {
    throw new ValidationError(`${where}: options must be an object, got ${describeType(options)}.`);
  }
  const { extraParams, seed, states, metadata, signal, executor, scope } = options;
  if (extraParams !== undefined && !isPlainObject(extraParams)) {
    throw new ValidationError(
      `${where}: extraParams must be a plain object, got ${describeType(extraParams)}.`,
    );
  }
  if (metadata !== undefined && !isPlainObject(metadata)) {
    throw new ValidationError(
      `${where}: metadata must be a plain object, got ${describeType(metadata)}.`,
    );
  }
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new ValidationError(`${where}: seed must be a whole number, got ${String(seed)}.`);
  }
  if (states !== undefined && !(Array.isArray(states) && states.length === count)) {
    throw new ValidationError(
      `${where}: states must be an array of one state per operator (${count}), got ${Array.isArray(states) ? `${states.length}` : describeType(states)}.`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ValidationError(
      `${where}: signal must be an AbortSignal, got ${describeType(signal)}.`,
    );
  }
  if (executor !== undefined) checkExecutor(executor, `${where}: executor`);
  if (scope !== undefined && !isKeyScope(scope)) {
    throw new ValidationError(
      `${where}: scope must be a key scope (a task's ctx.scope), got ${describeType(scope)}.`,
    );
  }
  return options;
}

/** A key scope, also one made by another loaded copy of weft (a task's ctx.scope). */
function isKeyScope(value: unknown): value is KeyScope {
  const scope = value as Partial<KeyScope> | null;
  return (
    typeof scope === 'object' &&
    scope !== null &&
    typeof scope.path === 'string' &&
    typeof scope.child === 'function' &&
    typeof scope.key === 'function'
  );
}
