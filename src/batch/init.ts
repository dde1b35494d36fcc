/**
 * `init`: what makes one argument set per item of a parallel call. The standard inits
 * (`indices`, `items`, `run_once`) and component inits give each item one argument, never
 * unpacked; a custom init (a method name or a function) yields argument sets read by
 * {@link itemArgs}.
 */
import { ValidationError } from '../core/errors.ts';
import { type Batch, classOf, itemAt } from './batch.ts';
import { type CallParts, type ItemArgs, itemArgs, type Named, shown } from './call-args.ts';
import type { InitOption } from './parallel-spec.ts';

/** The standard inits, which need no method of the batch. */
const standard = ['indices', 'items', 'run_once'] as const;

/** An init, ready to call with a call's arguments: the argument set of every item, in init order. */
export type Init = (call: CallParts, extra: Named) => ItemArgs[] | Promise<ItemArgs[]>;

/**
 * The init that `option` stands for on `batch`.
 * @param where the call, for error messages, e.g. `MyBatch.someAction`
 * @throws ValidationError when it is a string naming none of a standard init, a
 *   component or a method of the batch
 */
export function resolveInit(batch: Batch, option: InitOption, where: string): Init {
  const one = (value: unknown): ItemArgs => ({ positional: [value], named: {} });
  if (typeof option === 'function') return customInit(batch, option, where);
  switch (option) {
    case 'indices':
      return () => batch.indices.map((id) => one(id));
    // By position, not by id: looking each id up again would be work per item for nothing.
    case 'items':
      return () =>
        Array.from({ length: batch.length }, (_, position) => one(itemAt(batch, position)));
    case 'run_once':
      return () => [{ positional: [], named: {} }];
  }
  if (batch.components.includes(option)) {
    return () =>
      Array.from({ length: batch.length }, (_, position) => one(itemAt(batch, position, option)));
  }
  const found = (batch as unknown as Record<string, unknown>)[option];
  if (typeof found === 'function') {
    return customInit(batch, found as (...args: unknown[]) => unknown, where);
  }
  const Class = classOf(batch).name;
  const components = batch.components;
  throw new ValidationError(
    `${where}: init '${option}' is no standard init, component or method of ${Class}. ` +
      `init may be ${standard.map((name) => `'${name}'`).join(', ')}` +
      (components.length > 0 ? `, a component (${components.join(', ')})` : '') +
      `, the name of a method of ${Class}, or a function.`,
  );
}

/**
 * A method or function init: called with the batch as `this`, the call's positional
 * arguments and `{ ...extra, ...callNamed }`; each set it yields read by {@link itemArgs}.
 */
function customInit(batch: Batch, init: (...args: unknown[]) => unknown, where: string): Init {
  return async (call, extra) => {
    const sets = await init.call(batch, ...call.positional, { ...extra, ...call.named });
    if (
      sets === null ||
      typeof sets !== 'object' ||
      typeof (sets as Iterable<unknown>)[Symbol.iterator] !== 'function'
    ) {
      throw new ValidationError(
        `${where}: init returned ${shown(sets)}; it must return an iterable (an array, say) of ` +
          'argument sets, one per item, or a promise of one.',
      );
    }
    return Array.from(sets as Iterable<unknown>, itemArgs);
  };
}
