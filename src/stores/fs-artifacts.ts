/**
 * Artifacts as files: one folder per run, one file per key, written atomically (a
 * temporary file renamed into place), so a crash never leaves half an artifact. This is
 * how the SQLite store kept every artifact until schema version 6 (the `artifacts` folder
 * beside the database). It now keeps them in the database, and large ones as files named
 * by their content (blob-files.ts): this layout is only read, for the keys of runs written
 * before that the database does not hold, so that those runs read and re-run as they did.
 * (`put` writes the layout, as an earlier weft did: for tests of those reads.)
 * Each key has a file name of its own on any file system, which reads back as the key
 * (fs-artifact-names.ts): listing a run's keys reads the folder, not the artifacts.
 */
import { randomBytes } from 'node:crypto';
import type { Dir } from 'node:fs';
import { mkdir, opendir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StoreError } from '../core/errors.ts';
import {
  decodeName,
  fileName,
  isShortened,
  keyOfName,
  keyOfText,
  keySuffix,
  legacyFileName,
  NamePrefix,
} from './fs-artifact-names.ts';
import { escapeKey } from './sql/key-codec.ts';

/** Directory entries read at a time when listing. */
const pageSize = 512;

export class FsArtifacts {
  /** The folder holding one folder per run. */
  readonly dir: string;
  /** Whether files an earlier weft named may be read (see {@link legacyFileName}). */
  #legacyNames: Promise<boolean> | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Writes the bytes of `key`, replacing what was there. */
  async put(runId: string, key: string, data: Uint8Array): Promise<void> {
    const folder = join(this.dir, fileName(runId));
    const name = fileName(key);
    const file = join(folder, name);
    try {
      await mkdir(folder, { recursive: true });
      // An earlier weft's file for the key goes first: were it kept, a read would fall back
      // to its older bytes once this file is gone (deleted as damaged, say). A crash between
      // the two leaves the artifact missing, which a re-run recomputes, never stale.
      const legacy = await this.#legacyFile(runId, key);
      if (legacy !== undefined) await rm(legacy, { force: true });
      // Before the artifact, so that every artifact whose name was shortened can be named.
      if (isShortened(name)) await writeAtomically(file + keySuffix, escapeKey(key));
      await writeAtomically(file, data);
    } catch (error) {
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
    const found = await this.#read(runId, key, file);
    if (found !== undefined) return found;
    const legacy = await this.#legacyFile(runId, key);
    return legacy === undefined ? undefined : this.#read(runId, key, legacy);
  }

  /**
   * The file an earlier weft named for `key`, where it is read: where it differs from the
   * file this weft names, and is no name this weft gives another key or run (a name that
   * earlier weft shortened can be one).
   */
  async #legacyFile(runId: string, key: string): Promise<string | undefined> {
    const folder = legacyFileName(runId);
    const name = legacyFileName(key);
    if (folder === fileName(runId) && name === fileName(key)) return undefined;
    if (!(await this.#readsLegacyNames())) return undefined;
    if (isNameOfOther(folder, runId) || isNameOfOther(name, key)) return undefined;
    return join(this.dir, folder, name);
  }

  async #read(runId: string, key: string, file: string): Promise<Uint8Array | undefined> {
    try {
      const data = await readFile(file);
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError(
        `Could not read artifact '${key}' of run '${runId}' from ${file}: ${(error as Error).message}.`,
        { cause: error },
      );
    }
  }

  /**
   * The keys of the run's artifacts that start with `prefix`, each once, read from the
   * names of its files (a page of directory entries at a time; only the names that may be
   * those of such keys are decoded). Files an earlier weft named are listed where they are
   * read, but for those whose names it shortened for length: it kept no key beside them,
   * so they stay unnamed (a re-run of a flow then recomputes what they hold, once, and
   * writes them anew).
   */
  async *keys(runId: string, prefix: string): AsyncIterable<string> {
    const folder = join(this.dir, fileName(runId));
    const legacy = (await this.#readsLegacyNames())
      ? join(this.dir, legacyFileName(runId))
      : undefined;
    // Where the run's folder is named as an earlier weft named it, its files may be too.
    const legacyHere = legacy === folder;
    const names = new NamePrefix(prefix, legacyHere);
    for await (const page of pages(folder, runId)) {
      for (const name of page) {
        if (!names.mayHold(name)) continue;
        let key = isShortened(name) ? await this.#keyBeside(folder, name) : keyOfName(name);
        if (key === undefined && legacyHere) key = await this.#legacyKey(folder, name);
        if (key?.startsWith(prefix)) yield key;
      }
    }
    if (legacy === undefined || legacyHere) return;
    for await (const page of pages(legacy, runId)) {
      for (const name of page) {
        const key = await this.#legacyKey(folder, name);
        if (key?.startsWith(prefix)) yield key;
      }
    }
  }

  /** The key of a shortened name, from the file beside it; undefined when it has none. */
  async #keyBeside(folder: string, name: string): Promise<string | undefined> {
    const file = join(folder, name + keySuffix);
    try {
      return keyOfText(name, await readFile(file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError(
        `Could not read the key of artifact file ${join(folder, name)} from ${file}: ${(error as Error).message}.`,
        { cause: error },
      );
    }
  }

  /**
   * The key an earlier weft named `name`, unless the file this weft names it in `folder`
   * (the run's folder) exists: reads find that one first, and it is listed by its own name.
   */
  async #legacyKey(folder: string, name: string): Promise<string | undefined> {
    const key = name.includes('.') ? undefined : decodeName(name);
    if (key === undefined || legacyFileName(key) !== name) return undefined;
    const current = await stat(join(folder, fileName(key))).catch(() => undefined);
    return current === undefined ? key : undefined;
  }

  /**
   * Files an earlier weft wrote under a name with capitals are read where the file system
   * tells case apart: there no other key's file can have that name. Where it does not, such
   * a name may be another key's file, so the artifact counts as missing.
   */
  #readsLegacyNames(): Promise<boolean> {
    this.#legacyNames ??= tellsCaseApart(this.dir);
    return this.#legacyNames;
  }
}

/** Whether `name`, an earlier weft's name for `key`, is the name this weft gives another key. */
function isNameOfOther(name: string, key: string): boolean {
  const other = keyOfName(name);
  return other !== undefined && other !== key;
}

/** The names in a folder, a page at a time; none when there is no folder. */
async function* pages(folder: string, runId: string): AsyncIterable<string[]> {
  let dir: Dir;
  try {
    dir = await opendir(folder, { bufferSize: pageSize });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw listingError(folder, error, runId);
  }
  try {
    // Entry by entry from the directory's buffer (cheaper than its async iterator).
    let names: string[] = [];
    for (let entry = await dir.read(); entry !== null; entry = await dir.read()) {
      if (entry.isFile()) names.push(entry.name);
      if (names.length === pageSize) {
        yield names;
        names = [];
      }
    }
    if (names.length > 0) yield names;
  } catch (error) {
    throw listingError(folder, error, runId);
  } finally {
    await dir.close().catch(() => {});
  }
}

function listingError(folder: string, error: unknown, runId: string): StoreError {
  return new StoreError(
    `Could not list the artifacts of run '${runId}' in ${folder}: ${(error as Error).message}. ` +
      'Check that the folder can be read.',
    { cause: error },
  );
}

/** Writes `data` to `file` through a temporary file renamed into place. */
async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    throw error;
  }
}

/** Whether the file system of `dir` tells `dir` from its name in other case. */
async function tellsCaseApart(dir: string): Promise<boolean> {
  const name = basename(dir);
  const swapped = [...name]
    .map((char) => (char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase()))
    .join('');
  // A folder without letters, or none yet (then no earlier weft wrote to it): no legacy reads.
  if (swapped === name) return false;
  try {
    const [own, other] = await Promise.all([
      stat(dir),
      stat(join(dirname(dir), swapped)).catch(() => undefined),
    ]);
    return other === undefined || other.ino !== own.ino || other.dev !== own.dev;
  } catch {
    return false;
  }
}
