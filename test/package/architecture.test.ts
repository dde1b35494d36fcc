/**
 * The house rules that keep weft's rooms apart (STYLE.md): the engine imports nothing
 * but Node and itself; executors import only the engine and their pool library; heavy
 * packages never load from the package root; no public name starts with `_`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as weft from 'weftjs';

const src = fileURLToPath(new URL('../../src', import.meta.url));

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

/** For each room: the rooms it may import from, and the packages it may use. */
const rooms: Record<
  string,
  { readonly rooms: readonly string[]; readonly packages: readonly string[] }
> = {
  core: { rooms: ['core'], packages: [] },
  executors: { rooms: ['core', 'executors'], packages: ['tinypool', 'tsx/esm/api', 'tsx/cjs/api'] },
  // tsx: the writer thread's boot installs it when weft runs from its TypeScript sources.
  stores: {
    rooms: ['core', 'stores'],
    packages: ['devalue', 'better-sqlite3', 'pg', 'tsx/esm/api'],
  },
  testing: { rooms: ['core', 'executors', 'stores', 'testing'], packages: [] },
  app: { rooms: ['core', 'executors', 'app'], packages: [] },
  flow: { rooms: ['core', 'executors', 'stores', 'flow'], packages: [] },
  compiler: { rooms: ['core', 'executors', 'compiler'], packages: [] },
};

/** The room (first folder under src) a relative import of `file` lands in. */
function roomOf(file: string, specifier: string): string | undefined {
  const target = relative(src, resolve(dirname(file), specifier));
  return target.startsWith('..') ? undefined : target.split(sep)[0];
}

function allowed(room: string, file: string, specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  const rule = rooms[room]!;
  if (specifier.startsWith('.')) return rule.rooms.includes(roomOf(file, specifier) ?? '');
  return rule.packages.includes(specifier);
}

describe('architecture', () => {
  for (const room of Object.keys(rooms)) {
    it(`src/${room} imports only what its room may`, () => {
      for (const file of sourceFiles(join(src, room))) {
        for (const specifier of importsOf(file)) {
          assert.ok(
            allowed(room, file, specifier),
            `${relative(src, file)} imports '${specifier}'`,
          );
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
