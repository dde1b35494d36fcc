/**
 * A Redis server of a test's own: a `redis-server` child process on a free port, in a
 * folder of its own, that the test may stop (SIGTERM or SIGKILL) and start again on the
 * same port, so that nothing else sharing the machine's Redis is disturbed. Stopped and
 * its folder removed when the test file is done.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** What the server keeps across a stop. */
export type Persistence =
  /** Nothing (`--save "" --appendonly no`): a stop loses every key. */
  | 'none'
  /** An append-only file written on every command: even a SIGKILL loses nothing. */
  | 'aof';

/** Options of {@link startOwnRedis}. */
export interface OwnRedisOptions {
  /** @default 'none' */
  readonly persistence?: Persistence;
  /**
   * How long to wait for the server to accept connections, in milliseconds.
   * @default 10000
   */
  readonly readyTimeoutMs?: number;
}

/** A Redis server of a test's own. */
export interface OwnRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Its working folder (append-only files, its log). */
  readonly dir: string;
  /** True between a start and a stop. */
  readonly running: boolean;
  /** Stops the server with `signal` and resolves once its process has exited. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
}

/** Starts a Redis server of this test file's own; resolves once it accepts connections. */
export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-own-redis-'));
  const persistence = options.persistence ?? 'none';
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const port = await freePort();
  let child: ChildProcess | undefined;

  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    ...(persistence === 'aof'
      ? ['--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no']),
  ];

  const start = async () => {
    if (child !== undefined) throw new Error(`Redis on port ${port} is already running`);
    const started = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.once('exit', () => {
      if (child === started) child = undefined;
    });
    try {
      await ready(started, port, readyTimeoutMs);
    } catch (error) {
      started.kill('SIGKILL');
      throw error;
    }
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const running = child;
    if (running === undefined) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    await exited;
  };

  after(async () => {
    await stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get running() {
      return child !== undefined;
    },
    stop,
    start,
  };
}

/**
 * A port no one listens on now, below Linux's ephemeral range (32768 on): the kernel never
 * hands it to another process's outgoing connection between this check and the server's
 * start, as it may a port it picked itself.
 */
async function freePort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  throw new Error('No free port between 20000 and 32000 after 50 tries');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Resolves once the server said it accepts connections; rejects, with what it printed,
 * when it exits first (the port was taken meanwhile, say) or the deadline passes.
 */
function ready(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let printed = '';
    const onData = (chunk: Buffer) => {
      printed += chunk.toString('utf8');
      if (printed.includes('Ready to accept connections')) finish();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(
        new Error(
          `redis-server on port ${port} exited (${signal ?? code}) before it was ready:\n${printed}`,
        ),
      );
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `redis-server on port ${port} was not ready within ${timeoutMs} ms:\n${printed}`,
          ),
        ),
      timeoutMs,
    );
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      // Keep reading, so that a full pipe never blocks the server.
      child.stdout?.resume();
      child.stderr?.resume();
      if (error) reject(error);
      else resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}
