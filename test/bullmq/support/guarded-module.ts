// A module that runs work at its top level when executed directly, guarded by isWorker()
// as weft documents: a `weft worker` importing it for its task must not run that work.
import { appendFileSync } from 'node:fs';
import { isWorker, task } from 'weftjs';

export const whereAmI = task('cli-test:whereAmI', () => ({ inWorker: isWorker() }));

if (!isWorker() && process.env.WEFT_TEST_GUARD_LOG) {
  appendFileSync(process.env.WEFT_TEST_GUARD_LOG, `top-level work in ${process.pid}\n`);
}
