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

/** The modules `file` loads as it is imported: its static imports, type-only ones aside. */
function staticImportsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(
      /(?:^|\n)\s*(?:import|export)(\s+type\b)?(?:[^'";]*?from)?\s*['"]([^'"]+)['"]/g,
    ),
  ]
    .filter((m) => m[1] === undefined)
    .map((m) => m[2]!);
}

/** The source files and packages loaded with `entry`, through its static imports and theirs. */
function loadedBy(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of staticImportsOf(file)) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:')) packages.add(specifier);
    }
  };
  visit(entry);
  return { files, packages };
}

/** For each room: the rooms it may import from, and the packages it may use. */
const rooms: Record<
  string,
  { readonly rooms: readonly string[]; readonly packages: readonly string[] }
> = {
  core: { rooms: ['core'], packages: [] },
  // bullmq: `--executor bullmq` is made by executors/from-env.ts; the bullmq room loads
  // BullMQ and ioredis only when it first sends a job.
  executors: {
    rooms: ['core', 'executors', 'bullmq'],
    packages: ['tinypool', 'tsx/esm/api', 'tsx/cjs/api'],
  },
  // tsx: the writer thread's boot installs it when weft runs from its TypeScript sources.
  stores: {
    rooms: ['core', 'stores'],
    packages: ['devalue', 'better-sqlite3', 'pg', 'tsx/esm/api'],
  },
  testing: { rooms: ['core', 'executors', 'stores', 'testing'], packages: [] },
  // Front ends reach executors only through the engine's seam (core/split.ts,
  // core/remote-call.ts, core/registry.ts); their index files may re-export the one module
  // that installs the default executor (see entryFiles).
  app: { rooms: ['core', 'app'], packages: [] },
  // stores: a flow opens the default store (stores/open.ts) and frames its artifacts with
  // the default serializer when given no store.
  flow: { rooms: ['core', 'stores', 'flow'], packages: [] },
  compiler: { rooms: ['core', 'compiler'], packages: [] },
  // batch chooses where items run by BatchFlow's targets, making executors by kind
  // through the engine (core/executor.ts makeExecutor), never importing one.
  batch: { rooms: ['core', 'batch'], packages: [] },
  // compose runs operator tasks on the executor it is given (or the configured default)
  // and plain-function operators in this thread, through the engine's map.
  compose: { rooms: ['core', 'compose'], packages: [] },
  // The bullmq executor and `weft worker`: values are encoded with the stores' serializer,
  // large ones through a run store, and a worker runs jobs on an executor of its own.
  bullmq: { rooms: ['core', 'executors', 'stores', 'bullmq'], packages: ['bullmq', 'ioredis'] },
  // `weft ui`'s server: a read-only view of a run store, served by Hono (loaded only by
  // `weft ui` and `weft run --ui`); the page itself is built from web/ into dist/web.
  ui: {
    rooms: ['core', 'stores', 'ui'],
    packages: ['hono', 'hono/streaming', 'hono/http-exception', '@hono/node-server'],
  },
};

/** What a front end's index may import besides its own room: the default executor's installer. */
const installer = join(src, 'executors', 'default.ts');

/** The room (first folder under src) a relative import of `file` lands in. */
function roomOf(file: string, specifier: string): string | undefined {
  const target = relative(src, resolve(dirname(file), specifier));
  return target.startsWith('..') ? undefined : target.split(sep)[0];
}

function allowed(room: string, file: string, specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  if (file.endsWith(`${sep}index.ts`) && resolve(dirname(file), specifier) === installer)
    return true;
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

  it('the weft command loads the BullMQ worker and the UI server only for their verbs', () => {
    const { files, packages } = loadedBy(join(src, 'cli', 'main.ts'));
    for (const verb of [join('bullmq', 'worker.ts'), join('ui', 'server.ts')]) {
      assert.ok(!files.has(join(src, verb)), `every weft verb loads src/${verb}`);
    }
    for (const heavy of ['bullmq', 'ioredis', 'hono', '@hono/node-server']) {
      assert.ok(!packages.has(heavy), `every weft verb loads ${heavy}`);
    }
  });

  it('index files only re-export', () => {
    const indexes = sourceFiles(src).filter((file) => file.endsWith(`${sep}index.ts`));
    assert.ok(indexes.length >= 5);
    for (const file of indexes) {
      // Comments out, then every statement left must be an `export … from '…'`.
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      for (const statement of code.split(';').map((part) => part.trim())) {
        if (statement === '') continue;
        assert.match(
          statement,
          /^export (?:type )?(?:\*|\{[^}]*\})(?: as \w+)? from '[^']+'$/,
          `${relative(src, file)} has a statement that is not a re-export: ${statement.slice(0, 80)}`,
        );
      }
    }
  });

  it('one module installs the default executor', () => {
    const installers = sourceFiles(src).filter((file) =>
      /provideDefaultExecutorFactory\(/.test(
        readFileSync(file, 'utf8').replace(/export function provideDefaultExecutorFactory\(/, ''),
      ),
    );
    assert.deepEqual(
      installers.map((file) => relative(src, file)),
      [join('executors', 'default.ts')],
    );
  });

  it('one registry of definitions: no other module keeps one on globalThis', () => {
    for (const file of sourceFiles(src)) {
      if (file === join(src, 'core', 'registry.ts')) continue;
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(
        text,
        /globalThis as typeof globalThis\s*&/,
        `${relative(src, file)} keeps state on globalThis: register definitions in core/registry.ts`,
      );
      for (const [, name] of text.matchAll(/Symbol\.for\('([^']+)'\)/g)) {
        // Brands and Node's inspect hook are names, not registries.
        assert.ok(
          [
            'weft.task',
            'weft.transfer',
            'weft.parallel',
            'weft.action',
            'weft.tensor',
            'weft.operatorResult',
            'nodejs.util.inspect.custom',
          ].includes(name!),
          `${relative(src, file)} uses Symbol.for('${name}')`,
        );
      }
    }
  });

  it('front ends do not choose where leaves run: they split the executor once (core/split.ts)', () => {
    for (const room of ['app', 'flow', 'compiler']) {
      for (const file of sourceFiles(join(src, room))) {
        const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
        assert.doesNotMatch(code, /\.remote\b/, `${relative(src, file)} reads executor.remote`);
        assert.doesNotMatch(
          code,
          /\basyncPool\(/,
          `${relative(src, file)} builds a pool of its own`,
        );
      }
    }
  });

  it('no public name starts with an underscore', () => {
    const names = Object.keys(weft).filter((name) => name.startsWith('_'));
    assert.deepEqual(names, []);
  });
});
