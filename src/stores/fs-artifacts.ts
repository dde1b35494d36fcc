/**
 * Artifacts as files: one folder per run, one file per key, written atomically (a
 * temporary file renamed into place), so a crash never leaves half an artifact. The
 * SQLite store keeps its artifacts here, beside the database, rather than in it: shards
 * and large outputs then cost the database nothing, and reading one reads only that file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from '../core/errors.ts';

/** Longest file name kept as is; longer keys are shortened and made unique with a hash. */
const maxNameLength = 200;

export class FsArtifacts {
  /** The folder holding one folder per run. */
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Writes the bytes of `key`, replacing what was there. */
  async put(runId: string, key: string, data: Uint8Array): Promise<void> {
    const folder = join(this.dir, fileName(runId));
    const file = join(folder, fileName(key));
    const temporary = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(folder, { recursive: true });
      await writeFile(temporary, data);
      await rename(temporary, file);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => {});
      throw new StoreError(
        `Could not write artifact '${key}' of run '${runId}' to ${file}: ${(error as Error).message}. ` +
          'Check that the folder is writable and the disk is not full.',
        { cause: error },
      );
    }
  }

  /** The bytes of `key`, or undefined when there are none. */
  async get(runId: string, key: string): Promise<Uint8Array | undefined> {
    const file = join(this.dir, fileName(runId), fileName(key));
    try {
      const data = await readFile(file);
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError(
        `Could not read artifact '${key}' of run '${runId}' from ${file}: ${(error as Error).message}.`,
        {
          cause: error,
        },
      );
    }
  }
}

/** A file name for any key: escaped so that no key reaches outside its folder or collides with another. */
function fileName(key: string): string {
  // encodeURIComponent leaves '.' alone: escape it too, so '.' and '..' are ordinary names.
  const escaped = encodeURIComponent(key).replaceAll('.', '%2E');
  if (escaped.length <= maxNameLength) return escaped;
  const hash = createHash('sha256').update(key).digest('hex');
  return `${escaped.slice(0, maxNameLength - 65)}~${hash}`;
}
