/**
 * Large artifacts as files, one per distinct content, named by the SHA-256 of the bytes
 * (`ab/abcdef…`): identical values are stored once, however many keys and runs hold them.
 * The SQLite store keeps artifacts over its threshold here and the file's name in the
 * artifact's row, so that the database holds small values only.
 *
 * A file is written whole before the transaction that names it (a temporary file, flushed
 * to disk, renamed into place), so that no committed row names a file that is not there,
 * even after a power loss. A file no row names any more (its key was written again with
 * other bytes, or the transaction that would have named it failed) stays: another row,
 * of this run or another, may name it too, and weft has no way to delete artifacts.
 * Removing such files is safe only while no process writes to the store.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StoreError } from '../core/errors.ts';

/** A blob's name: the SHA-256 of its bytes, in lower-case hex. */
const blobName = /^[0-9a-f]{64}$/;

export class BlobFiles {
  /** The folder of the files. */
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The name of `data` as a blob: the SHA-256 of the bytes, in hex. */
  static nameOf(data: Uint8Array): string {
    return createHash('sha256').update(data).digest('hex');
  }

  /** The file of the blob `name`. */
  file(name: string): string {
    return join(this.dir, name.slice(0, 2), name);
  }

  /**
   * Writes `data` as the blob `name` (its {@link nameOf}), unless a file holding exactly
   * those bytes is there already. A file of that name that holds other bytes (cut short,
   * damaged in place) is replaced, so that writing the value again repairs it.
   * @throws StoreError naming the file, the artifact and the fix (a full disk, a folder
   *   that cannot be written)
   */
  async put(name: string, data: Uint8Array, what: string): Promise<void> {
    const file = this.file(name);
    try {
      if (await this.#holds(file, name, data.byteLength)) return;
      await mkdir(dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
      try {
        const handle = await open(temporary, 'w');
        try {
          await handle.writeFile(data);
          // On disk before the row that names it commits: a power loss must not keep the row
          // and lose the bytes.
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true }).catch(() => {});
        throw error;
      }
      await syncFolder(dirname(file));
    } catch (error) {
      throw new StoreError(
        `Could not write ${what} to ${file}: ${(error as Error).message}. Check that the ` +
          'folder is writable and the disk is not full; nothing of the write was recorded.',
        { cause: error },
      );
    }
  }

  /** The bytes of the blob `name`, or undefined when its file is gone. */
  async get(name: string, what: string): Promise<Uint8Array | undefined> {
    const file = this.file(name);
    try {
      const data = await readFile(file);
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError(`Could not read ${what} from ${file}: ${(error as Error).message}.`, {
        cause: error,
      });
    }
  }

  /** Whether the file of the blob `name` is there (its bytes unread). */
  async has(name: string): Promise<boolean> {
    if (!blobName.test(name)) return false;
    try {
      return (await stat(this.file(name))).isFile();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new StoreError(
        `Could not look for the artifact file ${this.file(name)}: ${(error as Error).message}.`,
        { cause: error },
      );
    }
  }

  /**
   * Whether `file` holds the bytes named `name`: of the right size, read back and hashed
   * (as costly as writing them, and only when they were written before).
   */
  async #holds(file: string, name: string, size: number): Promise<boolean> {
    const found = await stat(file).catch(() => undefined);
    if (found?.size !== size) return false;
    const bytes = await readFile(file).catch(() => undefined);
    return bytes !== undefined && BlobFiles.nameOf(bytes) === name;
  }
}

/**
 * Flushes a folder's entries (the rename) to disk, where the system allows it: Windows
 * cannot open a folder for that, and renames there are durable by themselves.
 */
async function syncFolder(folder: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Not supported here: the file itself is on disk, which is what a row relies on.
  } finally {
    await handle?.close().catch(() => {});
  }
}
