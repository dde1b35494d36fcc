/**
 * A Burr application that keeps its state: a StorePersister saves every step, and an
 * application built with initializeFrom goes on after the last step saved under its id.
 * Every prompt goes to every model at once on worker threads (MapActionsAndStates); the
 * first run stops after that step (haltAfter), and the second, built again as a new
 * process would build it, goes on to `done` without asking the models again. `ask`
 * stands in for a model client.
 *
 *   weft run examples/app-resume.ts
 */
import { events, openStore, threads } from 'weftjs';
import {
  ApplicationBuilder,
  type AppState,
  action,
  expr,
  MapActionsAndStates,
  StorePersister,
} from 'weftjs/app';

const prompts = ['What is a DAG?', 'Why immutable state?'];

/** A scripted model: the same answer every time, at once. */
async function ask(prompt: string, model: string): Promise<string> {
  return `${model} on '${prompt}': ${prompt.split(' ').length} words`;
}

export const queryLlm = action(
  { reads: ['prompt'], writes: ['llm_output'], inputs: ['model'] },
  async (state, { model }) => state.update({ llm_output: await ask(state.get('prompt'), model) }),
);

export class TestModelsOverPrompts extends MapActionsAndStates {
  *actions() {
    yield queryLlm.bind({ model: 'gpt-4' }).withName('gpt_4_answer');
    yield queryLlm.bind({ model: 'o1' }).withName('o1_answer');
  }
  *states(state: AppState) {
    for (const prompt of state.get('prompts')) yield state.update({ prompt });
  }
  reduce(state: AppState, states: Iterable<AppState>) {
    return state.update({ all: [...states].map((s) => s.get('llm_output')) });
  }
  get reads() {
    return ['prompts'];
  }
  get writes() {
    return ['all'];
  }
}

const done = action({ reads: ['all'], writes: ['report'] }, (state) =>
  state.update({ report: state.get('all').join('\n') }),
);

/** The application, as every process builds it: from what is saved under its id. */
function build(persister: StorePersister) {
  return new ApplicationBuilder()
    .withActions({ testModels: new TestModelsOverPrompts(), done })
    .withTransitions(['testModels', 'done', expr('len(all) > 0')])
    .withIdentifiers({ appId: 'my-app' })
    .withStatePersister(persister)
    .initializeFrom(persister, {
      resumeAtNextAction: true,
      defaultState: { prompts },
      defaultEntrypoint: 'testModels',
    })
    .withParallelExecutor(() => threads()) // a pool for each parallel step, closed after it
    .build();
}

export default async function main() {
  const off = events.on('app:step', (e) => {
    if (e.parentAppId === undefined) console.log(`step ${e.sequenceId}: ${e.action}`);
  });
  const persister = new StorePersister(await openStore('memory:')); // or 'sqlite:.weft/weft.db'
  const first = await build(persister).run({ haltAfter: ['testModels'] }); // step 0: testModels
  console.log(`halted after ${first.action}`);
  const { action: last, state } = await build(persister).run({ haltAfter: ['done'] }); // step 1: done
  console.log(`${last}:\n${state.get('report')}`);
  off();
  await persister.store.close();
}
