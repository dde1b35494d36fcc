// biome-ignore-all format: the README's snippets, kept as the README prints them.
// biome-ignore-all lint: the README's snippets, kept as the README prints them.
// biome-ignore-all assist: the README's snippets, kept as the README prints them.
/**
 * The README's `weftjs/app` snippet, copied as in engine.ts: it type-checks for a consumer,
 * and test/readme-types.test.ts keeps it equal to the README.
 */
import { openStore, threads } from 'weftjs';
import type { Action } from 'weftjs/app';

declare function ask(prompt: string, model: string): Promise<string>;
declare const start: Action;
declare const done: Action;
declare const prompts: string[];

import { action, ApplicationBuilder, type AppState, expr, MapActionsAndStates, StorePersister } from 'weftjs/app';

const queryLlm = action({ reads: ['prompt'], writes: ['llm_output'], inputs: ['model'] },
  async (state, { model }) => state.update({ llm_output: await ask(state.get('prompt'), model) }));

class TestModelsOverPrompts extends MapActionsAndStates {
  *actions() { yield queryLlm.bind({ model: 'gpt-4' }).withName('gpt_4_answer'); yield queryLlm.bind({ model: 'o1' }).withName('o1_answer'); }
  *states(state: AppState) { for (const prompt of state.get('prompts')) yield state.update({ prompt }); }
  reduce(state: AppState, states: Iterable<AppState>) { return state.update({ all: [...states].map((s) => s.get('llm_output')) }); }
  get reads() { return ['prompts']; }
  get writes() { return ['all']; }
}

const persister = new StorePersister(await openStore('sqlite:.weft/weft.db'));
const app = new ApplicationBuilder()
  .withActions({ start, testModels: new TestModelsOverPrompts(), done })
  .withTransitions(['start', 'testModels'], ['testModels', 'done', expr('len(all) > 0')])
  .withIdentifiers({ appId: 'my-app' })
  .withStatePersister(persister)
  .initializeFrom(persister, { resumeAtNextAction: true, defaultState: { prompts }, defaultEntrypoint: 'start' })
  .withParallelExecutor(threads())   // or a factory, called per parallel step; default: the default executor
  .build();
const { action: last, result, state } = await app.run({ haltAfter: ['done'] });
