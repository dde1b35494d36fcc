/**
 * `weft ui` end to end, in headless Chromium: the page built into dist/web, served by the
 * real server over a SQLite store that weft's own runs write to, one of them going on
 * while the page watches it. Screenshots of each page are saved (see browser-support.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type DagNode, dag, map, openStore, type Store, task, withRun } from 'weftjs';
import { ApplicationBuilder, action, defaultTransition, expr, StorePersister } from 'weftjs/app';
import { Flow } from 'weftjs/flow';
import { startUiServer, type UiServer } from '../../src/ui/server.ts';
import { foreachOver } from '../flow/support.ts';
import { launchBrowser, screenshotPath } from './browser-support.ts';
import { deferred } from './support.ts';

const liveItems = 12;
const gates = Array.from({ length: liveItems }, () => deferred());

const fetchPage = task('ui-e2e:fetch', (n: number) => ({ page: n, rows: n * 10 }));
const merge = task('ui-e2e:merge', (pages: readonly { rows: number }[]) =>
  pages.reduce((sum, page) => sum + page.rows, 0),
);
const parse = task('ui-e2e:parse', (n: number) => {
  if (n === 3) {
    throw new Error(`row ${n} does not parse`, { cause: new RangeError('column 7 is empty') });
  }
  return n;
});
const waitForGate = task('ui-e2e:wait', async (n: number) => {
  await gates[n]!.promise;
  return n;
});

function dagNodes(): DagNode[] {
  return [
    { id: 'first', task: fetchPage, input: 1 },
    { id: 'second', task: fetchPage, input: 2 },
    {
      id: 'merge',
      task: merge,
      dependencies: ['first', 'second'],
      input: (done) => [done.get('first'), done.get('second')],
    },
  ];
}

/** count → count while count < 3, then report: each step's state kept by the persister. */
function counterApp(store: Store) {
  const count = action({ reads: ['count'], writes: ['count'] }, (state) =>
    state.update({ count: state.get('count') + 1 }),
  );
  const report = action({ reads: ['count'], writes: ['summary'] }, (state) =>
    state.update({ summary: `counted to ${state.get('count')}` }),
  );
  return new ApplicationBuilder()
    .withActions({ count, report })
    .withTransitions(['count', 'count', expr('count < 3')], ['count', 'report', defaultTransition])
    .withState({ count: 0 })
    .withEntrypoint('count')
    .withIdentifiers({ appId: 'counter' })
    .withStatePersister(new StorePersister(store))
    .build();
}

/** A sharded layer, then a ForEach over its shard. */
function shardFlow(store: Store): Flow {
  const flow = new Flow('Squares', { store });
  const numbers = flow.layer('Numbers', (self) => {
    self.shard({ n: [1, 2, 3, 4] });
  });
  flow.layer(
    'Square',
    { foreach: foreachOver(numbers, 'n') },
    (self, shard) => {
      self.set({ square: shard.n * shard.n });
    },
    [numbers],
  );
  return flow;
}

describe('weft ui in a browser', { timeout: 120_000 }, () => {
  const folder = mkdtempSync(join(tmpdir(), 'weft-ui-e2e-'));
  let store: Store;
  let server: UiServer;
  let browser: Browser;
  let page: Page;
  let live: Promise<unknown>;

  before(async () => {
    store = await openStore(join(folder, 'weft.db'));
    await withRun({ store, runId: 'e2e-dag', meta: { file: 'plan.ts' } }, () =>
      dag(dagNodes(), { name: 'plan' }),
    );
    await withRun({ store, runId: 'e2e-app', meta: { file: 'counter.ts' } }, () =>
      counterApp(store).run({ haltAfter: ['report'] }),
    );
    await shardFlow(store).run({ runId: 'e2e-flow' });
    await withRun({ store, runId: 'e2e-failed', meta: { file: 'parse.ts' } }, () =>
      map([1, 2, 3, 4, 5], parse),
    ).catch(() => undefined);
    live = withRun({ store, runId: 'e2e-live', meta: { file: 'live.ts' } }, () =>
      map(
        Array.from({ length: liveItems }, (_, i) => i),
        waitForGate,
        { concurrency: liveItems },
      ),
    );
    server = await startUiServer({ store, port: 0 });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    for (const g of gates) g.resolve();
    await live?.catch(() => undefined);
    await browser?.close();
    await server?.close();
    await store?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  /** Waits until `expression`, evaluated in the page (where `document` is), is true. */
  const until = (expression: string, timeout: number) =>
    page.waitForFunction(expression, undefined, { timeout });

  /** The ids of the graph nodes of the run page at `path`, once drawn. */
  const graphNodeIds = async (path: string) => {
    await page.goto(`${server.url}${path}`);
    const nodes = page.locator('[data-testid="graph"] [data-testid="graph-node"]');
    await nodes.first().waitFor();
    return nodes.evaluateAll((elements) =>
      elements.map((element) => element.getAttribute('data-node-id')),
    );
  };

  it('lists the runs, newest first, each with its status', async () => {
    await page.goto(server.url);
    const rows = page.locator('[data-testid="run-row"]');
    await rows.first().waitFor();
    await page.locator('[data-testid="run-row"][data-run-id="e2e-live"]').waitFor();
    const ids = await rows.evaluateAll((elements) =>
      elements.map((element) => element.getAttribute('data-run-id')),
    );
    assert.deepEqual(ids, ['e2e-live', 'e2e-failed', 'e2e-flow', 'e2e-app', 'e2e-dag']);
    const failedRow = page.locator('[data-testid="run-row"][data-run-id="e2e-failed"]');
    assert.match((await failedRow.textContent()) ?? '', /failed/);
    await page.screenshot({ path: screenshotPath('runs'), fullPage: true });
  });

  it("shows a dag run's graph: its nodes and their dependencies", async () => {
    const ids = await graphNodeIds('/runs/e2e-dag');
    for (const id of ['first', 'second', 'merge']) {
      assert.ok(
        ids.some((nodeId) => nodeId === id || nodeId?.endsWith(`/${id}`)),
        `node ${id} in ${ids.join(', ')}`,
      );
    }
    assert.equal(
      (await page.locator('[data-testid="run-status"]').textContent()) ?? '',
      'completed',
    );
    await page.screenshot({ path: screenshotPath('run-graph'), fullPage: true });
  });

  it("shows an application's graph and steps, and the state after a step with what changed", async () => {
    const ids = await graphNodeIds('/runs/e2e-app');
    assert.deepEqual([...ids].sort(), ['count', 'report']);
    const steps = page.locator('[data-testid="app-step"]');
    await steps.first().waitFor();
    assert.equal(await steps.count(), 4);
    await steps.nth(3).click();
    const state = page.locator('[data-testid="state-view"]');
    await state.waitFor();
    await until(
      `document.querySelector('[data-testid="state-view"]')?.textContent.includes('counted to 3')`,
      10_000,
    );
    await page.screenshot({ path: screenshotPath('run-app'), fullPage: true });
  });

  it("shows a flow's layers, and a layer's attributes with their shard lengths", async () => {
    await page.goto(`${server.url}/runs/e2e-flow`);
    const layer = page.locator('[data-testid="graph"] [data-testid="graph-node"]', {
      hasText: 'Numbers',
    });
    await layer.waitFor();
    await layer.click();
    const view = page.locator('[data-testid="layer-view"]');
    await view.waitFor();
    await until(
      `document.querySelector('[data-testid="layer-view"]')?.textContent.includes('shard')`,
      10_000,
    );
    assert.equal(await view.getByRole('cell', { name: 'n', exact: true }).count(), 1);
    await page.screenshot({ path: screenshotPath('run-flow'), fullPage: true });
  });

  it("shows a failed task's error with its cause, and the command that resumes the run", async () => {
    await page.goto(`${server.url}/runs/e2e-failed`);
    const error = page.locator('[data-testid="task-error"]').first();
    await error.waitFor();
    const text = (await error.textContent()) ?? '';
    assert.match(text, /row 3 does not parse/);
    assert.match(text, /column 7 is empty/);
    assert.match(
      (await page.locator('[data-testid="resume-command"]').textContent()) ?? '',
      /weft resume/,
    );
    await page.screenshot({ path: screenshotPath('run-failed'), fullPage: true });
  });

  it("moves a fan-out's progress bar while the run goes, and shows the run completed", async () => {
    await page.goto(`${server.url}/runs/e2e-live`);
    const bar = page.locator('[data-testid="fanout-progress"]').first();
    await bar.waitFor();
    const done = async () => Number(await bar.getAttribute('aria-valuenow'));
    assert.equal(await done(), 0);
    for (const g of gates.slice(0, 5)) g.resolve();
    await until(
      `Number(document.querySelector('[data-testid="fanout-progress"]')?.getAttribute('aria-valuenow')) >= 5`,
      15_000,
    );
    assert.ok((await done()) < liveItems, 'only the released tasks are done');
    // The page reads the tasks again while the run goes: the finished ones are listed.
    await until(
      `document.querySelectorAll('[data-testid="tasks-table"] tbody tr').length >= 5`,
      15_000,
    );
    await page.screenshot({ path: screenshotPath('run-live'), fullPage: true });
    for (const g of gates) g.resolve();
    await live;
    await until(
      `document.querySelector('[data-testid="run-status"]')?.textContent === 'completed'`,
      15_000,
    );
    assert.equal(await done(), liveItems);
  });
});
