/**
 * What the CLI prints of a store and of the command line: control characters as escapes,
 * never raw (a shared store must not drive the reader's terminal), and errors on one line.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { errorLine } from '../../src/cli/error-line.ts';
import { clipped, printable, shellWord } from '../../src/cli/text.ts';
import { root, type WeftOptions, weft } from '../fixtures/weft-cli.ts';

// Anything that moves a terminal: C0 controls (a newline only ends a line), DEL, C1.
const raw = /(?!\n)\p{Cc}/u;
const esc = '\u001b';
const csi = '\u009b';

describe('what the CLI prints from the store and the command line', () => {
  // The store's folder, the job's file name, its task, its error and its argument all
  // hold escape sequences.
  const folder = join(mkdtempSync(join(tmpdir(), 'weft-cli-out-')), `st${esc}[7more`);
  mkdirSync(folder);
  const storeUrl = `sqlite:${join(folder, 'runs.db')}`;
  const inStore: WeftOptions = { env: { WEFT_STORE: storeUrl, WEFT_EXECUTOR: undefined } };
  const job = join(folder, `job${esc}[31m${csi}red.mts`);
  writeFileSync(
    job,
    `import { map, task } from ${JSON.stringify(pathToFileURL(join(root, 'src/index.ts')).href)};
const bad = task('esc\\u001b[32mgreen\\u009b33m', (x: number) => {
  if (x === 2) throw new Error(\`bad\\u001b[2J\\u009b31m \${x}\\nsecond line\`);
  return x;
});
export default async function main(ctx: { scope: never }) {
  await map([1, 2], bad, { scope: ctx.scope });
}
`,
  );
  const arg = `${esc}[31marg`;

  it('escapes them in weft run, its error, its resume hint and its refusals', async () => {
    const failed = await weft(['run', job, '--no-progress', '--run-id', 'esc-1', arg], inStore);
    assert.equal(failed.code, 1);
    assert.doesNotMatch(failed.stderr, raw);
    const lines = failed.stderr.trimEnd().split('\n');
    assert.deepEqual(lines.slice(2), [
      '(run with --stack for the whole message)',
      `weft: run esc-1 stopped; continue it with: weft resume esc-1 --store $'${printable(storeUrl)}'`,
    ]);
    assert.ok(lines[0]!.startsWith(`weft: run esc-1 in ${printable(folder)}`), lines[0]);
    assert.match(
      lines[1]!,
      /^weft: TaskFailedError: Task 'esc\\x1b\[32mgreen\\x9b33m' .* bad\\x1b\[2J\\x9b31m 2$/,
    );
    // The hint is a shell word that names the store again.
    const word = lines[3]!.slice(lines[3]!.indexOf('--store ') + '--store '.length);
    assert.equal(execFileSync('bash', ['-c', `printf %s ${word}`], { encoding: 'utf8' }), storeUrl);

    const other = await weft(
      ['run', 'test/fixtures/job-where.ts', '--no-progress', '--run-id', 'esc-1'],
      inStore,
    );
    assert.equal(other.code, 1);
    assert.doesNotMatch(other.stderr, raw);
    assert.match(
      other.stderr,
      /was started as: weft run \$'.*job\\x1b\[31m\\xc2\\x9bred\.mts' \$'\\x1b\[31marg'; /,
    );
    for (const refused of [
      await weft(['run', job, '--no-progress', '--run-id', `${esc}[31m`], inStore),
      await weft(['show', `${esc}[31m`], inStore),
      await weft(['resume', `${esc}[31m`], inStore),
      await weft(['runs', `--nope${esc}[31m`], inStore),
      await weft(['runs', '-n', `${csi}2J`], inStore),
    ]) {
      assert.notEqual(refused.code, 0);
      assert.doesNotMatch(refused.stderr, raw);
      assert.match(refused.stderr, /\\x1b\[31m|\\x9b2J/);
    }
  });

  it('escapes them in weft show and weft runs; --json escapes them too and keeps them', async () => {
    const shown = await weft(['show', 'esc-1'], inStore);
    assert.equal(shown.code, 0, shown.stderr);
    assert.doesNotMatch(shown.stdout, raw);
    assert.match(shown.stdout, /^ {2}file .*job\\x1b\[31m\\x9bred\.mts$/m);
    assert.match(shown.stdout, /^ {2}args \$'\\x1b\[31marg'$/m);
    // Errors on one line each; `…` says that --json holds the rest.
    assert.match(shown.stdout, /^ {2}error TaskFailedError: .*bad\\x1b\[2J\\x9b31m 2 …$/m);
    assert.match(
      shown.stdout,
      /^ {2}esc-1\/map:esc\\x1b\[32mgreen\\x9b33m\/1 \(esc\\x1b\[32mgreen\\x9b33m, 1 attempt\): Error: bad\\x1b\[2J\\x9b31m 2 …$/m,
    );
    const listed = await weft(['runs'], inStore);
    assert.equal(listed.code, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, raw);
    assert.match(listed.stdout, /^esc-1 .*job\\x1b\[31m\\x9bred\.mts$/m);

    const json = await weft(['show', 'esc-1', '--json'], inStore);
    assert.doesNotMatch(json.stdout, raw);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.run.meta.file, job);
    assert.deepEqual(parsed.run.meta.args, [arg]);
    assert.ok(parsed.run.error.message.endsWith(`bad${esc}[2J${csi}31m 2\nsecond line`));
    const runs = await weft(['runs', '--json'], inStore);
    assert.doesNotMatch(runs.stdout, raw);
    assert.equal(JSON.parse(runs.stdout)[0].meta.file, job);
  });
});

describe('a job that does not compile', () => {
  it('is told in one line with its place; --stack and the run hold the whole error', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'weft-cli-syntax-'));
    const inStore: WeftOptions = {
      env: { WEFT_STORE: `sqlite:${join(folder, 'runs.db')}`, WEFT_EXECUTOR: undefined },
    };
    const file = join(folder, 'broken.ts');
    writeFileSync(file, 'export default function main( {\n');
    const failed = await weft(['run', file, '--no-progress', '--run-id', 'broken-1'], inStore);
    assert.equal(failed.code, 1);
    assert.deepEqual(failed.stderr.trimEnd().split('\n').slice(1), [
      `weft: Error: Transform failed with 1 error: ${file}:2:0: Expected identifier but found end of file`,
      '(run with --stack for the stack trace)',
    ]);
    const detailed = await weft(
      ['--stack', 'run', file, '--no-progress', '--run-id', 'broken-2'],
      inStore,
    );
    assert.match(
      detailed.stderr,
      /\nError: Transform failed with 1 error:\n.*broken\.ts:2:0: ERROR: Expected identifier/,
    );
    const shown = JSON.parse((await weft(['show', 'broken-1', '--json'], inStore)).stdout);
    assert.equal(shown.run.status, 'failed');
    assert.equal(
      shown.run.error.message,
      `Transform failed with 1 error:\n${file}:2:0: ERROR: Expected identifier but found end of file`,
    );
  });
});

describe('the CLI text helpers', () => {
  it('escape controls, lone surrogates and bidirectional overrides, and keep ordinary Unicode', () => {
    assert.equal(
      printable('a\u0000b\tc\nd\re\u007f\u0085\u009b'),
      'a\\x00b\\tc\\nd\\re\\x7f\\x85\\x9b',
    );
    assert.equal(printable('x\ud800y\udfffz'), 'x\\ud800y\\udfffz');
    assert.equal(printable('evil\u202etxt.exe\u2066'), 'evil\\u202etxt.exe\\u2066');
    const ordinary = 'café 数据 😀 naïve — “quoted” \\x1b';
    assert.equal(printable(ordinary), ordinary);
    assert.equal(printable(printable('\u001b[31m')), '\\x1b[31m');
  });

  it('clip long text, marked with its length', () => {
    assert.equal(clipped('a'.repeat(80)), 'a'.repeat(80));
    assert.equal(clipped(`${'a'.repeat(10_000)}\u001b`), `${'a'.repeat(80)}… (10,001 characters)`);
  });

  it('write shell words that bash reads back as the text', () => {
    for (const text of ['plain-1', 'two words', "it's", `${esc}[31m`, "a\\b'c\nd\u009b"]) {
      const word = shellWord(text);
      assert.doesNotMatch(word, raw);
      assert.equal(execFileSync('bash', ['-c', `printf %s ${word}`], { encoding: 'utf8' }), text);
    }
  });

  it('give the first line of an error, with the place of a syntax error', () => {
    assert.deepEqual(errorLine(new Error('first\nsecond')), { line: 'first', cut: true });
    assert.deepEqual(errorLine({ name: 'Error', message: 'stored' }), {
      line: 'stored',
      cut: false,
    });
    assert.deepEqual(errorLine('thrown text'), { line: 'thrown text', cut: false });
    let syntax: unknown;
    try {
      new Script('const x = ;', { filename: '/jobs/job.cjs' });
    } catch (error) {
      syntax = error;
    }
    assert.deepEqual(errorLine(syntax), {
      line: "Unexpected token ';' (/jobs/job.cjs:1)",
      cut: false,
    });
    const twoErrors =
      'Transform failed with 2 errors:\n/a.ts:1:4: ERROR: Unexpected "x"\n/a.ts:3:0: ERROR: Expected "}"';
    assert.deepEqual(errorLine(new Error(twoErrors)), {
      line: 'Transform failed with 2 errors: /a.ts:1:4: Unexpected "x" (and 1 more)',
      cut: true,
    });
  });
});
