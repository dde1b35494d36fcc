#!/usr/bin/env node
// The `weft` command. The build (npm install runs it) puts the CLI in dist/.
try {
  await import('../dist/cli/main.js');
} catch (error) {
  if (
    error?.code === 'ERR_MODULE_NOT_FOUND' &&
    String(error.message).includes('dist/cli/main.js')
  ) {
    console.error(
      'weft: the package is not built. Run `npm run build` in its folder (npm install does it).',
    );
    process.exit(1);
  }
  throw error;
}
