/**
 * The house rules that keep weft's rooms apart (STYLE.md): the engine imports nothing
 * but Node and itself; executors import only the engine and their pool library; heavy
 * packages never load from the package root; no public name starts with `_`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as weft from 'weft';

const src = fileURLToPath(new URL('../src', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s+['"]([^'"]+)['"]/g),
  ].map((m) => m[1]!);
  const dynamic = [...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
  return [...found, ...dynamic];
}

const rooms: Record<string, (specifier: string, file: string) => boolean> = {
  core: (s) => s.startsWith('node:') || (s.startsWith('./') && !s.includes('..')),
  executors: (s) =>
    s.startsWith('node:') ||
    s.startsWith('./') ||
    s.startsWith('../core/') ||
    s === 'tinypool' ||
    s === 'tsx/esm/api',
  stores: (s) =>
    s.startsWith('node:') ||
    s.startsWith('./') ||
    /^(\.\.\/)+core\//.test(s) ||
    s === '../serializer.ts' ||
    ['devalue', 'better-sqlite3', 'pg'].includes(s),
  testing: (s) =>
    s.startsWith('node:') ||
    s.startsWith('./') ||
    s.startsWith('../core/') ||
    s.startsWith('../executors/'),
};

describe('architecture', () => {
  for (const [room, allowed] of Object.entries(rooms)) {
    it(`src/${room} imports only what its room may`, () => {
      for (const file of sourceFiles(join(src, room))) {
        for (const specifier of importsOf(file)) {
          assert.ok(allowed(specifier, file), `${relative(src, file)} imports '${specifier}'`);
        }
      }
    });
  }

  it('the package root loads no pool library or driver eagerly', () => {
    for (const file of [
      ...sourceFiles(join(src, 'core')),
      ...sourceFiles(join(src, 'executors')),
    ]) {
      const text = readFileSync(file, 'utf8');
      if (file.endsWith('worker-entry.ts')) continue; // runs only inside workers
      assert.doesNotMatch(
        text,
        /^import [^t][^;]*from 'tinypool'/m,
        `${relative(src, file)} imports tinypool eagerly`,
      );
    }
  });

  it('no public name starts with an underscore', () => {
    const names = Object.keys(weft).filter((name) => name.startsWith('_'));
    assert.deepEqual(names, []);
  });
});
