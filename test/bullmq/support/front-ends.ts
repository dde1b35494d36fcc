/**
 * What the front-end tests of the bullmq executor run, one piece per front end: a flow, a
 * batch class, LLMCompiler tools with a scripted planner and joiner, compose operators and
 * dag tasks. `weft worker`s import this module to find them: it only defines, nothing
 * runs at its top level.
 */

import { task } from 'weftjs';
import { Batch, inbatchParallel } from 'weftjs/batch';
import type { JoinerInput, PlannerInput, ToolArgs } from 'weftjs/compiler';
import { operator, type Tensor } from 'weftjs/compose';
import { Flow } from 'weftjs/flow';
import { gridLayers } from '../../fixtures/grid-flow.ts';

// dag: a diamond of tasks.

export const seed = task('bullmq-front:seed', (n: number) => n * 3);
export const left = task('bullmq-front:left', (n: number) => n + 1);
export const right = task('bullmq-front:right', (n: number) => n * n);
export const combine = task('bullmq-front:combine', ({ a, b }: { a: number; b: number }) => [
  a,
  b,
  a * b,
]);

// weftjs/flow: a grid of ForEach tasks and a layer summing them.

export const flow = new Flow('BullmqFrontEndsGrid');
gridLayers(flow, [10, 20, 30]);

// weftjs/batch: a parallel method on target threads (the method itself runs on the
// executor's workers, on the batch rebuilt there) and one on target mpc (it returns the
// task that runs once per item).

function keep(results: unknown[]): unknown[] {
  return results;
}

export const cube = task('bullmq-front:cube', (args: unknown[]) => (args[0] as number) ** 3);

export class Scaled extends Batch<number[]> {
  @inbatchParallel({ init: 'indices', post: keep, target: 'threads' })
  scaled(i: number, factor: number) {
    return { id: i, value: this.data[i]! * factor };
  }

  @inbatchParallel({ init: 'items', post: keep, target: 'mpc' })
  cubed() {
    return cube;
  }
}

// weftjs/compiler: tools as tasks, a planner streaming two rounds and a joiner that
// asks for one replan.

const temperatures: Record<string, number> = { 'San Francisco': 18, 'New York': 11, Paris: 14 };

export const weather = task('bullmq-front:weather', (args: ToolArgs) => {
  const [city] = args as [string];
  return temperatures[city] ?? null;
});

export const difference = task('bullmq-front:difference', (args: ToolArgs) => {
  const [a, b] = args as [number, number];
  return a - b;
});

async function* stream(text: string): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += 11) yield text.slice(i, i + 11);
}

export function planner({ round }: PlannerInput): AsyncGenerator<string> {
  const plan =
    round === 1
      ? [
          '1. weather("San Francisco")',
          '2. weather("New York")',
          '3. difference($1, $2)',
          '4. join()',
        ]
      : ['1. weather("Paris")', '2. difference($1, 11)', '3. join()'];
  return stream([...plan, '<END_OF_PLAN>'].join('\n'));
}

export function joiner({ observations, round }: JoinerInput): string {
  if (round === 1) return 'Action: Replan(check Paris too)';
  const seen = [...observations].map(([idx, value]) => `${idx}=${String(value)}`).join(' ');
  return `Action: Finish(${seen})`;
}

// weftjs/compose: operators, each a task.

export const doubled = operator('bullmq-front:doubled', (x: Tensor) => x.map((v) => v * 2));
export const shifted = operator('bullmq-front:shifted', (x: Tensor, { random }) =>
  x.map((v) => v + random.uniform()),
);
