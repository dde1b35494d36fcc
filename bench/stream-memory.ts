/**
 * Items streamed through `map` from an async generator: peak RSS must stay flat in the
 * item count (≤ 80 MB). Each size runs in a fresh child process (plain JavaScript
 * against the built package, `npm run build`) so that its peak
 * (`process.resourceUsage().maxRSS`) is its own. The baseline row is the same process
 * with no items: what Node and weft cost before any work.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printTable } from './lib.ts';

const childScript = fileURLToPath(new URL('./stream-memory-child.mjs', import.meta.url));
const rows: (string | number)[][] = [];
for (const count of [0, 1_000_000, 4_000_000]) {
  const out = execFileSync(process.execPath, [childScript, String(count)], { encoding: 'utf8' });
  const { peakMb, seconds } = JSON.parse(out.trim().split('\n').pop()!);
  rows.push([
    count === 0 ? 'baseline (weft loaded, no items)' : count.toLocaleString('en-US'),
    peakMb,
    seconds,
    count === 0 ? '-' : Math.round(count / seconds).toLocaleString('en-US'),
  ]);
}
console.log('\nStreaming map over an async generator, concurrency 64, iterated in order\n');
printTable(['items', 'peak RSS MB', 'seconds', 'items/s'], rows);
