/** What `weft run` hands to a module's default export. */
import type { EventBus } from './events.ts';
import type { Executor } from './executor.ts';
import type { KeyScope } from './keys.ts';

/** The argument of a job's default export when it runs under `weft run`. */
export interface JobContext {
  /** The executor chosen with `--executor` / `WEFT_EXECUTOR`; pass it to map and dag, or rely on the default. */
  readonly executor: Executor;
  /** Aborted on Ctrl-C: pass it on so that running tasks stop. */
  readonly signal: AbortSignal;
  /** Scope of the run: keys of fan-outs given this scope start with the run id. */
  readonly scope: KeyScope;
  /** The bus the progress display listens to. */
  readonly events: EventBus;
  /** The run id (`--run-id`, or generated). */
  readonly runId: string;
  /** Arguments after the file name. */
  readonly args: readonly string[];
}
