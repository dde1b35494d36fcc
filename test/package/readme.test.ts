/**
 * The README's code is real code. Every ```ts block names, on its first line, the example
 * it is taken from (`// examples/squares.ts`); its lines are in that file, in the same
 * order, and lines next to each other in the block are next to each other in the file
 * unless a line `// …` stands between them for code left out. Each example it names runs
 * with `weft run` and prints what the block's comments say.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { batchPipelineOutput, composeAugmentOutput } from '../fixtures/example-outputs.ts';
import { weftRun } from '../fixtures/weft-cli.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
// Runs are recorded in a store of this test file's own, not in the project's .weft/.
const storeFile = `sqlite:${join(mkdtempSync(join(tmpdir(), 'weft-readme-')), 'weft.db')}`;

/** A fenced block of the README. */
interface Block {
  readonly language: string;
  /** Its lines, without the fences. */
  readonly lines: readonly string[];
  /** 1-based line of the README where its first line is. */
  readonly at: number;
}

function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    blocks.push({ language: open[1]!, lines: lines.slice(start, end), at: start + 1 });
    i = end;
  }
  return blocks;
}

const omitted = '// …';
const normalize = (line: string) => line.trim().replace(/\s+/g, ' ');

/**
 * Why `excerpt` (the block's lines after the file name) is not taken from `source`, or
 * undefined when it is. Blank lines and indentation do not count; `// …` lines split the
 * excerpt into runs of lines, each found whole in the file, in order. A block that
 * starts with an import and leaves nothing out shows the whole file: from its first
 * import to its end.
 */
function excerptProblem(excerpt: readonly string[], source: string): string | undefined {
  const lines = excerpt.map(normalize).filter((line) => line !== '');
  const file = source
    .split('\n')
    .map(normalize)
    .filter((line) => line !== '');
  const runs: string[][] = [[]];
  for (const line of lines) {
    if (line === omitted) runs.push([]);
    else runs.at(-1)!.push(line);
  }
  let from = 0;
  let first = -1;
  for (const chunk of runs) {
    if (chunk.length === 0) continue;
    const found = findRun(file, chunk, from);
    if (found < 0) {
      const missing = chunk.find((line) => !file.slice(from).includes(line));
      return missing === undefined
        ? `the lines from '${chunk[0]}' are in the file, but not next to each other in this order: mark the code left out with a line '${omitted}'`
        : `'${missing}' is not in the file${file.includes(missing) ? ' after the lines shown before it' : ''}`;
    }
    if (first < 0) first = found;
    from = found + chunk.length;
  }
  if (first < 0) return 'the block shows no code';
  const whole = runs.length === 1 && lines[0]!.startsWith('import ');
  if (
    whole &&
    (first !== file.findIndex((line) => line.startsWith('import ')) || from !== file.length)
  ) {
    return `the block reads as a whole file but is not all of it: mark the code left out with a line '${omitted}'`;
  }
  return undefined;
}

function findRun(file: readonly string[], lines: readonly string[], from: number): number {
  for (let start = from; start + lines.length <= file.length; start++) {
    if (lines.every((line, i) => file[start + i] === line)) return start;
  }
  return -1;
}

/** The example a ts block names on its first line, if it names one. */
function namedExample(block: Block): string | undefined {
  return /^\/\/ (examples\/[\w-]+\.ts)$/.exec(block.lines[0]?.trim() ?? '')?.[1];
}

/** How an example is run, and what it must print: the promises of the README's comments. */
interface Promised {
  readonly args?: readonly string[];
  check(stdout: string): void;
}

const promised: Record<string, Promised> = {
  'examples/squares.ts': {
    check: (out) => assert.equal(out, '[ 1, 4, 9 ]\n[ 16, 25, 36 ]\n333383335000\n'),
  },
  'examples/pages.ts': {
    check(out) {
      // The slow page outlasted the timeout once, the flaky one failed once: both retried.
      assert.match(out, /^retry fetchPage 2: TimeoutError: .*timed out after 1000 ms/m);
      assert.match(out, /^retry fetchPage 3: Error: http:\/\/127\.0\.0\.1:\d+\/flaky: 503 /m);
      const lines = out.split('\n');
      const inOrder = lines.indexOf("[ 'Home', 'About', 'Slow', 'Flaky' ]");
      assert.ok(inOrder >= 0, out);
      // As they finish: every title once, in whatever order.
      const finished = lines.slice(inOrder + 1, inOrder + 5).sort();
      assert.deepEqual(finished, ['About', 'Flaky', 'Home', 'Slow']);
      assert.match(out, /^Error: http:\/\/127\.0\.0\.1:\d+\/missing: 404 Not Found$/m);
      assert.match(out, /\nHome & About\n$/);
    },
  },
  'examples/state.ts': {
    check(out) {
      assert.match(out, /start: \{ count: 0, items: \[\] \}/);
      assert.match(out, /next: \{ count: 3, items: \[ 'a', 'b', 'c' \] \}/);
    },
  },
  'examples/events.ts': {
    check(out) {
      const lines = out.trimEnd().split('\n');
      assert.equal(lines.length, 4, out);
      lines.slice(0, 3).forEach((line, i) => {
        assert.match(line, new RegExp(`/map:square/${i}: \\d+(\\.\\d+)? ms$`));
      });
      assert.equal(lines[3], "{ 'map:start': 1, 'task:start': 2, 'task:end': 2, 'map:end': 1 }");
    },
  },
  'examples/resume.ts': {
    check: (out) =>
      assert.equal(
        out,
        'squaring 1\nsquaring 2\nsquaring 3\n[ 1, 4, 9 ]\n' +
          'squaring 4\nsquaring 5\n[ 1, 4, 9, 16, 25 ]\n',
      ),
  },
  'examples/app-resume.ts': {
    check: (out) =>
      assert.equal(
        out,
        'step 0: testModels\nhalted after testModels\nstep 1: done\ndone:\n' +
          "gpt-4 on 'What is a DAG?': 4 words\ngpt-4 on 'Why immutable state?': 3 words\n" +
          "o1 on 'What is a DAG?': 4 words\no1 on 'Why immutable state?': 3 words\n",
      ),
  },
  'examples/flow-retry.ts': {
    check(out) {
      const lines = out.trimEnd().split('\n');
      assert.deepEqual(lines.slice(0, 2).sort(), [
        'Process 0 of 2, try 1',
        'Process 1 of 2, try 1',
      ]);
      assert.deepEqual(lines.slice(2), ['Process 1 of 2, try 2', '[ 10, 20 ]', '20', '2']);
    },
  },
  'examples/batch-pipeline.ts': {
    check: (out) => assert.equal(out, batchPipelineOutput),
  },
  'examples/compose-augment.ts': {
    check(out) {
      assert.equal(composeAugmentOutput.exec(out)?.[1], 'threads', out);
      assert.match(
        out,
        /data: \{\s+image: Tensor<float32>\[64, 3, 64, 64\] \[[-\d., e]+, … 786,428 more\]/,
      );
      assert.match(out, /\{ factor: \d\.\d+ \}/);
    },
  },
  'examples/compiler-seed.ts': {
    check: (out) => assert.match(out, /observations: \{ '1': 1, '2': 2, '3': 3 \}/),
  },
  'examples/compiler-scripted.ts': {
    args: ['Which city is warmer?'],
    check(out) {
      assert.match(out, /answer: 'San Francisco is warmest: 7 °C warmer than New York/);
      assert.match(out, /rounds: 2/);
    },
  },
};

describe('README', () => {
  const blocks = fencedBlocks(readme);
  const tsBlocks = blocks.filter((block) => block.language === 'ts');

  it('starts with the install command', () => {
    assert.deepEqual(blocks[0], {
      language: 'sh',
      lines: ['npm install weftjs'],
      at: blocks[0]?.at,
    });
  });

  it('takes every ts block from an example, in the example’s own order', () => {
    assert.ok(tsBlocks.length > 0, 'README.md has no ts blocks');
    const problems: string[] = [];
    for (const block of tsBlocks) {
      const name = namedExample(block);
      if (name === undefined) {
        problems.push(
          `README.md:${block.at}: name the example on the block's first line, e.g. '// examples/squares.ts'`,
        );
        continue;
      }
      const path = join(root, name);
      if (!existsSync(path)) {
        problems.push(`README.md:${block.at}: ${name} does not exist`);
        continue;
      }
      const problem = excerptProblem(block.lines.slice(1), readFileSync(path, 'utf8'));
      if (problem) problems.push(`README.md:${block.at} (${name}): ${problem}`);
    }
    assert.deepEqual(problems, []);
  });

  it('checks what every example it names promises, and no other', () => {
    const named = [...new Set(tsBlocks.map(namedExample).filter((name) => name !== undefined))];
    named.sort();
    assert.deepEqual(named, Object.keys(promised).sort());
  });

  for (const [file, { args, check }] of Object.entries(promised)) {
    it(`${file} runs and prints what the README says`, async () => {
      check(
        // The examples choose their executors; the environment of the test run must not.
        await weftRun(file, args, {
          env: { WEFT_STORE: storeFile, WEFT_EXECUTOR: undefined, WEFT_WORKERS: undefined },
        }),
      );
    });
  }
});

describe('excerptProblem', () => {
  const source = [
    "import { map } from 'weftjs';",
    '',
    'export const a = 1;',
    'export const b = 2;',
    'export const c = 3;',
  ].join('\n');

  it('accepts lines in order, indented or not, and gaps marked // …', () => {
    assert.equal(
      excerptProblem(['  export const a = 1;', 'export const b = 2;'], source),
      undefined,
    );
    assert.equal(
      excerptProblem(['export const a = 1;', '// …', 'export const c = 3;'], source),
      undefined,
    );
    assert.equal(excerptProblem(source.split('\n'), source), undefined);
  });

  it('refuses a line the file does not have', () => {
    assert.match(
      excerptProblem(['export const d = 4;'], source) ?? '',
      /'export const d = 4;' is not in the file/,
    );
  });

  it('refuses lines out of order', () => {
    assert.match(
      excerptProblem(['export const b = 2;', '// …', 'export const a = 1;'], source) ?? '',
      /is not in the file after the lines shown before it/,
    );
  });

  it('refuses a gap that is not marked', () => {
    assert.match(
      excerptProblem(['export const a = 1;', 'export const c = 3;'], source) ?? '',
      /not next to each other/,
    );
  });

  it('refuses a whole-looking block that leaves the end out', () => {
    assert.match(
      excerptProblem(["import { map } from 'weftjs';", 'export const a = 1;'], source) ?? '',
      /reads as a whole file but is not all of it/,
    );
  });
});
