/**
 * Artifacts as files: one folder per run, one file per key, written atomically (a
 * temporary file renamed into place), so a crash never leaves half an artifact. The
 * SQLite store keeps its artifacts here, beside the database, rather than in it: shards
 * and large outputs then cost the database nothing, and reading one reads only that file.
 *
 * Every key maps to its own file name, whatever the key and whatever the file system: the
 * names hold only lower-case ASCII letters, digits, `-_~'()!` and `%` escapes (see {@link fileName}),
 * so that a file system that ignores case (macOS, Windows) cannot merge two keys either.
 * A name reads back as its key, so that listing a run's keys reads no artifact; a name
 * shortened for length keeps its key in a file beside it (`<name>.key`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, opendir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StoreError } from '../core/errors.ts';
import { escapeKey, keyFromStored } from './sql/key-codec.ts';

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
    const name = fileName(key);
    const file = join(folder, name);
    try {
      await mkdir(folder, { recursive: true });
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
   * The keys of the run's artifacts that start with `prefix`, each once, read from the
   * names of its files (a page of directory entries at a time). Files an earlier weft
   * named are listed where they are read, but for those whose names it shortened for
   * length: it kept no key beside them, so they stay unnamed (a re-run of a flow then
   * recomputes what they hold, once, and writes them anew).
   */
  async *keys(runId: string, prefix: string): AsyncIterable<string> {
    const folder = join(this.dir, fileName(runId));
    const legacy = (await this.#readsLegacyNames())
      ? join(this.dir, legacyFileName(runId))
      : undefined;
    for await (const name of entries(folder, runId)) {
      let key = await keyOfName(folder, name);
      // Where the run's folder is named as an earlier weft named it, its files may be too.
      if (key === undefined && legacy === folder) key = await this.#legacyKey(folder, name);
      if (key?.startsWith(prefix)) yield key;
    }
    if (legacy === undefined || legacy === folder) return;
    for await (const name of entries(legacy, runId)) {
      const old = await this.#legacyKey(folder, name);
      if (old?.startsWith(prefix)) yield old;
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

/** Suffix of the file beside a shortened name that holds its key, well-formed (key-codec.ts). */
const keySuffix = '.key';
/** The tail {@link shorten} gives a name: `~` and a SHA-256 in hex. */
const shortenedTail = /~[0-9a-f]{64}$/;

/**
 * Whether a name of {@link fileName} has the form of a shortened one, whose key is kept
 * beside it (a key of that form written in full keeps its key beside it too).
 */
function isShortened(name: string): boolean {
  return name.length > maxNameLength - 65 && shortenedTail.test(name);
}

/** The key a file name of {@link fileName} or {@link legacyFileName} stands for, if any. */
function decodeName(name: string): string | undefined {
  try {
    return keyFromStored(decodeURIComponent(name));
  } catch {
    return undefined;
  }
}

/**
 * The key whose {@link fileName} is `name` (a file of `folder`), read from the name itself,
 * or, for a name shortened for length, from the file of its key; undefined when `name` is
 * no such name. A shortened name also decodes, as a key of its own that ends in the hash,
 * so only its key file tells which key wrote it; without one (an earlier weft's file) it
 * stays unnamed. Temporary files and the files of keys hold a `.`, which no name holds.
 */
async function keyOfName(folder: string, name: string): Promise<string | undefined> {
  if (name.includes('.')) return undefined;
  if (!isShortened(name)) {
    const key = decodeName(name);
    return key !== undefined && fileName(key) === name ? key : undefined;
  }
  let text: string;
  try {
    text = await readFile(join(folder, name + keySuffix), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw listingError(folder, error);
  }
  const key = keyFromStored(text);
  return fileName(key) === name ? key : undefined;
}

/** The names in a run's folder, a page at a time; none when there is no folder. */
async function* entries(folder: string, runId: string): AsyncIterable<string> {
  let dir: Awaited<ReturnType<typeof opendir>>;
  try {
    dir = await opendir(folder, { bufferSize: 256 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw listingError(folder, error, runId);
  }
  try {
    for await (const entry of dir) if (entry.isFile()) yield entry.name;
  } catch (error) {
    throw listingError(folder, error, runId);
  }
}

function listingError(folder: string, error: unknown, runId?: string): StoreError {
  return new StoreError(
    `Could not list the artifacts${runId === undefined ? '' : ` of run '${runId}'`} in ${folder}: ` +
      `${(error as Error).message}. Check that the folder can be read.`,
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
