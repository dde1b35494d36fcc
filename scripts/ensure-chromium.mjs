#!/usr/bin/env node
/**
 * Preflight of the browser tests (`weft ui` end to end): they drive a Chromium of the
 * system with playwright-core, which downloads no browser. Uses WEFT_TEST_CHROMIUM when
 * set, else the first of chromium / chromium-browser / google-chrome on the PATH. When
 * none is there and this is a Debian-like system run as root, installs Debian's
 * `chromium` package; otherwise says what to install and exits 1.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const names = ['chromium', 'chromium-browser', 'google-chrome'];

function find() {
  const given = process.env.WEFT_TEST_CHROMIUM;
  if (given) return existsSync(given) ? given : undefined;
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    const path = found.stdout.trim();
    if (found.status === 0 && path) return path;
  }
  return undefined;
}

function versionOf(path) {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim();
  } catch {
    return 'version unknown';
  }
}

let path = find();
if (!path && process.env.WEFT_TEST_CHROMIUM) {
  console.error(
    `WEFT_TEST_CHROMIUM names ${process.env.WEFT_TEST_CHROMIUM}, which does not exist. ` +
      'Point it at a Chromium or Chrome binary, or unset it to use the one on the PATH.',
  );
  process.exit(1);
}
if (!path) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (root && apt) {
    console.log("Chromium not found: installing Debian's chromium package for the browser tests");
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [
      ['update', '-q'],
      ['install', '-y', '-q', '--no-install-recommends', 'chromium'],
    ]) {
      const done = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
      if (done.status !== 0) {
        console.error(`apt-get ${args.join(' ')} failed (exit ${done.status}).`);
        break;
      }
    }
    path = find();
  }
}
if (!path) {
  console.error(
    [
      'The browser tests of weft ui need Chromium, and none was found.',
      'Install it, for example:',
      '  on Debian/Ubuntu: apt-get install chromium',
      'or point WEFT_TEST_CHROMIUM at a Chromium or Chrome binary you have.',
    ].join('\n'),
  );
  process.exit(1);
}
console.log(`OK Chromium at ${path} (${versionOf(path)})`);
