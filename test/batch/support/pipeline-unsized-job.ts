/** A job for `weft run` whose pipeline holds no batch size: weft run refuses it. */
import { Dataset } from 'weftjs/batch';
import { Numbers } from './pipeline-batches.ts';

export default new Dataset([1, 2, 3], Numbers).pipeline().plusOne();
