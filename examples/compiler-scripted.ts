/**
 * LLMCompiler with a scripted planner and joiner standing in for a model: the planner
 * streams its plan a few characters at a time, and tasks start as soon as their line is
 * complete and their inputs are ready; the joiner asks for one replan, then finishes.
 * Swap the two functions for calls to any model client: weft runs the loop.
 *
 *   weft run examples/compiler-scripted.ts "Which city is warmer, and by how much?"
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type JoinerInput, LLMCompiler, type PlannerInput } from 'weftjs/compiler';

const temperatures: Record<string, number> = { 'San Francisco': 18, 'New York': 11, Paris: 14 };

const tools = {
  /** A stand-in weather API: answers after a short delay. */
  async weather(args: unknown) {
    const [city] = args as [string];
    await sleep(50);
    return temperatures[city] ?? null;
  },
  difference(args: unknown) {
    const [a, b] = args as [number, number];
    return a - b;
  },
};

/** Streams `text` in small chunks, as a model would. */
async function* stream(text: string): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += 9) {
    await sleep(2);
    yield text.slice(i, i + 9);
  }
}

function planner({ round, feedback }: PlannerInput) {
  if (round === 1) {
    return stream(
      [
        'Thought: I need both temperatures, which can be fetched at once.',
        '1. weather("San Francisco")',
        '2. weather("New York")',
        'Thought: Then their difference.',
        '3. difference($1, $2)',
        '4. join()',
        '<END_OF_PLAN>',
      ].join('\n'),
    );
  }
  // The replan numbers from 1 again, as models do: weft renumbers it (4, 5, 6), and its
  // placeholders with it, so that it follows task 3.
  return stream(
    [
      `Thought: ${feedback}`,
      '1. weather("Paris")',
      '2. weather("New York")',
      '3. difference($1, $2)',
      '4. join()',
    ].join('\n'),
  );
}

function joiner({ observations, round }: JoinerInput) {
  if (round === 1) return 'Thought: Paris may be warmer still.\nAction: Replan(check Paris too)';
  const [sf, ny, diff, paris, , parisMinusNy] = [1, 2, 3, 4, 5, 6].map((i) => observations.get(i));
  return (
    `Thought: San Francisco ${sf} °C, New York ${ny} °C, Paris ${paris} °C.\n` +
    `Action: Finish(San Francisco is warmest: ${diff} °C warmer than New York (Paris: +${parisMinusNy}))`
  );
}

export default new LLMCompiler({ planner, tools, joiner, maxReplans: 1 });
