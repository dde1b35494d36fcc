/**
 * Builds `weft ui`'s page into dist/web, which the `weft ui` server serves (index.html for
 * every path outside /api, so the page routes by history). Preact's JSX goes through the
 * bundler's own transform with the automatic runtime: no framework plugin is needed.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** A folder of its own: dist/ui holds the compiled server (src/ui), which must not be served. */
const outDir = fileURLToPath(new URL('../dist/web/', import.meta.url));

/** Where `vite` (dev) sends /api: a running `weft ui`, e.g. WEFT_UI_API=http://127.0.0.1:4848. */
const api = process.env.WEFT_UI_API;

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Absolute asset URLs: the page is also served at /runs/:id, where relative ones break.
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
  },
  server: api === undefined ? {} : { proxy: { '/api': { target: api, changeOrigin: true } } },
});
