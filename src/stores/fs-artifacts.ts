/**
 * Artifacts as files: one folder per run, one file per key, written atomically (a
 * temporary file renamed into place), so a crash never leaves half an artifact. The
 * SQLite store keeps its artifacts here, beside the database, rather than in it: shards
 * and large outputs then cost the database nothing, and reading one reads only that file.
 *
 * Every key maps to its own file name, whatever the key and whatever the file system: the
 * names hold only lower-case ASCII letters, digits, `-_~'()!` and `%` escapes (see {@link fileName}),
 * so that a file system that ignores case (macOS, Windows) cannot merge two keys either.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StoreError } from '../core/errors.ts';
import { escapeKey } from './sql/key-codec.ts';

/** Longest file name kept as is; longer keys are shortened and made unique with a hash. */
const maxNameLength = 200;
/** Names Windows keeps for devices, in any case and with any extension. */
const deviceName = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

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
    const found = await this.#read(runId, key, file);
    if (found !== undefined) return found;
    const legacy = join(this.dir, legacyFileName(runId), legacyFileName(key));
    if (legacy === file || !(await this.#readsLegacyNames())) return undefined;
    return this.#read(runId, key, legacy);
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
   * Files an earlier weft wrote under a name with capitals are read where the file system
   * tells case apart: there no other key's file can have that name. Where it does not, such
   * a name may be another key's file, so the artifact counts as missing.
   */
  #readsLegacyNames(): Promise<boolean> {
    this.#legacyNames ??= tellsCaseApart(this.dir);
    return this.#legacyNames;
  }
}

/**
 * A file name for any key, one to one: no key reaches outside its folder or shares a file
 * with another. The key is made well-formed (key-codec.ts), percent-encoded, and then
 * `.`, `*` and capital letters are escaped too: `.` so that `.` and `..` are ordinary
 * names, `*` for Windows, capitals for file systems that ignore case. A name Windows keeps
 * for a device (`con`, `nul`, …) has its first letter escaped. None of those escapes is
 * one that encodeURIComponent makes, so names stay distinct. A name over 200 characters
 * is cut and made unique by the SHA-256 of the key.
 */
export function fileName(key: string): string {
  const text = escapeKey(key);
  // The hex digits of encodeURIComponent's escapes are capitals too, and stay as they are.
  let escaped = encodeURIComponent(text).replace(/%[0-9A-F]{2}|[.*A-Z]/g, (found) =>
    found.length === 1 ? percent(found) : found,
  );
  if (deviceName.test(escaped)) escaped = percent(escaped[0]!) + escaped.slice(1);
  return shorten(escaped, text, true);
}

/** The file name an earlier weft gave a (well-formed) key, read where case is told apart. */
function legacyFileName(key: string): string {
  const text = escapeKey(key);
  return shorten(encodeURIComponent(text).replaceAll('.', '%2E'), text, false);
}

function percent(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase()}`;
}

/** The name cut to 200 characters, made unique by the key's hash; `whole` keeps escapes whole. */
function shorten(escaped: string, text: string, whole: boolean): string {
  if (escaped.length <= maxNameLength) return escaped;
  const hash = createHash('sha256').update(text, 'utf8').digest('hex');
  const head = escaped.slice(0, maxNameLength - 65);
  return `${whole ? head.replace(/%[0-9A-F]?$/, '') : head}~${hash}`;
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
