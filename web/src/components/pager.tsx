/**
 * Paging by the server's cursors: the pages read so far are a stack of cursors, so going
 * back needs nothing of the server.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export interface Cursors {
  /** The cursor of the page shown; undefined for the first page. */
  readonly cursor: string | undefined;
  /** The page shown, from 0. */
  readonly index: number;
  back(): void;
  /** Reads on from `next`, the `next` of the page shown. */
  forward(next: string): void;
}

export function useCursors(): Cursors {
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    index: cursors.length - 1,
    back: () => setCursors(cursors.slice(0, -1)),
    forward: (next) => setCursors([...cursors, next]),
  };
}

/** Back and forward buttons around `children`; forward only while the server gave a `next`. */
export function Pager({
  label,
  pages,
  next,
  back,
  forward,
  children,
}: {
  readonly label: string;
  readonly pages: Cursors;
  readonly next: string | undefined;
  readonly back: string;
  readonly forward: string;
  readonly children?: ComponentChildren;
}) {
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" disabled={pages.index === 0} onClick={pages.back}>
        {back}
      </button>
      {children}
      <button
        type="button"
        disabled={next === undefined}
        onClick={() => next !== undefined && pages.forward(next)}
      >
        {forward}
      </button>
    </nav>
  );
}
