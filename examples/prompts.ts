/**
 * Fan prompts out over models on the event loop (the default asyncPool executor), with
 * bounded concurrency, retries with backoff, a timeout per call, and failures collected
 * in place instead of stopping the run. `askModel` stands in for a real model client.
 *
 *   weft run examples/prompts.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type JobContext, map, task } from 'weftjs';

const models = ['small', 'medium', 'large'] as const;
const prompts = [
  'What is a DAG?',
  'Explain backpressure.',
  'Why immutable state?',
  'Define fan-out.',
];

/** A stand-in model: answers after a short delay, and stops when its signal aborts. */
async function askModel(model: string, prompt: string, signal: AbortSignal): Promise<string> {
  await sleep(20 + ((prompt.length * model.length) % 30), undefined, { signal });
  return `[${model}] ${prompt.replace('?', '')}: answered`;
}

export const ask = task(
  'examples:ask',
  async ({ model, prompt }: { model: string; prompt: string }, ctx) => {
    // The first attempt at the large model fails: the retry succeeds.
    if (model === 'large' && ctx.attempt === 1) throw new Error('rate limited');
    return askModel(model, prompt, ctx.signal);
  },
  { retries: 2, backoff: { delayMs: 50 }, timeoutMs: 2_000 },
);

export default async function main(ctx: JobContext) {
  const jobs = models.flatMap((model) => prompts.map((prompt) => ({ model, prompt })));
  const answers = await map(jobs, ask, {
    concurrency: 4,
    onError: 'collect',
    signal: ctx.signal,
    scope: ctx.scope,
  });
  return answers.map((answer) => (answer instanceof Error ? `failed: ${answer.message}` : answer));
}
