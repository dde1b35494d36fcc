/**
 * History routing: `/` is the runs list, `/runs/:id` a run. The server answers index.html
 * for every path outside /api, so a reload or a shared link lands on the same view.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { readonly name: 'runs'; readonly search: URLSearchParams }
  | { readonly name: 'run'; readonly id: string }
  | { readonly name: 'missing'; readonly path: string };

function parseRoute(pathname: string, search: string): Route {
  if (pathname === '/' || pathname === '') {
    return { name: 'runs', search: new URLSearchParams(search) };
  }
  const run = /^\/runs\/([^/]+)\/?$/.exec(pathname);
  if (run) {
    try {
      return { name: 'run', id: decodeURIComponent(run[1]!) };
    } catch {
      return { name: 'missing', path: pathname };
    }
  }
  return { name: 'missing', path: pathname };
}

const changed = 'weft:navigate';

/** Goes to `href` inside the page; `replace` keeps the history from growing (filters). */
export function navigate(href: string, replace = false): void {
  if (replace) window.history.replaceState(null, '', href);
  else window.history.pushState(null, '', href);
  window.dispatchEvent(new Event(changed));
}

export function runHref(id: string): string {
  return `/runs/${encodeURIComponent(id)}`;
}

/** The route of the current location, following links, back and forward. */
export function useRoute(): Route {
  const read = () => parseRoute(window.location.pathname, window.location.search);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const update = () => setRoute(read());
    window.addEventListener('popstate', update);
    window.addEventListener(changed, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(changed, update);
    };
  }, []);
  return route;
}

interface LinkProps {
  readonly href: string;
  readonly class?: string;
  readonly title?: string;
  readonly children?: ComponentChildren;
}

/** An ordinary link, followed inside the page unless opened elsewhere (modifier keys). */
export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
    window.scrollTo(0, 0);
  };
  return (
    <a {...rest} href={href} onClick={onClick}>
      {children}
    </a>
  );
}
