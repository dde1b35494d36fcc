/**
 * Headless Chromium for the page's end-to-end tests: the system's Chromium (installed by
 * `npm test`'s check-chromium step, or named by WEFT_TEST_CHROMIUM) driven by
 * playwright-core, which downloads no browser. Screenshots go to test-artifacts/ui, or to
 * WEFT_SCREENSHOTS_DIR (the README's pictures are taken with it set to docs/screenshots).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..', '..');

/** Where the tests save their screenshots. */
export const screenshotsDir = resolve(
  root,
  process.env.WEFT_SCREENSHOTS_DIR ?? join('test-artifacts', 'ui'),
);

function chromiumPath(): string {
  const given = process.env.WEFT_TEST_CHROMIUM;
  if (given) return given;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  throw new Error(
    'No Chromium for the browser tests: run `npm run check-chromium` (it installs Debian’s ' +
      'chromium when it may), or point WEFT_TEST_CHROMIUM at a Chromium binary.',
  );
}

/** Starts headless Chromium with the flags a closed network needs. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(`WEFT_TEST_CHROMIUM names ${executablePath}, which does not exist.`);
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** The path of a screenshot named `name`, its folder made. */
export function screenshotPath(name: string): string {
  mkdirSync(screenshotsDir, { recursive: true });
  return join(screenshotsDir, `${name}.png`);
}
