/**
 * What the resume tests share: a temporary folder where items append their id to `log`
 * (items run in other threads and processes: the file counts their executions) and fail
 * while a file `fail-<id>` is there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh folder whose items `failing` will fail until {@link Workdir.heal} is called. */
export class Workdir {
  readonly dir = mkdtempSync(join(tmpdir(), 'weft-batch-'));

  constructor(failing: readonly number[]) {
    for (const item of failing) writeFileSync(join(this.dir, `fail-${item}`), '');
  }

  /** The items executed so far (once per execution), sorted. */
  executed(): number[] {
    let text = '';
    try {
      text = readFileSync(join(this.dir, 'log'), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Items fail no more. */
  heal(item: number): void {
    rmSync(join(this.dir, `fail-${item}`));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
