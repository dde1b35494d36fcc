/**
 * Actions of the porting tests that run on worker threads: workers import this module to
 * find them, so they are defined at its top level.
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
