/**
 * ForEach over Parameters: one task per element of the parameters' cartesian product,
 * numbered with the first parameter varying fastest (the seed's printed order). The
 * product is never built: task t's coordinates are computed from t. Parameters with
 * `index: null` are not part of the product: task t takes element t (chained ForEach).
 */
import { ValidationError } from '../core/errors.ts';
import { isAttributeName, type Layer } from './layer.ts';

/** Options of {@link Parameter}. */
export interface ParameterOptions {
  /** The upstream layer holding the attribute. */
  readonly layer: Layer;
  /** The attribute to fork over: a shard or a ForEach layer's attribute gives one task per element; a plain value is given to every task. */
  readonly attribute: string;
  /**
   * `null`: one-to-one with the tasks (task t gets element t), instead of a grid axis.
   * @default undefined (a grid axis)
   */
  readonly index?: null;
}

/**
 * An attribute of an upstream layer to fork over.
 * @example new Parameter({ layer: First, attribute: 'foo', index: null })  // one-to-one with First's tasks
 */
export class Parameter {
  /** The upstream layer holding the attribute. */
  readonly layer: Layer;
  /** The attribute forked over. */
  readonly attribute: string;
  /** True for `index: null`: matched to the task index, not crossed. */
  readonly zipped: boolean;

  constructor(options: ParameterOptions) {
    if (typeof options?.layer?.name !== 'string') {
      throw new ValidationError('Parameter needs { layer: a layer of the flow, attribute }.');
    }
    if (typeof options.attribute !== 'string' || options.attribute === '') {
      throw new ValidationError(
        `Parameter of layer ${options.layer.name} needs an attribute name.`,
      );
    }
    if (!isAttributeName(options.attribute)) {
      throw new ValidationError(
        `Parameter of layer ${options.layer.name}: '${options.attribute}' is not a valid attribute name: use letters, digits and _.`,
      );
    }
    if (options.index !== undefined && options.index !== null) {
      throw new ValidationError(
        `Parameter ${options.layer.name}.${options.attribute}: index may only be null (one-to-one with the tasks).`,
      );
    }
    this.layer = options.layer;
    this.attribute = options.attribute;
    this.zipped = options.index === null;
  }
}

/** Options of {@link ForEach}. */
export interface ForEachOptions {
  /** The attributes to fork over; several make a grid (the first varies fastest). */
  readonly parameters: readonly Parameter[];
}

/**
 * Runs a layer once per element of its parameters' product.
 * @example
 * new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'foo' }), new Parameter({ layer: Shard, attribute: 'bar' })] })
 * // foo=[1,2,3], bar=['a','b'] → tasks 0:(1,a) 1:(2,a) 2:(3,a) 3:(1,b) 4:(2,b) 5:(3,b)
 */
export class ForEach {
  /** The attributes forked over, in order. */
  readonly parameters: readonly Parameter[];

  constructor(options: ForEachOptions) {
    if (!Array.isArray(options?.parameters) || options.parameters.length === 0) {
      throw new ValidationError(
        'ForEach needs { parameters: [new Parameter({ layer, attribute })] }.',
      );
    }
    for (const parameter of options.parameters) {
      if (!(parameter instanceof Parameter)) {
        throw new ValidationError(
          'ForEach parameters must be made with new Parameter({ layer, attribute }).',
        );
      }
    }
    this.parameters = options.parameters;
  }
}

/** The sizes of a ForEach's axes, and how a task number maps to element positions. */
export class Grid {
  /** Number of tasks. */
  readonly size: number;
  /** Per parameter: its length as an axis (1 for a broadcast value), or -1 for a zipped one. */
  readonly #axes: readonly number[];

  /**
   * @param lengths per parameter, the number of elements, or undefined for a plain value
   */
  constructor(
    layer: string,
    parameters: readonly Parameter[],
    lengths: readonly (number | undefined)[],
  ) {
    const axes: number[] = [];
    let size = 1;
    let zipped: number | undefined;
    parameters.forEach((parameter, i) => {
      const length = lengths[i];
      if (parameter.zipped) {
        if (length === undefined) {
          throw new ValidationError(
            `ForEach of ${layer}: ${parameter.layer.name}.${parameter.attribute} is a plain value, so index: null has nothing to match; drop index: null to give it to every task.`,
          );
        }
        if (zipped !== undefined && zipped !== length) {
          throw new ValidationError(
            `ForEach of ${layer}: parameters with index: null must have the same length, got ${zipped} and ${length}.`,
          );
        }
        zipped = length;
        axes.push(-1);
      } else {
        axes.push(length ?? 1);
        size *= length === undefined ? 1 : length;
      }
    });
    const crossed = parameters.some((parameter) => !parameter.zipped);
    if (zipped !== undefined) {
      if (crossed && size !== zipped) {
        throw new ValidationError(
          `ForEach of ${layer}: the grid has ${size} tasks but the parameters with index: null have ${zipped} elements; they must match.`,
        );
      }
      size = zipped;
    }
    if (!Number.isSafeInteger(size)) {
      throw new ValidationError(`ForEach of ${layer}: ${size} tasks is too many.`);
    }
    this.size = size;
    this.#axes = axes;
  }

  /** Element position of each parameter for task `task`: the first parameter varies fastest. */
  positions(task: number): number[] {
    let rest = task;
    return this.#axes.map((axis) => {
      if (axis < 0) return task;
      const position = rest % axis;
      rest = Math.floor(rest / axis);
      return position;
    });
  }
}
