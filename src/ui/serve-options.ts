/**
 * Where `weft ui` listens, as the command line gives it: light, so that `weft run` reads
 * `--port` without loading the server.
 */
import { ValidationError } from '../core/errors.ts';

/** The port `weft ui` serves on when not told. */
export const defaultUiPort = 4600;
/** The host `weft ui` serves on when not told: this machine only. */
export const defaultUiHost = '127.0.0.1';

/**
 * A port as typed after `option`: digits, 0 (any free port) to 65535; the default port
 * when not given.
 * @throws ValidationError naming the option and the value given
 */
export function parsePort(text: string | undefined, option = '--port'): number {
  if (text === undefined) return defaultUiPort;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (port >= 0 && port <= 65_535) return port;
  throw new ValidationError(
    `${option} must be a port number from 0 to 65535 (0: any free port), got '${text.slice(0, 40)}'. ` +
      `Leave it out for ${defaultUiPort}.`,
  );
}

/**
 * Whether `host` is this machine only (a loopback address or `localhost`): serving
 * anywhere else lets other machines read the runs.
 */
export function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || /^127(\.\d{1,3}){3}$/.test(host) || host === '::1' || host === '[::1]'
  );
}
