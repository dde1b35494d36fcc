// biome-ignore-all format: the README's snippets, kept as the README prints them.
// biome-ignore-all lint: the README's snippets, kept as the README prints them.
// biome-ignore-all assist: the README's snippets, kept as the README prints them.
/**
 * The README's `weftjs/compiler` snippet, copied as in engine.ts: it type-checks for a
 * consumer, and test/readme-types.test.ts keeps it equal to the README.
 */
import type { Joiner, Planner, ToolFn } from 'weftjs/compiler';

declare const sleep_next: ToolFn;
declare const sleep_total: ToolFn;
declare const modelStream: AsyncIterable<string>;
declare const planner: Planner;
declare const tools: Readonly<Record<string, ToolFn>>;
declare const joiner: Joiner;

import { LLMCompiler, parsePlan, scheduleTasks } from 'weftjs/compiler';

const observations = await scheduleTasks([
  { idx: 1, tool: 'sleep_next', args: { t: 1 } },
  { idx: 2, tool: 'sleep_next', args: { t: 2 } },
  { idx: 3, tool: 'sleep_total', args: { time1: '$1', time2: '$2' } },   // waits for 1 and 2
], { tools: { sleep_next, sleep_total } });   // Map { 1 => 1, 2 => 2, 3 => 3 } in 2 s, not 3

for await (const task of parsePlan(modelStream)) { /* … */ }   // '1. search("x")' lines, as they stream

const compiler = new LLMCompiler({ planner, tools, joiner, maxReplans: 2 });
const { answer, rounds } = await compiler.invoke('Is SF warmer than NYC?');
