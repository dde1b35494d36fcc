/** The store of the CLI verbs (`--store`, else `WEFT_STORE`, else `.weft/weft.db`), and how a command names it again. */
import { resolve } from 'node:path';
import type { Store } from '../core/store.ts';
import { defaultStorePath } from '../stores/open.ts';
import { shellWord } from './text.ts';

/** The store URL `--store` gives, else `WEFT_STORE`; undefined for the default store. */
export function storeUrl(option: string | undefined): string | undefined {
  return option ?? process.env.WEFT_STORE;
}

/**
 * ` --store <url>` naming `store` in a command typed in this folder, or an empty string for
 * this folder's default store. A SQLite path is made absolute; a password shows as `***`.
 */
export function storeArgument(store: Store): string {
  if (store.kind === 'sqlite' && store.location === resolve(defaultStorePath)) return '';
  const url = store.kind === 'sqlite' ? `sqlite:${store.location}` : store.location;
  return ` --store ${shellWord(url)}`;
}
