/**
 * BatchFlow's "within batch parallelism" examples, in TypeScript: every init form, post
 * and anyActionFailed, extra decorator options, the targets threads, async, mpc and for,
 * run_once and data components. Prints:
 *   someAction (threads): [ 3, 6, 9, 12 ]
 *   positional (init lists): [ 111, 112, 113, 114 ]
 *   named (init objects, async): [ '0:6', '1:6', '2:6', '3:6' ]
 *   both (args(positional, named)): [ 0, 10, 20, 30 ]
 *   extra options reach init and post: [ '0 (clearData false)', … ]
 *   in place, no post: [ 2, 4, 6, 8 ]
 *   in place on threads (shared memory): [ -0.066, -0.001, -0, -0 ]
 *   async method: [ 'fetched 0', 'fetched 1', 'fetched 2', 'fetched 3' ]
 *   run_once: [ 'data.bin as raw' ]
 *   mpc, a function per item in child processes: [ 5, 10, 15, 20 ]
 *   mpc, a task per item: [ 6, 7, 8, 9 ]
 *   errors in place for post: failed: 0, item 1 is broken, 2, 3
 *   components (init 'images'): [ 6, 15 ]
 *
 *   weft run examples/batch-seed.ts
 */
import { parallel, shared } from 'weftjs/batch';
import { ImagesBatch, MyBatch } from './lib/seed-batches.ts';

export default async function main(): Promise<void> {
  const data = () => parallel(new MyBatch([1, 2, 3, 4]));

  console.log('someAction (threads):', [...(await data().someAction(3)).data]);
  console.log('positional (init lists):', await data().positional());
  console.log('named (init objects, async):', await data().named());
  console.log('both (args(positional, named)):', await data().both());
  console.log('extra options reach init and post:', (await data().someMethod()).data);
  console.log('in place, no post:', (await data().double()).data);

  const numbers = parallel(new MyBatch(shared(Float64Array.from([1, 2, 3, 4]))));
  await numbers.fastAction({ nWorkers: 2 });
  console.log(
    'in place on threads (shared memory):',
    [...numbers.data].map((x: number) => Number(x.toFixed(3))),
  );

  console.log('async method:', await data().fetchAll());
  const once = data();
  await once.readSomeData('data.bin');
  console.log('run_once:', once.data);
  console.log('mpc, a function per item in child processes:', await data().mpcAction(5));
  console.log('mpc, a task per item:', await data().mpcWithTask(5));
  console.log('errors in place for post:', await data().risky());

  const images = parallel(
    new ImagesBatch({
      images: [
        [1, 2, 3],
        [4, 5, 6],
      ],
      labels: ['a', 'b'],
    }),
  );
  console.log("components (init 'images'):", await images.brightness());
}
