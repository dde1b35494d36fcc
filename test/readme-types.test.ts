/**
 * The README's TypeScript snippets are type-checked as copies in test/types/readme/, against
 * the published declarations (`npm run typecheck:examples`) and the source (`npm run
 * typecheck`). This keeps those copies true: every snippet must appear in one of them as the
 * README prints it, except that an elided body `{ … }` is written `{ /* … *\/ }` there.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../', import.meta.url);
const copiesDir = new URL('types/readme/', import.meta.url);

function snippets(): string[] {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

function copies(): string[] {
  return readdirSync(copiesDir)
    .filter((name) => name.endsWith('.ts'))
    .map((name) => readFileSync(new URL(name, copiesDir), 'utf8'));
}

describe('README snippets', () => {
  it('are found', () => {
    assert.ok(snippets().length >= 5, 'the README has its TypeScript snippets in ```ts fences');
  });

  for (const snippet of snippets()) {
    it(`type-checked copy of: ${snippet.split('\n')[0]}`, () => {
      const expected = snippet.replaceAll('{ … }', '{ /* … */ }');
      assert.ok(
        copies().some((copy) => copy.includes(expected)),
        `This README snippet has no copy in test/types/readme/, so it is not type-checked:\n` +
          `${snippet}\nCopy it there as printed (declare the names it leaves to the reader, ` +
          `write { … } as { /* … */ }), then run npm run typecheck:examples.`,
      );
    });
  }
});
