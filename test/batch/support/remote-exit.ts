/**
 * Runs a script of this folder (remote-exit-script.ts, remote-self-script.ts) in a node
 * process of its own, as a user would run it, and reports how it ended, or that it had
 * not ended in time.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** How the script ended: its exit code (null when stopped after `timeoutMs`) and its output. */
export interface Ended {
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the script `name` with `args` and waits at most `timeoutMs` for its process to end. */
export function runScript(
  name: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<Ended> {
  const script = fileURLToPath(new URL(`./${name}`, import.meta.url));
  const env = { ...process.env };
  delete env.WEFT_EXECUTOR;
  delete env.WEFT_WORKERS;
  const child = spawn(
    process.execPath,
    ['--conditions=weft-source', '--import', 'tsx', script, ...args],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, stdout, stderr });
    });
  });
}
