/**
 * `weft ui`'s view of one run, over runs weft recorded in SQLite, PostgreSQL and a store
 * without fast queries: the detail of an application, a flow and a failed map (fan-outs
 * with counts, graphs, steps, failures with causes, slowest tasks, the resume command),
 * task pages (pages join up, filters), the timeline (lanes, sampling), a state at a step,
 * a layer's attributes, and artifacts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asyncPool, type Store } from 'weftjs';
import type {
  ArtifactsPage,
  LayerView,
  RunDetail,
  StateAtStep,
  TasksPage,
  TaskView,
  Timeline,
} from '../../src/ui/api-types.ts';
import { createUiApp } from '../../src/ui/server.ts';
import { shellWord } from '../../src/ui/shell-word.ts';
import {
  assertError,
  getJson,
  recordAppRun,
  recordFailedRun,
  recordFlowRun,
  recordStoppedRun,
  recordWideRun,
  storeCases,
} from './support.ts';

const executor = asyncPool({ concurrency: 2 });
/** Tasks of the wide run: more than a store's page of the slowest holds. */
const wideTasks = 1_100;
after(() => executor.close());

for (const { name, open } of storeCases('run')) {
  describe(`weft ui: a run (${name})`, () => {
    let store: Store;
    let app: ReturnType<typeof createUiApp>;

    before(async () => {
      store = await open();
      app = createUiApp(store);
      await recordAppRun(store, 'app-run', 'run-app');
      await recordFlowRun(store, 'flow-run', 'RunFlow', executor);
      await recordFailedRun(store, 'failed-run', executor);
      await recordStoppedRun(store, 'stopped-run');
      await recordWideRun(store, 'wide-run', wideTasks, executor);
    });
    after(() => store?.close());

    const allTasks = async (id: string) => {
      const tasks: TaskView[] = [];
      let cursor: string | undefined;
      do {
        const page = await getJson<TasksPage>(
          app,
          `/api/runs/${id}/tasks?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
        );
        tasks.push(...page.body.tasks);
        cursor = page.body.next;
      } while (cursor !== undefined);
      return tasks;
    };

    const detail = async (id: string) => {
      const answer = await getJson<RunDetail>(app, `/api/runs/${id}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body;
    };

    it("an application's run: its graph, steps, sub-applications and fan-out", async () => {
      const { run, graphs, apps, fanOuts, byTask, failedTasks } = await detail('app-run');
      assert.equal(run.kind, 'app');
      assert.equal(run.status, 'completed');
      assert.equal(run.resumeCommand, undefined);
      assert.deepEqual(run.meta, { file: '/jobs/app-job.ts', args: [] });
      const graph = graphs.find((g) => g.kind === 'app' && g.id === 'run-app');
      assert.ok(graph, JSON.stringify(graphs));
      assert.deepEqual(
        graph.nodes.map((node) => [node.id, node.status]),
        [
          ['start', 'completed'],
          ['fanOut', 'completed'],
          ['done', 'completed'],
        ],
      );
      assert.deepEqual(
        graph.edges.map((edge) => [edge.from, edge.to, edge.taken]),
        [
          ['start', 'fanOut', true],
          ['fanOut', 'done', true],
        ],
      );
      const [top, ...subs] = apps;
      assert.equal(top?.appId, 'run-app');
      assert.equal(top.status, 'completed');
      assert.deepEqual(
        top.steps.map((step) => [step.sequenceId, step.action, step.hasState]),
        [
          [0, 'start', true],
          [1, 'fanOut', true],
          [2, 'done', true],
        ],
      );
      assert.equal(subs.length, 3);
      for (const sub of subs) {
        assert.equal(sub.parentAppId, 'run-app');
        assert.equal(sub.parentSequenceId, 1);
        assert.deepEqual(
          sub.steps.map((step) => step.action),
          ['step'],
        );
      }
      assert.equal(fanOuts.length, 1);
      assert.equal(fanOuts[0]!.kind, 'map');
      assert.equal(fanOuts[0]!.label, 'fanOut');
      assert.equal(fanOuts[0]!.total, 3);
      assert.deepEqual(fanOuts[0]!.tasks, { completed: 3, failed: 0 });
      assert.ok(fanOuts[0]!.endedAt! >= fanOuts[0]!.startedAt);
      assert.deepEqual(
        byTask.map((sum) => [sum.completed, sum.failed]),
        [[3, 0]],
      );
      assert.deepEqual(failedTasks, []);
    });

    it("a flow's run: its layers, nested fan-outs and their counts", async () => {
      const { run, graphs, fanOuts, byTask } = await detail('flow-run');
      assert.equal(run.kind, 'flow');
      assert.equal(run.name, 'RunFlow');
      const graph = graphs.find((g) => g.kind === 'flow');
      assert.ok(graph, JSON.stringify(graphs));
      assert.equal(graph.id, 'RunFlow');
      assert.deepEqual(
        graph.nodes.map((node) => [node.id, node.status]),
        [
          ['Shard', 'completed'],
          ['Process', 'completed'],
          ['Join', 'completed'],
        ],
      );
      const dag = fanOuts.find((fanOut) => fanOut.kind === 'dag')!;
      assert.equal(dag.scope, 'flow-run/flow:RunFlow');
      assert.equal(dag.total, 3);
      // Its nodes leave no records: each layer it ran counts once its map ended.
      assert.deepEqual(dag.tasks, { completed: 3, failed: 0 });
      const layers = fanOuts.filter((fanOut) => fanOut.parent === dag.scope);
      assert.deepEqual(
        layers.map((layer) => [layer.label, layer.tasks.completed, layer.hidden]),
        [
          ['Shard', 1, true],
          ['Process', 3, false],
          ['Join', 1, true],
        ],
      );
      assert.deepEqual(
        byTask.map((sum) => [sum.task, sum.completed]),
        [
          ['Join', 1],
          ['Process', 3],
          ['Shard', 1],
        ],
      );
    });

    it('a failed run: its error, the failed tasks with their causes, how to resume', async () => {
      const { run, failedTasks, slowestTasks, fanOuts } = await detail('failed-run');
      assert.equal(run.status, 'failed');
      assert.equal(run.error?.message, 'item 3 is too big');
      assert.equal(run.error?.cause?.message, 'limit is 2');
      const url = store.kind === 'sqlite' ? `sqlite:${store.location}` : store.location;
      const expected = `weft resume failed-run --store ${shellWord(url)}`;
      assert.equal(run.resumeCommand, expected);
      assert.deepEqual(
        failedTasks.map((task) => task.key).sort(),
        [2, 3, 4].map((i) => `failed-run/map:ui:failOnThree/${i}`),
      );
      for (const task of failedTasks) {
        assert.equal(task.status, 'failed');
        assert.match(task.error?.message ?? '', /^item \d is too big$/);
        assert.equal(task.error?.cause?.name, 'RangeError');
        assert.equal(task.error?.cause?.message, 'limit is 2');
      }
      assert.equal(slowestTasks.length, 5);
      for (let i = 1; i < slowestTasks.length; i++) {
        assert.ok(slowestTasks[i - 1]!.durationMs >= slowestTasks[i]!.durationMs);
      }
      assert.deepEqual(fanOuts[0]!.tasks, { completed: 2, failed: 3 });
    });

    it('a stopped run shows as stopped, with the command that resumes it', async () => {
      const { run, fanOuts } = await detail('stopped-run');
      assert.equal(run.status, 'stopped');
      assert.match(run.resumeCommand ?? '', /^weft resume stopped-run --store /);
      assert.deepEqual(fanOuts, []);
    });

    it("pages a run's tasks: pages join up; filters by status, name and scope", async () => {
      const tasks = (query: string) =>
        getJson<TasksPage>(app, `/api/runs/failed-run/tasks${query}`);
      const all = (await tasks('')).body.tasks.map((task) => task.key);
      assert.equal(all.length, 5);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const { status, body } = await tasks(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(status, 200);
        assert.ok(body.tasks.length <= 2);
        seen.push(...body.tasks.map((task) => task.key));
        cursor = body.next;
      } while (cursor !== undefined && seen.length < 10);
      assert.deepEqual(seen, all);
      const failed = (await tasks('?status=failed&limit=2')).body;
      assert.equal(failed.tasks.length, 2);
      assert.ok(failed.tasks.every((task) => task.status === 'failed' && task.error));
      const more = (await tasks(`?status=failed&limit=2&cursor=${failed.next}`)).body;
      assert.equal(more.tasks.length, 1);
      assert.equal(more.next, undefined);
      assert.equal((await tasks('?task=ui:failOnThree')).body.tasks.length, 5);
      assert.equal((await tasks('?task=other')).body.tasks.length, 0);
      const process = await getJson<TasksPage>(
        app,
        `/api/runs/flow-run/tasks?scope=${encodeURIComponent('flow-run/flow:RunFlow/Process/task')}`,
      );
      // In the order recorded, which is the order they finished in: the store's own.
      const recorded: string[] = [];
      for await (const task of store.streamTasks('flow-run', { outputs: false })) {
        if (task.key.startsWith('flow-run/flow:RunFlow/Process/task/')) recorded.push(task.key);
      }
      assert.deepEqual(
        [...recorded].sort(),
        [0, 1, 2].map((i) => `flow-run/flow:RunFlow/Process/task/${i}`),
      );
      assert.deepEqual(
        process.body.tasks.map((task) => task.key),
        recorded,
      );
      assertError(await tasks('?status=done'), 400, 'WEFT_UI_BAD_PARAMETER', /'status'/);
      assertError(await tasks('?limit=1001'), 400, 'WEFT_UI_BAD_PARAMETER', /'limit'/);
      assertError(await tasks('?cursor=-1'), 400, 'WEFT_UI_BAD_PARAMETER', /'cursor'/);
    });

    it('lays tasks out on lanes, and samples the longest past the limit', async () => {
      const { status, body } = await getJson<Timeline>(app, '/api/runs/flow-run/timeline');
      assert.equal(status, 200);
      assert.equal(body.total, 5);
      assert.equal(body.sampled, false);
      assert.equal(body.tasks.length, 5);
      assertLanes(body);
      const all = (await getJson<TasksPage>(app, '/api/runs/failed-run/tasks')).body.tasks;
      const longest = [...all].sort((a, b) => b.durationMs - a.durationMs).slice(0, 2);
      const sampled = (await getJson<Timeline>(app, '/api/runs/failed-run/timeline?limit=2')).body;
      assert.equal(sampled.sampled, true);
      assert.equal(sampled.total, 5);
      assert.deepEqual(
        sampled.tasks.map((task) => task.durationMs).sort((a, b) => b - a),
        longest.map((task) => task.durationMs),
      );
      assertLanes(sampled);
      // Past what a store's page of the slowest holds, the longest are read from all the tasks.
      const wide = (await getJson<Timeline>(app, '/api/runs/wide-run/timeline?limit=1050')).body;
      assert.equal(wide.sampled, true);
      assert.equal(wide.total, wideTasks);
      assert.equal(wide.tasks.length, 1050);
      assertLanes(wide);
      const shown = new Set(wide.tasks.map((task) => task.key));
      const left = (await allTasks('wide-run')).filter((task) => !shown.has(task.key));
      assert.equal(left.length, wideTasks - 1050);
      const shortestShown = Math.min(...wide.tasks.map((task) => task.durationMs));
      assert.ok(left.every((task) => task.durationMs <= shortestShown));
      const empty = (await getJson<Timeline>(app, '/api/runs/stopped-run/timeline')).body;
      assert.deepEqual([empty.tasks, empty.lanes, empty.total], [[], 0, 0]);
      assertError(
        await getJson(app, '/api/runs/flow-run/timeline?limit=10001'),
        400,
        'WEFT_UI_BAD_PARAMETER',
        /'limit'.*1 to 10000/,
      );
    });

    it('shows the state after a step, and what changed since the step before', async () => {
      const state = (query: string, appId = 'run-app') =>
        getJson<StateAtStep>(app, `/api/runs/app-run/apps/${appId}/state${query}`);
      const first = await state('?sequenceId=0');
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(first.body.state, { xs: [1, 2, 3], phase: 'started' });
      assert.deepEqual([...first.body.changed].sort(), ['phase', 'xs']);
      const second = (await state('?sequenceId=1&partitionKey=')).body;
      assert.equal(second.position, 'fanOut');
      assert.deepEqual(second.state, { xs: [1, 2, 3], phase: 'started', ys: [10, 20, 30] });
      assert.deepEqual(second.changed, ['ys']);
      assert.deepEqual(second.removed, []);
      assert.deepEqual((await state('?sequenceId=2')).body.changed, ['phase']);
      assertError(await state('?sequenceId=9'), 404, 'WEFT_UI_NOT_FOUND', /step 9/);
      assertError(await state('?sequenceId=0', 'nobody'), 404, 'WEFT_UI_NOT_FOUND', /nobody/);
      assertError(
        await state('?sequenceId=0&partitionKey=other'),
        404,
        'WEFT_UI_NOT_FOUND',
        /partition 'other'/,
      );
      assertError(await state(''), 400, 'WEFT_UI_BAD_PARAMETER', /'sequenceId' is required/);
      assertError(await state('?sequenceId=-1'), 400, 'WEFT_UI_BAD_PARAMETER', /'sequenceId'/);
      // The application's states are not another run's.
      assertError(
        await getJson(app, '/api/runs/flow-run/apps/run-app/state?sequenceId=0'),
        404,
        'WEFT_UI_NOT_FOUND',
        /No application 'run-app' in run 'flow-run'/,
      );
    });

    it("shows a layer's attributes and each shard's length", async () => {
      const layer = (name: string) => getJson<LayerView>(app, `/api/runs/flow-run/layers/${name}`);
      const shard = await layer('Shard');
      assert.equal(shard.status, 200, JSON.stringify(shard.body));
      assert.deepEqual(shard.body, {
        flow: 'RunFlow',
        layer: 'Shard',
        tasks: 1,
        completed: 1,
        foreach: false,
        attributes: [
          { name: 'bar', kind: 'value' },
          { name: 'foo', kind: 'shard', lengths: [3] },
        ],
      });
      const processed = (await layer('Process')).body;
      assert.equal(processed.tasks, 3);
      assert.equal(processed.foreach, true);
      assert.deepEqual(processed.attributes, [{ name: 'v', kind: 'value' }]);
      assertError(await layer('Nothing'), 404, 'WEFT_UI_NOT_FOUND', /No layer 'Nothing'/);
      assertError(
        await getJson(app, '/api/runs/app-run/layers/Shard'),
        404,
        'WEFT_UI_NOT_FOUND',
        /No layer/,
      );
    });

    it("lists a run's artifacts a page at a time and serves one's bytes", async () => {
      const keys: string[] = [];
      for await (const key of store.artifactKeys('flow-run')) keys.push(key);
      keys.sort();
      assert.ok(keys.length >= 8);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const { status, body } = await getJson<ArtifactsPage>(
          app,
          `/api/runs/flow-run/artifacts?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.equal(status, 200);
        seen.push(...body.keys);
        cursor = body.next;
      } while (cursor !== undefined && seen.length < 100);
      assert.deepEqual(seen, keys);
      const shards = await getJson<ArtifactsPage>(
        app,
        '/api/runs/flow-run/artifacts?prefix=RunFlow/Shard/0/foo/',
      );
      assert.deepEqual(
        shards.body.keys,
        [0, 1, 2].map((i) => `RunFlow/Shard/0/foo/${i}`),
      );
      const response = await app.request(
        `/api/runs/flow-run/artifacts/${encodeURIComponent('RunFlow/Shard/0/bar')}`,
      );
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/octet-stream');
      const stored = await store.getArtifact('flow-run', 'RunFlow/Shard/0/bar');
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), new Uint8Array(stored!));
      // The key may come with its slashes as they are.
      assert.equal(
        (await app.request('/api/runs/flow-run/artifacts/RunFlow/Shard/0/foo/1')).status,
        200,
      );
      assertError(
        await getJson(app, '/api/runs/flow-run/artifacts/RunFlow%2Fnothing'),
        404,
        'WEFT_UI_NOT_FOUND',
        /No artifact 'RunFlow\/nothing'/,
      );
      assertError(
        await getJson(app, '/api/runs/flow-run/artifacts?cursor=%25%25'),
        400,
        'WEFT_UI_BAD_PARAMETER',
        /'cursor'/,
      );
    });
  });
}

/** Every task on a lane below `lanes`, and no two tasks of a lane overlapping. */
function assertLanes(timeline: Timeline): void {
  const byLane = new Map<number, { startedAt: number; durationMs: number }[]>();
  for (const task of timeline.tasks) {
    assert.ok(task.lane >= 0 && task.lane < timeline.lanes);
    assert.ok(task.startedAt >= timeline.from && task.startedAt + task.durationMs <= timeline.to);
    byLane.set(task.lane, [...(byLane.get(task.lane) ?? []), task]);
  }
  for (const tasks of byLane.values()) {
    tasks.sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < tasks.length; i++) {
      assert.ok(tasks[i - 1]!.startedAt + tasks[i - 1]!.durationMs <= tasks[i]!.startedAt);
    }
  }
}
