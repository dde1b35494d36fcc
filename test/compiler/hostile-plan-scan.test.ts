/**
 * parsePlan in linear time: a plan streamed in tiny chunks is searched for line breaks
 * once per character, however long its lines. The work is counted, not timed (timings
 * are in bench/compiler-parse.ts): every search for a line break the splitter makes is
 * watched, and the characters it passes over are added up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parsePlan } from 'weftjs/compiler';
import { LineSplitter } from '../../src/compiler/lines.ts';
import { collect, cut, streamOf } from '../fixtures/compiler-helpers.ts';

/**
 * Splits text through a LineSplitter fed `chunks`; returns the lines and the work: the
 * characters that its searches for a line break passed over (String.prototype.indexOf,
 * includes, search and split on '\n' are watched while it runs).
 */
function split(chunks: Iterable<string>): { lines: string[]; examined: number } {
  const splitter = new LineSplitter();
  const lines: string[] = [];
  let examined = 0;
  const proto = String.prototype;
  const { indexOf, includes, split: splitString, search } = proto;
  // What could find a line break: a string holding one, or any pattern.
  const isBreak = (needle: unknown) =>
    needle instanceof RegExp || (typeof needle === 'string' && indexOf.call(needle, '\n') >= 0);
  proto.indexOf = function (this: string, needle: string, from = 0) {
    const found = indexOf.call(this, needle, from);
    if (isBreak(needle)) examined += (found < 0 ? this.length : found + 1) - Math.max(from, 0);
    return found;
  };
  proto.includes = function (this: string, needle: string, from = 0) {
    const found = indexOf.call(this, needle, from);
    if (isBreak(needle)) examined += (found < 0 ? this.length : found + 1) - Math.max(from, 0);
    return found >= 0;
  } as typeof includes;
  proto.split = function (this: string, ...args: Parameters<typeof splitString>) {
    if (isBreak(args[0])) examined += this.length;
    return splitString.apply(this, args);
  } as typeof splitString;
  proto.search = function (this: string, ...args: Parameters<typeof search>) {
    if (isBreak(args[0])) examined += this.length;
    return search.apply(this, args);
  } as typeof search;
  try {
    for (const chunk of chunks) lines.push(...splitter.push(chunk));
    const rest = splitter.end();
    if (rest !== undefined) lines.push(rest);
  } finally {
    Object.assign(proto, { indexOf, includes, split: splitString, search });
  }
  return { lines, examined };
}

/** `text` in chunks of `size` characters. */
function chunksOf(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += size) chunks.push(text.slice(at, at + size));
  return chunks;
}

/** What splitting at every '\n' gives, without an empty last line. */
function expectedLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

describe('plan scanning: work per character', () => {
  it('examines each character of a 1 MB line in 4-character chunks once', () => {
    const line = `1. search(query="${'a'.repeat(1_000_000)}")`;
    const { lines, examined } = split(chunksOf(`${line}\n2. join()\n`, 4));
    assert.deepEqual(
      lines.map((l) => l.length),
      [line.length, 9],
    );
    assert.equal(lines[0], line);
    assert.equal(examined, line.length + 1 + 10);
  });

  it('examines each character once for many short lines in one chunk, or one by one', () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `${i + 1}. f(${i})\n`).join('');
    for (const chunks of [[text], chunksOf(text, 1), chunksOf(text, 4096)]) {
      const { lines, examined } = split(chunks);
      assert.equal(lines.length, 20_000);
      assert.equal(examined, text.length);
    }
  });

  it('has work linear in the text for any text cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom('a', '\n', '\r', '"', '\\', '(', ')', '1', '.'),
          maxLength: 300,
        }),
        fc.array(fc.nat({ max: 300 }), { maxLength: 20 }),
        (text, points) => {
          const { lines, examined } = split(cut(text, points));
          assert.deepEqual(lines, expectedLines(text));
          assert.equal(examined, text.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('plan scanning: parsePlan on long lines', () => {
  it('reads a 1 MB argument streamed in 4-character chunks', async () => {
    const text = 'x'.repeat(1_000_000);
    const plan = `Thought: long\n1. search(query="${text}", n=[${'1,'.repeat(1000)}])\n2. join()\n`;
    const tasks = await collect(parsePlan(streamOf(chunksOf(plan, 4))));
    assert.equal(tasks.length, 1);
    const args = tasks[0]!.args as { query: string; n: number[] };
    assert.equal(args.query, text);
    assert.equal(args.n.length, 1000);
    assert.equal(tasks[0]!.thought, 'long');
  });

  it('reads a line without an end the same, whole or in chunks', async () => {
    const plan = `1. a("${'\\"'.repeat(50_000)}")`;
    const whole = await collect(parsePlan(plan));
    const chunked = await collect(parsePlan(streamOf(chunksOf(plan, 3))));
    assert.deepEqual(chunked, whole);
    assert.equal((whole[0]!.args as string[])[0], '"'.repeat(50_000));
  });
});
