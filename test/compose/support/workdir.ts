/**
 * A temporary folder for runs recorded on SQLite and for operators in other threads that
 * log what they ran to `log` (one example index a line) and fail on example `i` while a
 * file `fail-<i>` is there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class Workdir {
  readonly dir = mkdtempSync(join(tmpdir(), 'weft-compose-'));

  constructor(failing: readonly number[] = []) {
    for (const example of failing) writeFileSync(join(this.dir, `fail-${example}`), '');
  }

  /** How many times each example ran to its end, by example index. */
  executions(): Map<number, number> {
    let text = '';
    try {
      text = readFileSync(join(this.dir, 'log'), 'utf8');
    } catch {
      return new Map();
    }
    const counts = new Map<number, number>();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      counts.set(Number(line), (counts.get(Number(line)) ?? 0) + 1);
    }
    return counts;
  }

  /** Example `example` fails no more. */
  heal(example: number): void {
    rmSync(join(this.dir, `fail-${example}`));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
