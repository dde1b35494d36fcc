/**
 * A folder that runs out of room on demand, for the disk-full test, made the way this
 * machine allows (detected by trying, never assumed):
 * - `tmpfs`: a small tmpfs mounted on the folder, where the process may mount (root, or
 *   CAP_SYS_ADMIN). The disk really fills, while the run writes: a filler file takes
 *   every free byte, and deleting it frees them. This is what runs on the machine this
 *   suite was written on (tests run as root, and mount works).
 * - `read-only`: otherwise, the folder and its files made read-only with chmod. Root
 *   ignores file modes, so this is chosen only when a probe write into a read-only folder
 *   is refused. Files already open stay writable, so the writes are refused from the next
 *   process that opens the store.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** How the folder runs out of room. */
export type Method = 'tmpfs' | 'read-only';

/** A folder that can be made full (or read-only) and freed again. */
export interface FullDisk {
  readonly method: Method;
  /** The folder. */
  readonly path: string;
  /** What an error about it must tell the user to do. */
  readonly advice: RegExp;
  /** No more bytes can be written into the folder. */
  fill(): void;
  /** Writes go through again; whatever was in the folder is still there. */
  free(): void;
  /** Removes the mount (tmpfs); call once done. */
  dispose(): void;
}

/** Size of the tmpfs: room for the store and the part of the run before the disk fills. */
const tmpfsSize = '16m';

/** Makes `path` (a new folder) a folder that can run out of room, by the first method that works. */
export function fullDisk(path: string): FullDisk {
  mkdirSync(path, { recursive: true });
  if (tryMount(path)) return tmpfs(path);
  if (readOnlyRefusesWrites(path)) return readOnly(path);
  throw new Error(
    `Cannot make ${path} run out of room here: mounting a tmpfs failed (it needs root or ` +
      'CAP_SYS_ADMIN) and chmod does not stop this user from writing (root ignores file ' +
      'modes). Run the test as a user other than root, or where mount is allowed.',
  );
}

function tryMount(path: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${tmpfsSize}`, 'tmpfs', path], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

function tmpfs(path: string): FullDisk {
  const filler = join(path, 'filler');
  return {
    method: 'tmpfs',
    path,
    advice: /free space/i,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        // Large blocks first, then pages, until not one more page fits.
        for (const size of [1 << 16, 1 << 12]) {
          const block = Buffer.alloc(size);
          for (;;) {
            try {
              writeSync(fd, block);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw error;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    dispose() {
      // Lazily: a process killed a moment ago may still hold files there.
      execFileSync('umount', ['--lazy', path], { stdio: 'ignore' });
    },
  };
}

/** True when a file cannot be created in a folder made read-only: chmod binds this user. */
function readOnlyRefusesWrites(path: string): boolean {
  const probe = join(path, 'probe');
  chmodSync(path, 0o555);
  try {
    writeFileSync(probe, 'x');
    rmSync(probe);
    return false;
  } catch {
    return true;
  } finally {
    chmodSync(path, 0o755);
  }
}

function readOnly(path: string): FullDisk {
  const setModes = (file: number, folder: number) => {
    for (const name of readdirSync(path)) chmodSync(join(path, name), file);
    chmodSync(path, folder);
  };
  return {
    method: 'read-only',
    path,
    advice: /writable/i,
    fill: () => setModes(0o444, 0o555),
    free: () => setModes(0o644, 0o755),
    dispose() {},
  };
}
