/**
 * `weft ui`'s HTTP server: the Hono app ({@link createUiApp}) on a port of this machine,
 * on loopback unless told otherwise. `weft ui` and `weft run --ui` start it.
 */
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { ValidationError, WeftError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { createUiApp } from './app.ts';
import { LiveStreams } from './live-streams.ts';
import { defaultUiHost, defaultUiPort } from './serve-options.ts';

export { createUiApp, type UiAppOptions } from './app.ts';
export { defaultUiHost, defaultUiPort, isLoopback } from './serve-options.ts';

/** How long a closing server waits for its answers under way before it cuts them. */
const closeGraceMs = 2_000;

/** Options of {@link startUiServer}. */
export interface UiServerOptions {
  /** The store whose runs are shown; the server only reads it. */
  readonly store: Store;
  /**
   * The port to listen on; 0 for any free one.
   * @default 4600
   */
  readonly port?: number;
  /**
   * The address to listen on. Another than loopback lets other machines read the runs.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /** Closes the server when aborted. */
  readonly signal?: AbortSignal;
  /** The folder of the built page. @default dist/web of the weft package */
  readonly pageDir?: string;
}

/** A server started by {@link startUiServer}. */
export interface UiServer {
  /** Where it answers, e.g. `http://127.0.0.1:4600`. */
  readonly url: string;
  /**
   * Ends its event streams, stops listening and closes its connections. With `drainMs`,
   * first gives the event streams that long to end by themselves (a run that just ended
   * is seen to end by its viewers).
   */
  close(options?: { readonly drainMs?: number }): Promise<void>;
}

/** The port asked for is taken by another program. */
export class PortInUseError extends WeftError {
  override name = 'PortInUseError';
  readonly port: number;

  constructor(port: number, host: string) {
    super(
      'WEFT_PORT_IN_USE',
      `Port ${port} on ${host} is in use by another program (another weft ui?). ` +
        `Stop it, or give another port: --port ${port === 65_535 ? 4601 : port + 1}.`,
    );
    this.port = port;
  }
}

/**
 * Serves the API and page of `store` on `host:port` until closed.
 * @throws PortInUseError (`WEFT_PORT_IN_USE`) naming the port when it is taken
 * @throws ValidationError for a port out of range or a host this machine cannot listen on
 * @example
 * const server = await startUiServer({ store, port: 4600 });
 * console.log(`weft ui: ${server.url}`);
 * await server.close();
 */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const port = options.port ?? defaultUiPort;
  const host = options.host ?? defaultUiHost;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ValidationError(
      `The port of weft ui must be a whole number from 0 to 65535 (0: any free one); got ${String(port)}.`,
    );
  }
  const closing = new AbortController();
  const streams = new LiveStreams();
  const app = createUiApp(options.store, {
    signal: closing.signal,
    streams,
    ...(options.pageDir === undefined ? {} : { pageDir: options.pageDir }),
  });
  const server = createAdaptorServer({ fetch: app.fetch });
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(listenError(error, port, host));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  const close = ({ drainMs = 0 }: { readonly drainMs?: number } = {}) => {
    closed ??= (async () => {
      options.signal?.removeEventListener('abort', onAbort);
      if (drainMs > 0 && streams.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          streams.idle(),
          new Promise((resolve) => {
            timer = setTimeout(resolve, drainMs);
          }),
        ]);
        clearTimeout(timer);
      }
      closing.abort();
      let stopped = false;
      const shut = new Promise<void>((resolve) =>
        server.close(() => {
          stopped = true;
          resolve();
        }),
      );
      // Streams end on the abort; their connections, like any kept alive, are closed once
      // idle, and the last few cut after a grace period.
      await streams.idle();
      const cut = Date.now() + closeGraceMs;
      while (!stopped && Date.now() < cut) {
        if ('closeIdleConnections' in server) server.closeIdleConnections();
        await Promise.race([shut, new Promise((resolve) => setTimeout(resolve, 20))]);
      }
      if ('closeAllConnections' in server) server.closeAllConnections();
      await shut;
    })();
    return closed;
  };
  const onAbort = () => void close();
  if (options.signal?.aborted) await close();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return { url: `http://${shown}:${address.port}`, close };
}

function listenError(error: NodeJS.ErrnoException, port: number, host: string): Error {
  if (error.code === 'EADDRINUSE') return new PortInUseError(port, host);
  if (error.code === 'EACCES') {
    return new ValidationError(
      `This process may not listen on port ${port} of ${host} (ports below 1024 need privileges). ` +
        'Give another port with --port, e.g. --port 4600.',
      { cause: error },
    );
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
    return new ValidationError(
      `weft ui cannot listen on host '${host}': it is not an address of this machine. ` +
        'Give one of its addresses with --host, e.g. --host 127.0.0.1.',
      { cause: error },
    );
  }
  return error;
}
