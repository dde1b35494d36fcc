/** A job for `weft run`: a pipeline configured by a lazy run, its default export. */
import { Dataset } from 'weftjs/batch';
import { Numbers } from './pipeline-batches.ts';

const dataset = new Dataset(
  Array.from({ length: 10 }, (_, i) => i),
  Numbers,
);

export default dataset.pipeline().plusOne().square([]).run({ batchSize: 4, lazy: true });
