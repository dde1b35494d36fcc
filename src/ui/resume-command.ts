/**
 * The command that resumes a run, as `weft run` prints it when a run stops and `weft ui`
 * shows it beside a run that did not complete: one wording for both.
 */
import { resolve } from 'node:path';
import type { Store } from '../core/store.ts';
import { defaultStorePath } from '../stores/open.ts';
import { shellWord } from './shell-word.ts';

/**
 * `weft resume <run>`, with ` --store <url>` naming `store` unless it is the default store
 * of the folder the command is typed in. A SQLite path is absolute; a password shows as
 * `***` (as the store's location hides it).
 * @example resumeCommand('nightly', store) // "weft resume nightly --store postgres://…"
 */
export function resumeCommand(
  runId: string,
  store: Pick<Store, 'kind' | 'location'>,
  cwd = process.cwd(),
): string {
  return `weft resume ${shellWord(runId)}${storeArgument(store, cwd)}`;
}

/** ` --store <url>` naming `store`, or an empty string for the folder's default store. */
function storeArgument(store: Pick<Store, 'kind' | 'location'>, cwd: string): string {
  if (store.kind === 'sqlite' && store.location === resolve(cwd, defaultStorePath)) return '';
  const url = store.kind === 'sqlite' ? `sqlite:${store.location}` : store.location;
  return ` --store ${shellWord(url)}`;
}
