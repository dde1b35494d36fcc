/**
 * A small website served on 127.0.0.1, so that the page examples fetch real pages over
 * HTTP without the internet. Each page has a title; `/slow` does not answer the first
 * time it is asked for (a task's timeout must end that attempt), `/flaky` answers the
 * first time with 503, and any other path is 404.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const titles: Readonly<Record<string, string>> = {
  '/': 'Home',
  '/about': 'About',
  '/slow': 'Slow',
  '/flaky': 'Flaky',
};

/** A site started by {@link serveSite}. */
export interface Site {
  /** The address of `path` on the site. */
  url(path: string): string;
  /** Stops the server, ending any request still open. */
  close(): Promise<void>;
}

/** Starts the site on a free port. */
export async function serveSite(): Promise<Site> {
  const asked = new Map<string, number>();
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    const times = (asked.get(path) ?? 0) + 1;
    asked.set(path, times);
    // No answer at all: only the client's timeout ends this request.
    if (path === '/slow' && times === 1) return;
    if (path === '/flaky' && times === 1) {
      response.writeHead(503).end('busy, try again');
      return;
    }
    const title = titles[path];
    if (title === undefined) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<!doctype html><title>${title}</title><p>This is the ${title} page.</p>`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
