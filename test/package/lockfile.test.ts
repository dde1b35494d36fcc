/**
 * A clean clone stays clean: npm, resolving package.json again, writes the lock file that
 * is committed (every platform's optional entries included), so `npm install` in a fresh
 * clone changes no file and `npm ci` installs exactly it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'weft-lockfile-'));
after(() => rmSync(folder, { recursive: true, force: true }));

it('npm resolves package.json to the committed lock file, byte for byte', async () => {
  for (const file of ['package.json', 'package-lock.json']) {
    copyFileSync(join(root, file), join(folder, file));
  }
  await promisify(execFile)(
    'npm',
    [
      'install',
      '--package-lock-only',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
    ],
    { cwd: folder },
  );
  const committed = readFileSync(join(root, 'package-lock.json'), 'utf8');
  const resolved = readFileSync(join(folder, 'package-lock.json'), 'utf8');
  assert.ok(
    resolved === committed,
    'npm rewrites package-lock.json: regenerate it with `npm install` and commit it',
  );
});
