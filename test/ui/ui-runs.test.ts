/**
 * `weft ui`'s runs list (`GET /api/runs`) over runs weft recorded, in SQLite, PostgreSQL
 * and a store without fast queries: newest first, summed up, paged (pages join up),
 * filtered by status and text; bad query values are 400s naming the parameter; unknown
 * and hostile run ids, unknown routes and writes are refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asyncPool, type Store } from 'weftjs';
import type { RunSummary, RunsPage } from '../../src/ui/api-types.ts';
import { createUiApp } from '../../src/ui/server.ts';
import {
  assertError,
  getJson,
  recordAppRun,
  recordFailedRun,
  recordFlowRun,
  recordSmallRun,
  recordStoppedRun,
  storeCases,
} from './support.ts';

const executor = asyncPool({ concurrency: 4 });
after(() => executor.close());

/** The small runs: every third one fails; odd ones ran alpha.ts, even ones beta.ts. */
const small = Array.from({ length: 9 }, (_, i) => ({
  id: `small-${i}`,
  file: `/jobs/${i % 2 === 1 ? 'alpha' : 'beta'}.ts`,
  fails: i % 3 === 2,
}));

for (const { name, open } of storeCases('runs')) {
  describe(`weft ui: the runs list (${name})`, () => {
    let store: Store;
    let app: ReturnType<typeof createUiApp>;
    /** Every run id, oldest first. */
    const recorded: string[] = [];

    before(async () => {
      store = await open();
      app = createUiApp(store);
      await recordAppRun(store, 'app-run', 'runs-app');
      await recordFlowRun(store, 'flow-run', 'RunsFlow', executor);
      await recordFailedRun(store, 'failed-run', executor);
      await recordStoppedRun(store, 'stopped-run');
      recorded.push('app-run', 'flow-run', 'failed-run', 'stopped-run');
      for (const run of small) {
        await recordSmallRun(store, run.id, run.file, executor, run.fails);
        recorded.push(run.id);
      }
    });
    after(() => store?.close());

    const list = (query = '') => getJson<RunsPage>(app, `/api/runs${query}`);

    it('lists every run newest first, each summed up', async () => {
      const { status, type, body } = await list();
      assert.equal(status, 200);
      assert.match(type ?? '', /application\/json/);
      assert.equal(body.total, recorded.length);
      assert.deepEqual(
        body.runs.map((run) => run.id),
        [...recorded].reverse(),
      );
      assert.equal(body.next, undefined);
      const byId = new Map(body.runs.map((run) => [run.id, run]));
      const appRun = byId.get('app-run')!;
      assert.equal(appRun.kind, 'app');
      assert.equal(appRun.name, 'app-job.ts');
      assert.equal(appRun.status, 'completed');
      assert.deepEqual(appRun.tasks, { completed: 3, failed: 0 });
      assert.equal(appRun.attempts, 1);
      assert.ok(appRun.updatedAt >= appRun.createdAt);
      assert.equal(appRun.durationMs, appRun.updatedAt - appRun.createdAt);
      assertSparkline(appRun);
      const flowRun = byId.get('flow-run')!;
      assert.equal(flowRun.kind, 'flow');
      assert.equal(flowRun.name, 'RunsFlow');
      assert.deepEqual(flowRun.tasks, { completed: 5, failed: 0 });
      const failed = byId.get('failed-run')!;
      assert.equal(failed.kind, 'map');
      assert.equal(failed.status, 'failed');
      assert.deepEqual(failed.tasks, { completed: 2, failed: 3 });
      assertSparkline(failed);
      const stopped = byId.get('stopped-run')!;
      assert.equal(stopped.status, 'stopped');
      assert.equal(stopped.kind, 'unknown');
      assert.deepEqual(stopped.sparkline, []);
      assert.deepEqual(stopped.tasks, { completed: 0, failed: 0 });
    });

    it('pages join up: every run once, in order, the last page without next', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const { status, body } = await list(
          `?limit=4${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        );
        assert.equal(status, 200);
        assert.equal(body.total, recorded.length);
        assert.ok(body.runs.length <= 4);
        seen.push(...body.runs.map((run) => run.id));
        cursor = body.next;
        pages++;
      } while (cursor !== undefined && pages < 10);
      assert.equal(pages, Math.ceil(recorded.length / 4));
      assert.deepEqual(seen, [...recorded].reverse());
    });

    it('filters by status, as people see it, with paging', async () => {
      const failed = await list('?status=failed');
      const failedIds = ['failed-run', ...small.filter((run) => run.fails).map((run) => run.id)];
      assert.deepEqual(failed.body.runs.map((run) => run.id).sort(), failedIds.sort());
      assert.equal(failed.body.total, failedIds.length);
      const firstTwo = await list('?status=failed&limit=2');
      assert.equal(firstTwo.body.runs.length, 2);
      assert.equal(firstTwo.body.total, failedIds.length);
      const rest = await list(`?status=failed&limit=2&cursor=${firstTwo.body.next}`);
      assert.deepEqual(
        [...firstTwo.body.runs, ...rest.body.runs].map((run) => run.id),
        failed.body.runs.map((run) => run.id).slice(0, 4),
      );
      const stopped = await list('?status=stopped');
      assert.deepEqual(
        stopped.body.runs.map((run) => run.id),
        ['stopped-run'],
      );
      assert.equal(stopped.body.total, 1);
      const running = await list('?status=running');
      assert.deepEqual(running.body, { runs: [], total: 0 });
      const completed = await list('?status=completed');
      assert.equal(completed.body.total, recorded.length - failedIds.length - 1);
      assert.ok(completed.body.runs.every((run) => run.status === 'completed'));
    });

    it('filters by text in the id or the meta, ignoring case, taken literally', async () => {
      const alpha = await list('?q=ALPHA.ts');
      const alphaIds = small.filter((run) => run.file.includes('alpha')).map((run) => run.id);
      assert.deepEqual(alpha.body.runs.map((run) => run.id).sort(), alphaIds.sort());
      assert.equal(alpha.body.total, alphaIds.length);
      const byId = await list('?q=flow-r');
      assert.deepEqual(
        byId.body.runs.map((run) => run.id),
        ['flow-run'],
      );
      const both = await list('?q=beta&status=failed');
      assert.deepEqual(
        both.body.runs.map((run) => run.id).sort(),
        small
          .filter((run) => run.fails && run.file.includes('beta'))
          .map((run) => run.id)
          .sort(),
      );
      // % and _ are not patterns.
      assert.equal((await list('?q=%25')).body.total, 0);
      assert.equal((await list('?q=small_')).body.total, 0);
    });

    it('answers 400 naming the parameter and what it takes', async () => {
      assertError(await list('?limit=0'), 400, 'WEFT_UI_BAD_PARAMETER', /'limit'.*1 to 200.*'0'/);
      assertError(await list('?limit=201'), 400, 'WEFT_UI_BAD_PARAMETER', /'limit'/);
      assertError(await list('?limit=ten'), 400, 'WEFT_UI_BAD_PARAMETER', /'limit'.*'ten'/);
      assertError(
        await list('?status=done'),
        400,
        'WEFT_UI_BAD_PARAMETER',
        /'status'.*running, completed, failed, interrupted, stopped.*'done'/,
      );
      assertError(
        await list('?cursor=not-a-cursor'),
        400,
        'WEFT_UI_BAD_PARAMETER',
        /'cursor'.*next/,
      );
      assertError(await list(`?q=${'x'.repeat(201)}`), 400, 'WEFT_UI_BAD_PARAMETER', /'q'/);
    });

    it('answers 404 for an unknown run, whatever its id', async () => {
      const hostile = [
        'no-such-run',
        '../app-run',
        '..%2Fapp-run',
        `app-run'--`,
        'app-run"; DROP TABLE runs; --',
        '%00',
        'app-run%00',
        '%ED%A0%80',
        'x'.repeat(5_000),
        `${'é'.repeat(600)}`,
      ];
      for (const id of hostile) {
        const path = `/api/runs/${id.startsWith('%') || id.includes('%') ? id : encodeURIComponent(id)}`;
        for (const suffix of ['', '/tasks', '/timeline', '/events', '/layers/Shard']) {
          assertError(
            await getJson(app, `${path}${suffix}`),
            404,
            'WEFT_UI_NOT_FOUND',
            /^No run '.*' in this store\.$/s,
          );
        }
      }
      // The runs are all still there.
      assert.equal((await list()).body.total, recorded.length);
    });

    it('answers 404 for an unknown route and 405 for a write', async () => {
      assertError(await getJson(app, '/api/nothing'), 404, 'WEFT_UI_NOT_FOUND', /No route/);
      assertError(
        await getJson(app, '/api/runs/app-run/nothing'),
        404,
        'WEFT_UI_NOT_FOUND',
        /No route/,
      );
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const response = await app.request('/api/runs/app-run', { method });
        assert.equal(response.status, 405);
        const body = (await response.json()) as { error: { code: string } };
        assert.equal(body.error.code, 'WEFT_UI_READ_ONLY');
      }
      assert.ok(await store.getRun('app-run'));
    });
  });
}

/** Twenty buckets summing to the run's task count. */
function assertSparkline(run: RunSummary): void {
  assert.equal(run.sparkline.length, 20);
  assert.equal(
    run.sparkline.reduce((sum, n) => sum + n, 0),
    run.tasks.completed + run.tasks.failed,
  );
}
