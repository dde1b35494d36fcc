/**
 * The one place that installs the default executor: the one `WEFT_EXECUTOR` chooses (see
 * {@link executorFromEnv}). Every entry point (`weftjs`, `weftjs/app`, `weftjs/flow`,
 * `weftjs/compiler`) re-exports from this module, so that loading any of them loads it.
 */
import { provideDefaultExecutorFactory, provideExecutorKinds } from '../core/executor.ts';
import { defaultExecutor, executorFromEnv } from './from-env.ts';

export { executorFromEnv, executorNames } from './from-env.ts';

// Importing any entry point alone must be enough to run fan-outs on the default executor,
// chosen by WEFT_EXECUTOR, without passing one. It is only provided: a factory set
// earlier (`weft run` sets the one of --executor) stays.
provideDefaultExecutorFactory(defaultExecutor);
// Front ends that choose where work runs by their own words (BatchFlow's targets) make
// executors by kind through the engine, without importing an implementation.
provideExecutorKinds((kind, { workers }) => executorFromEnv(kind, workers));
