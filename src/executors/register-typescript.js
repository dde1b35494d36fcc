// Installs the TypeScript loader for both module systems in this thread. Plain JavaScript
// on purpose: worker threads import it before any TypeScript can be loaded.
//
// Both hooks are needed: a `.ts` file in a project without `"type": "module"` (what
// `npm init -y` makes, or a folder with no package.json) is CommonJS, and `.cts` always
// is, so Node loads it through `require`, which the ESM hook alone does not reach.
//
// tsx's CommonJS hook also recompiles every ES module that is required into CommonJS. For
// weftjs (an ES module) that would make a second copy of weft inside the job, with its
// own run context, default executor and worker set-up, apart from the copy that runs the
// job. So ES modules (`.mjs`, and `.js` in a `"type": "module"` package) are left to
// Node's own require(), which loads the one ES module instance everyone shares.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const Module = /** @type {{ _extensions: Record<string, Function> }} */ (
  /** @type {unknown} */ (require('node:module'))
);

/** @type {Promise<void> | undefined} */
let registering;

/**
 * Registers tsx's ESM and CommonJS hooks, once per thread.
 * @returns {Promise<void>}
 */
export function registerTypeScript() {
  registering ??= Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => {
    esm.register();
    const native = { js: Module._extensions['.js'], mjs: Module._extensions['.mjs'] };
    cjs.register();
    const compiled = { js: Module._extensions['.js'], mjs: Module._extensions['.mjs'] };
    const loadJs = function (/** @type {unknown} */ module, /** @type {string} */ filename) {
      // Other extensions without a loader of their own (.cts) come here too: tsx's.
      const esModule =
        filename.endsWith('.mjs') || (filename.endsWith('.js') && isModuleJs(filename));
      return (esModule ? native.js : compiled.js)?.call(this, module, filename);
    };
    Module._extensions['.js'] = loadJs;
    // Node's own .js loader requires .mjs files as ES modules; tsx's would compile them.
    if (native.mjs) Module._extensions['.mjs'] = native.mjs;
    else if (compiled.mjs) Module._extensions['.mjs'] = loadJs;
  });
  return registering;
}

/** @type {Map<string, boolean>} */
const moduleFolders = new Map();

/**
 * True when Node treats `filename` (a `.js` file) as an ES module: the nearest
 * package.json says `"type": "module"`.
 * @param {string} filename
 * @returns {boolean}
 */
function isModuleJs(filename) {
  const folder = dirname(filename);
  let known = moduleFolders.get(folder);
  if (known === undefined) {
    known = packageType(folder) === 'module';
    moduleFolders.set(folder, known);
  }
  return known;
}

/**
 * @param {string} folder
 * @returns {string | undefined}
 */
function packageType(folder) {
  for (let current = folder; ; current = dirname(current)) {
    try {
      const type = JSON.parse(readFileSync(join(current, 'package.json'), 'utf8')).type;
      return typeof type === 'string' ? type : 'commonjs';
    } catch (error) {
      const code = /** @type {{ code?: string }} */ (error).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
    }
    if (dirname(current) === current) return undefined;
  }
}
