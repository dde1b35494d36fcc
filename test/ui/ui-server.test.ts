/**
 * `weft ui`'s HTTP server: it listens on loopback (any free port with 0), serves the API
 * and the built page (assets as they are, index.html for the page's own routes, never a
 * file outside the build; a 503 page saying how to build when there is none), refuses a
 * port in use with a typed error naming it, and closes with its event streams open.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { asyncPool, isWeftError, map, openStore, type Store, task, withRun } from 'weftjs';
import type { RunsPage } from '../../src/ui/api-types.ts';
import { isLoopback, PortInUseError, startUiServer } from '../../src/ui/server.ts';
import { SseReader } from './sse.ts';
import { deferred, recordSmallRun, withPortTaken } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-ui-server-'));
const executor = asyncPool({ concurrency: 2 });
after(() => executor.close());

/** A built page: index.html and one hashed asset. */
function pageDir(): string {
  const page = join(dir, 'page');
  mkdirSync(join(page, 'assets'), { recursive: true });
  writeFileSync(join(page, 'index.html'), '<!doctype html><title>weft ui</title><div id="app">');
  writeFileSync(join(page, 'assets', 'index-abc123.js'), 'console.log("weft");');
  writeFileSync(join(dir, 'secret.txt'), 'not for the page');
  return page;
}

describe('weft ui: the server', () => {
  let store: Store;
  before(async () => {
    store = await openStore(`sqlite:${join(dir, 'weft.db')}`);
    await recordSmallRun(store, 'served', '/jobs/served.ts', executor);
  });
  after(() => store?.close());

  it('serves the API and the page on loopback, on a free port', async () => {
    const server = await startUiServer({ store, port: 0, pageDir: pageDir() });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const runs = (await (await fetch(`${server.url}/api/runs`)).json()) as RunsPage;
      assert.deepEqual(
        runs.runs.map((run) => run.id),
        ['served'],
      );
      for (const path of ['/', '/runs/served', '/runs/some/deeper/route']) {
        const page = await fetch(`${server.url}${path}`);
        assert.equal(page.status, 200);
        assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(await page.text(), /<title>weft ui<\/title>/);
      }
      const asset = await fetch(`${server.url}/assets/index-abc123.js`);
      assert.equal(asset.status, 200);
      assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
      assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
      assert.equal(await asset.text(), 'console.log("weft");');
      // Nothing outside the build: such paths get the page.
      for (const path of [
        '/%2e%2e/secret.txt',
        '/..%2fsecret.txt',
        '/assets/..%2f..%2fsecret.txt',
      ]) {
        const response = await fetch(`${server.url}${path}`);
        assert.doesNotMatch(await response.text(), /not for the page/);
      }
      const head = await fetch(`${server.url}/runs/served`, { method: 'HEAD' });
      assert.equal(head.status, 200);
    } finally {
      await server.close();
    }
  });

  it('answers 503 with a page saying how to build it when there is no page', async () => {
    const server = await startUiServer({ store, port: 0, pageDir: join(dir, 'not-built') });
    try {
      const page = await fetch(`${server.url}/runs/served`);
      assert.equal(page.status, 503);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await page.text(), /not built[\s\S]*npm run build/);
      // The API answers all the same.
      assert.equal((await fetch(`${server.url}/api/runs`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('refuses a port in use with an error naming it and what to do', async () => {
    await withPortTaken(async (port) => {
      await assert.rejects(startUiServer({ store, port }), (error: unknown) => {
        assert.ok(error instanceof PortInUseError);
        assert.ok(isWeftError(error, 'WEFT_PORT_IN_USE'));
        assert.equal(error.port, port);
        assert.match(error.message, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is in use`));
        assert.match(error.message, /--port \d+/);
        return true;
      });
    });
    await assert.rejects(startUiServer({ store, port: 70_000 }), /0 to 65535/);
    await assert.rejects(
      startUiServer({ store, port: 0, host: '203.0.113.9' }),
      /cannot listen on host '203\.0\.113\.9'/,
    );
  });

  it('closes with an event stream open, ending the stream', async () => {
    const released = deferred();
    const started = deferred();
    const wait = task('ui-server:wait', async () => {
      started.resolve();
      await released.promise;
    });
    const done = withRun({ store, runId: 'open-stream' }, () => map([1], wait, { executor }));
    await started.promise;
    const server = await startUiServer({ store, port: 0 });
    const events = new SseReader(await fetch(`${server.url}/api/runs/open-stream/events`));
    await events.until((message) => message.event === 'progress');
    await server.close();
    // The stream ends without an `end`: the run goes on, the server is gone.
    assert.ok((await events.rest()).every((message) => message.event !== 'end'));
    await assert.rejects(fetch(`${server.url}/api/runs`));
    released.resolve();
    await done;
  });

  it('closes when its signal is aborted', async () => {
    const controller = new AbortController();
    const server = await startUiServer({ store, port: 0, signal: controller.signal });
    assert.equal((await fetch(`${server.url}/api/runs`)).status, 200);
    controller.abort();
    await server.close();
    await assert.rejects(fetch(`${server.url}/api/runs`));
  });

  it('knows loopback hosts from others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) assert.ok(isLoopback(host));
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com'])
      assert.ok(!isLoopback(host));
  });
});
