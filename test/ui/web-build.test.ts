/**
 * The built page of `weft ui` (web/ → dist/web, made by `npm run build`): index.html is
 * there, every asset it names (and every chunk those load) is there too, and nothing in
 * it carries a path of the machine that built it.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, normalize, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const ui = join(repo, 'dist', 'web');
const indexFile = join(ui, 'index.html');
const assets = join(ui, 'assets');

function built(): string {
  assert.ok(
    existsSync(indexFile),
    `${relative(repo, indexFile)} is missing: run \`npm run build\` (it builds the page from web/ into dist/web) before this test`,
  );
  return readFileSync(indexFile, 'utf8');
}

/** The page's files: index.html and its assets. */
function pageFiles(): string[] {
  return [indexFile, ...(existsSync(assets) ? filesUnder(assets) : [])];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** The file in dist/web that a URL of the page names, or undefined for one outside it. */
function fileOf(url: string, from: string): string | undefined {
  if (/^(?:[a-z]+:|\/\/|#)/i.test(url)) return undefined;
  const path = url.split(/[?#]/)[0]!;
  const file = path.startsWith('/') ? join(ui, path) : resolve(from, path);
  return normalize(file).startsWith(ui + sep) ? file : undefined;
}

/** The src and href attributes of index.html's script and link tags. */
function referencedBy(html: string): string[] {
  return [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
}

describe('web build (dist/web)', () => {
  it('index.html loads a hashed script and stylesheet from its assets', () => {
    const html = built();
    const urls = referencedBy(html);
    assert.ok(
      urls.some((url) => /^\/assets\/[\w.-]+-[\w-]{6,}\.js$/.test(url)),
      `index.html names no hashed script under /assets: ${urls.join(', ')}`,
    );
    assert.ok(
      urls.some((url) => /^\/assets\/[\w.-]+-[\w-]{6,}\.css$/.test(url)),
      `index.html names no hashed stylesheet under /assets: ${urls.join(', ')}`,
    );
    assert.match(html, /<div id="app">/);
  });

  it('every asset that index.html references exists', () => {
    const html = built();
    const files = referencedBy(html)
      .map((url) => [url, fileOf(url, ui)] as const)
      .filter((pair): pair is readonly [string, string] => pair[1] !== undefined);
    assert.ok(files.length >= 2, 'index.html references no asset of its own');
    for (const [url, file] of files) {
      assert.ok(existsSync(file), `index.html references ${url}, which is not in dist/web`);
    }
  });

  it('every chunk that a script imports exists', () => {
    built();
    const scripts = pageFiles().filter((file) => file.endsWith('.js'));
    assert.ok(scripts.length > 0, 'dist/web/assets has no script');
    for (const script of scripts) {
      const text = readFileSync(script, 'utf8');
      const chunks = [...text.matchAll(/["'`](\.{1,2}\/[\w./-]+\.(?:js|css))["'`]/g)].map(
        (m) => m[1]!,
      );
      for (const chunk of chunks) {
        const file = fileOf(chunk, join(script, '..'));
        assert.ok(
          file !== undefined && existsSync(file),
          `${relative(ui, script)} loads ${chunk}, which is not in dist/web`,
        );
      }
    }
  });

  it('no asset refers to an absolute path of the machine', () => {
    built();
    const home = homedir();
    const forbidden = [
      repo.replace(/[\\/]+$/, ''),
      ...(home.length > 1 ? [home + sep] : []),
      'file:///',
    ];
    for (const file of pageFiles()) {
      const text = readFileSync(file, 'utf8');
      for (const path of forbidden) {
        assert.ok(
          !text.includes(path),
          `${relative(ui, file)} contains the machine path ${path}: the build must not embed where it ran`,
        );
      }
    }
  });
});
