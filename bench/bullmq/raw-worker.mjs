// BullMQ used directly, the peer of `weft worker`: a Worker on queue argv[3] of the Redis
// at argv[2] with concurrency argv[4], whose processor returns the job's data at once.
// Prints `ready` once it takes jobs; stops on SIGTERM.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const [url, queue, concurrency] = process.argv.slice(2);
const connection = new Redis(url, { maxRetriesPerRequest: null });
const worker = new Worker(queue, async (job) => job.data, {
  connection,
  concurrency: Number(concurrency),
});
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.once('SIGTERM', async () => {
  await worker.close();
  connection.disconnect();
});
