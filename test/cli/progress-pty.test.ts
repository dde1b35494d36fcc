/**
 * `weft run` on a real terminal (a pseudo-terminal made by `script` from util-linux): a
 * job prints from the main thread and from worker threads while its bar is on the screen,
 * and every line it printed is whole on the final screen, above the bar, which is named
 * for the task. The test types a line to the job each time it has seen the bar move, so
 * the job prints only while the bar is surely drawn.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnOnTerminal } from '../fixtures/terminal.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const weft = `${process.execPath} --conditions=weft-source --import tsx src/cli/main.ts`;

describe('weft run on a terminal', () => {
  it('keeps the job’s lines, from the main thread and from workers, whole above the bar', {
    timeout: 60_000,
  }, async () => {
    const { child, terminal, exited } = spawnOnTerminal(
      `${weft} run test/fixtures/job-prints.ts --store memory:`,
      { columns: 100, cwd: root },
    );
    const shows = (pattern: RegExp) => terminal.until((screen) => pattern.test(screen));
    try {
      for (let n = 0; n < 3; n++) {
        await shows(new RegExp(`^ [█░]{24} fixtures:shout ${n}/3$`, 'm'));
        if (n > 0) await shows(new RegExp(`worker line ${n - 1}`));
        child.stdin.write('go\n');
      }
      assert.equal(await exited, 0, terminal.text());
    } finally {
      child.kill();
    }
    const lines = terminal.text().split('\n');
    assert.match(lines[0]!, /^weft: run \S+ in memory:$/);
    const m = 'm'.repeat(20);
    const w = 'w'.repeat(20);
    assert.deepEqual(lines.slice(1, -2), [
      `main line 0: ${m}`,
      `worker line 0: ${w}`,
      `main line 1: ${m}`,
      `worker line 1: ${w}`,
      `main line 2: ${m}`,
      `worker line 2: ${w}`,
      'the map is finished',
      ' ████████████████████████ fixtures:shout 3/3',
    ]);
    assert.match(lines.at(-2)!, /^tasks: 3 done, 0 failed, 0 running · /);
    assert.equal(lines.at(-1), 'outputs 0,1,2');
  });
});
