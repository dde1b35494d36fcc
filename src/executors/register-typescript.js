// Installs the TypeScript loader for both module systems in this thread. Plain JavaScript
// on purpose: worker threads import it before any TypeScript can be loaded.
//
// Both hooks are needed: a `.ts` file in a project without `"type": "module"` (what
// `npm init -y` makes, or a folder with no package.json) is CommonJS, and `.cts` always
// is, so Node loads it through `require`, which the ESM hook alone does not reach.

/** @type {Promise<void> | undefined} */
let registering;

/**
 * Registers tsx's ESM and CommonJS hooks, once per thread.
 * @returns {Promise<void>}
 */
export function registerTypeScript() {
  registering ??= Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => {
    esm.register();
    cjs.register();
  });
  return registering;
}
