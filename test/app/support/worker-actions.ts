/**
 * Actions that tests run on worker threads: workers import this module to find them, so
 * they are defined at its top level.
 */
import { action } from 'weftjs/app';

/** Adds `scratch` to `input_number`, then deletes `scratch`, which it reads but does not write. */
export const useScratchOnce = action(
  { reads: ['input_number', 'scratch'], writes: ['output_number'] },
  (state) =>
    state
      .update({ output_number: state.get('input_number') + state.get('scratch') })
      .wipe({ delete: ['scratch'] }),
);

/** Copies `input_number` to `output_number`, but fails with a RangeError of its own on 3. */
export const failsOnThree = action(
  { reads: ['input_number'], writes: ['output_number'] },
  (state) => {
    const n: number = state.get('input_number');
    if (n === 3) throw new RangeError(`number ${n} is out of range`);
    return state.update({ output_number: n });
  },
);
