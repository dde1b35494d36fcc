/**
 * The web page of `weft ui`: the files built from web/ into dist/web, served as they are,
 * and index.html for any other path outside /api, where the page routes by itself
 * (`/runs/:id`). Without a build, a short page says how to make one.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the built page lives: dist/web of the package, the same path from src/ui (run from
 * source) and from dist/ui (the build). A folder of its own, so that the compiled server
 * beside it in dist/ui is never served.
 */
export const defaultPageDir = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const types: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** The answer of a page request: the file asked for, else index.html, else a 503 page. */
export async function pageResponse(dir: string, path: string, head: boolean): Promise<Response> {
  const root = resolve(dir);
  const index = join(root, 'index.html');
  if (!existsSync(index)) return notBuilt(root);
  const file = fileOf(root, path);
  const target = file ?? index;
  const body = head ? null : await readFile(target);
  // Bundled assets carry a hash in their names: they never change under the same name.
  const immutable = file !== undefined && path.startsWith('/assets/');
  return new Response(body, {
    headers: {
      'content-type': types[extname(target).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    },
  });
}

/** The file of the build that `path` names, if any: never one outside the build's folder. */
function fileOf(root: string, path: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const file = resolve(root, `.${decoded}`);
  if (!file.startsWith(root + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

function notBuilt(dir: string): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>weft ui: page not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>The weft ui page is not built</h1>
<p>There is no page in <code>${escapeHtml(dir)}</code>. Build it in the weft package with
<code>npm run build</code>, then reload. The JSON API answers meanwhile under
<a href="/api/runs"><code>/api/runs</code></a>.</p>
</body></html>
`;
  return new Response(html, {
    status: 503,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
