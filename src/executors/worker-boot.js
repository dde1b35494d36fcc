// Entry of every worker thread and child process. Plain JavaScript on purpose: it is
// what installs the TypeScript loader (when the parent runs TypeScript) before the
// worker code, and the user's task modules, are imported.
const entry = process.env.WEFT_WORKER_ENTRY;
if (!entry) throw new Error('weft worker started without WEFT_WORKER_ENTRY');
if (process.env.WEFT_WORKER_TYPESCRIPT === '1') {
  const { registerTypeScript } = await import('./register-typescript.js');
  await registerTypeScript();
}
const { default: runBatch } = await import(entry);
export default runBatch;
