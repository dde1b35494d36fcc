/** The PostgreSQL versions weft's schema works on. */
import { StoreError } from '../../core/errors.ts';

/** The oldest server, as `server_version_num`: schema version 4 digests long keys with sha256(), new in 11. */
export const leastServerVersion = 110000;

/**
 * The error for a server older than weft's schema needs, or undefined when it will do.
 * @param version the server's `server_version_num` (e.g. 150020 for 15.20)
 * @param location the store, as messages name it
 */
export function serverTooOld(version: number, location: string): StoreError | undefined {
  if (!Number.isFinite(version) || version >= leastServerVersion) return undefined;
  return new StoreError(
    `The PostgreSQL server of ${location} is version ${Math.floor(version / 10000)}; weft needs ` +
      'PostgreSQL 11 or newer. Upgrade the server, or use another store (sqlite:…).',
  );
}
