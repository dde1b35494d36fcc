/**
 * The store of the CLI verbs: `--store`, else `WEFT_STORE`, else `.weft/weft.db` (a
 * command names it again with ui/resume-command.ts).
 */

/** The store URL `--store` gives, else `WEFT_STORE`; undefined for the default store. */
export function storeUrl(option: string | undefined): string | undefined {
  return option ?? process.env.WEFT_STORE;
}
