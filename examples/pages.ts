/**
 * Fetching pages with a task that retries, backs off and times out: mapped in input
 * order, streamed as the pages finish, with a missing page collected as an Error in
 * place, and a dag that summarizes two pages once both are fetched. The pages come from a
 * small site this job serves itself on 127.0.0.1: `/slow` does not answer the first time
 * (the timeout ends that attempt, the retry gets the page), `/flaky` fails once with 503,
 * `/missing` is 404 every time.
 *
 *   weft run examples/pages.ts
 */
import { dag, events, type JobContext, map, task } from 'weftjs';
import { serveSite } from './lib/site.ts';

export const fetchPage = task(
  'fetchPage',
  async (url: string, { signal }) => {
    const response = await fetch(url, { signal });
    if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
    return response.text();
  },
  { retries: 2, backoff: { delayMs: 100 }, timeoutMs: 1_000 },
);

/** The title of an HTML page. */
function title(html: string): string {
  return /<title>(.*)<\/title>/.exec(html)?.[1] ?? '(untitled)';
}

export const summarize = task('summarize', (pages: string[]) => pages.map(title).join(' & '));

export default async function main({ signal }: JobContext) {
  const site = await serveSite();
  const urls = ['/', '/about', '/slow', '/flaky'].map(site.url);
  const off = events.on('task:retry', (e) => console.log(`retry ${e.task} ${e.item}: ${e.error}`));
  try {
    const pages = await map(urls, fetchPage, { concurrency: 8, signal }); // in input order
    console.log(pages.map(title)); // [ 'Home', 'About', 'Slow', 'Flaky' ]

    for await (const page of map(urls, fetchPage, { ordered: false })) {
      console.log(title(page)); // as they finish
    }

    const settled = await map([...urls, site.url('/missing')], fetchPage, { onError: 'collect' });
    console.log(String(settled[4])); // Error: …/missing: 404 Not Found, in place of its page

    const results = await dag([
      { id: 'home', task: fetchPage, input: site.url('/') },
      { id: 'about', task: fetchPage, input: site.url('/about') },
      {
        id: 'summary',
        task: summarize,
        dependencies: ['home', 'about'],
        input: (done) => [done.get('home'), done.get('about')],
      },
    ]);
    console.log(results.get('summary')); // Home & About
  } finally {
    off();
    await site.close();
  }
}
