/**
 * Plain actions of sub-applications on worker threads, processes and remote workers. The
 * application loop stays in this thread (persisters and trackers live here); each step's
 * action goes to the executor as one remote call, whose task finds the action again in
 * the worker by its {@link ActionRef}. This module only builds the call's input and folds
 * its output back into the state.
 */
import { importDefinitions } from '../core/definitions.ts';
import { ValidationError } from '../core/errors.ts';
import { events as sharedEvents } from '../core/events.ts';
import type { Executor } from '../core/executor.ts';
import { moduleLocation, resolveDefinition } from '../core/registry.ts';
import { callRemote } from '../core/remote-call.ts';
import { State, type StateRecord } from '../core/state.ts';
import { task } from '../core/task.ts';
import {
  type Action,
  type ActionRef,
  type ActionResult,
  type AppState,
  derive,
  type Inputs,
  runStep,
  type StepResult,
} from './action.ts';
import type { ApplicationContext } from './context.ts';

/** What a worker needs to run one step. */
interface RemoteStepInput {
  readonly ref: ActionRef;
  readonly name: string;
  /** The keys of the state the action reads and writes (those it has). */
  readonly state: StateRecord;
  readonly inputs: Inputs;
  readonly appId: string;
  readonly partitionKey: string;
  readonly sequenceId: number;
}

/** What a worker sends back. */
interface RemoteStepOutput {
  readonly result: ActionResult;
  /** The keys sent, as the action left them: written, kept, or gone when it deleted them. */
  readonly state: StateRecord;
}

/** The task a worker runs for one step of a sub-application. */
export const runActionStep = task(
  'weft:app/runActionStep',
  async (input: RemoteStepInput, ctx): Promise<RemoteStepOutput> => {
    const act = await resolveRef(input.ref);
    const context: ApplicationContext = {
      appId: input.appId,
      partitionKey: input.partitionKey,
      sequenceId: input.sequenceId,
      actionName: input.name,
      signal: ctx.signal,
      parent: undefined,
      tracker: null,
      statePersister: null,
      stateInitializer: null,
      parallelExecutor: undefined,
      scope: ctx.scope,
      events: sharedEvents,
    };
    const done = await runStep(act, input.name, State.of(input.state), input.inputs, context);
    return { result: done.result, state: done.state.toObject() };
  },
);

/**
 * Runs one step of `act` on `executor` (a worker pool), recorded under the step's key
 * scope, and returns its result and the new state. A failure is the action's own error,
 * as when it runs in this thread. The worker sees only the keys the action reads and
 * writes, so those are the keys it can delete.
 */
export async function remoteStep(
  executor: Executor,
  act: Action,
  name: string,
  state: AppState,
  inputs: Inputs,
  context: ApplicationContext,
): Promise<StepResult> {
  const ref = act.ref();
  if (typeof ref === 'string') {
    throw new ValidationError(
      `Action '${name}' cannot run on ${executor.name}: ${ref}. Define it with action() at the top ` +
        'level of a module (or export its class from the module that creates it), or use an in-process executor.',
    );
  }
  // Only what the action reads and writes travels: the worker checks the writes on that
  // subset (a key it adds undeclared is still a change), and the caller keeps the rest.
  const sent = state.subset(...act.reads, ...act.writes, { ignoreMissing: true }).toObject();
  const input: RemoteStepInput = {
    ref,
    name,
    state: sent,
    inputs,
    appId: context.appId,
    partitionKey: context.partitionKey,
    sequenceId: context.sequenceId,
  };
  const done = await callRemote(runActionStep, input, {
    executor,
    scope: context.scope,
    name: 'action',
    signal: context.signal,
  });
  // The worker checked the writes; what it sends back are copies, so this thread keeps its
  // own values, takes only the declared writes, and drops the keys the action deleted.
  const written: StateRecord = {};
  for (const key of act.writes) written[key] = done.state[key];
  const deleted = Object.keys(sent).filter((key) => !Object.hasOwn(done.state, key));
  const updated = state.update(written);
  return {
    result: done.result,
    state: deleted.length === 0 ? updated : updated.wipe({ delete: deleted }),
  };
}

/** Finds the action a ref names: in the registry, or among its module's exported classes. */
export async function resolveRef(ref: ActionRef): Promise<Action> {
  switch (ref.kind) {
    case 'site':
      return resolveDefinition<Action>(ref.definition);
    case 'class': {
      const module = (await importDefinitions(moduleLocation(ref.module))) as Record<
        string,
        unknown
      >;
      const found = Object.values(module).find(
        (value): value is new () => Action =>
          typeof value === 'function' && value.name === ref.className,
      );
      if (!found) {
        throw new ValidationError(
          `Class ${ref.className} is not exported by ${ref.module}: export it so that workers can create the action.`,
        );
      }
      // Rebuilt from its public fields, without running the constructor again.
      return Object.assign(Object.create(found.prototype) as Action, ref.fields);
    }
    case 'derived':
      return derive(await resolveRef(ref.base), ref.name, ref.bound);
  }
}
