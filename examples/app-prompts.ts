/**
 * Burr's parallelism example on weft: every prompt through every model at once
 * (MapActionsAndStates), then one reduce gathers the answers in a fixed order, whatever
 * order they arrived in. `askModel` stands in for a real model client. Under `weft run`
 * each sub-application is recorded under its key, so `weft resume <run>` skips the ones
 * that finished, and `weft show <run>` lists the application and its sub-applications.
 *
 *   weft run examples/app-prompts.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Action,
  ApplicationBuilder,
  type ApplicationContext,
  type AppState,
  action,
  MapActionsAndStates,
} from 'weftjs/app';

/** A stand-in model: answers after a short, prompt-dependent delay; stops when aborted. */
async function askModel(model: string, prompt: string, signal: AbortSignal): Promise<string> {
  await sleep(30 + ((prompt.length * model.length) % 40), undefined, { signal });
  return `${model} on "${prompt}": ${prompt.split(' ').length} words considered`;
}

const queryLlm = action(
  { reads: ['prompt'], writes: ['llm_output', 'model'], inputs: ['model'] },
  async (state, { model }, context) =>
    state.update({
      llm_output: await askModel(model, state.get('prompt'), context.signal),
      model,
    }),
);

const start = action({ reads: [], writes: ['prompts'] }, (state) =>
  state.update({
    prompts: [
      'What is the meaning of life?',
      'What is the airspeed velocity of an unladen swallow?',
      'What is the best way to cook a steak?',
    ],
  }),
);

class TestModelsOverPrompts extends MapActionsAndStates {
  *actions(): Generator<Action> {
    yield queryLlm.bind({ model: 'gpt-4' }).withName('gpt_4_answer');
    yield queryLlm.bind({ model: 'o1' }).withName('o1_answer');
    yield queryLlm.bind({ model: 'claude' }).withName('claude_answer');
  }
  *states(state: AppState, _context: ApplicationContext): Generator<AppState> {
    for (const prompt of state.get('prompts')) yield state.update({ prompt });
  }
  reduce(state: AppState, states: Iterable<AppState>): AppState {
    const all = [];
    for (const sub of states) {
      all.push({
        model: sub.get('model'),
        prompt: sub.get('prompt'),
        output: sub.get('llm_output'),
      });
    }
    return state.update({ all_llm_outputs: all });
  }
  get reads() {
    return ['prompts'];
  }
  get writes() {
    return ['all_llm_outputs'];
  }
}

const report = action({ reads: ['all_llm_outputs'], writes: ['report'] }, (state) =>
  state.update({
    report: state
      .get('all_llm_outputs')
      .map((row: { output: string }, i: number) => `${i + 1}. ${row.output}`)
      .join('\n'),
  }),
);

export default new ApplicationBuilder()
  .withActions({ start, testModels: new TestModelsOverPrompts(), report })
  .withTransitions(['start', 'testModels'], ['testModels', 'report'])
  .withState({})
  .withEntrypoint('start')
  .withIdentifiers({ appId: 'prompts-over-models' })
  .build();
