/**
 * `weft ui`: the web UI over a store's runs, served on this machine (loopback) unless
 * another host is asked for, until SIGINT or SIGTERM. It reads the store and creates
 * nothing. The server (Hono) is loaded only here and by `weft run --ui`.
 */
import { ValidationError } from '../core/errors.ts';
import { openExistingStore } from '../stores/open.ts';
import { defaultUiHost, isLoopback, parsePort } from '../ui/serve-options.ts';
import { storeUrl } from './store-option.ts';
import { printable } from './text.ts';

export interface UiOptions {
  readonly port?: string;
  readonly host?: string;
  readonly store?: string;
}

/** Serves the web UI of the store until the process is told to stop. */
export async function serveUi(options: UiOptions): Promise<void> {
  const port = parsePort(options.port);
  const host = options.host ?? defaultUiHost;
  const { store, location } = await openExistingStore(storeUrl(options.store));
  if (!store) {
    throw new ValidationError(
      `No runs to show: there is no store at ${location} yet. Start a run with: weft run <file>, ` +
        'or give the store the runs were recorded in with --store.',
    );
  }
  try {
    const { startUiServer } = await import('../ui/server.ts');
    if (!isLoopback(host)) warnOpenHost(host);
    const server = await startUiServer({ store, port, host });
    process.stdout.write(
      `${printable(`weft ui: ${server.url} · store ${store.kind} ${store.location}`)}\n`,
    );
    await stopAsked();
    await server.close();
  } finally {
    await store.close();
  }
}

/** Says, on stderr, that other machines can read the runs. */
function warnOpenHost(host: string): void {
  process.stderr.write(
    `${printable(
      `weft ui: warning: serving on ${host}, not only on this machine: anyone who can reach ` +
        'it can read the runs, their arguments, errors and artifacts (there is no login)',
    )}\n`,
  );
}

/** Resolves at the first SIGINT or SIGTERM. */
function stopAsked(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
