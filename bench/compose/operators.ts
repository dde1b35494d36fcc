/**
 * The element-wise operators of the composite benchmark, in a module of their own:
 * worker threads import it to find them by name, and it does no work.
 */
import { operator, type Tensor, tensor } from 'weftjs/compose';

/** A loop of `fn` over one example, into a new array: what each operator does. */
export function elementWise(x: Float32Array, fn: (value: number) => number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = fn(x[i]!);
  return out;
}

/** BatchFlow's transform, x → -exp(-exp(x)). */
export const gumbel = (x: number) => -Math.exp(-Math.exp(x));
/** x → log(1 + exp(x)). */
export const softplus = (x: number) => Math.log1p(Math.exp(x));
/** x → tanh(x) / 2. */
export const halfTanh = (x: number) => Math.tanh(x) / 2;

function elementWiseOperator(name: string, fn: (value: number) => number) {
  return operator(name, (x: Tensor) =>
    tensor(elementWise(x.data as Float32Array, fn), { shape: x.shape }),
  );
}

export const gumbelOp = elementWiseOperator('bench:compose/gumbel', gumbel);
export const softplusOp = elementWiseOperator('bench:compose/softplus', softplus);
export const halfTanhOp = elementWiseOperator('bench:compose/halfTanh', halfTanh);
