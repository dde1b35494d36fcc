/**
 * A run's page (`/runs/:id`): its header, graphs, fan-outs, timeline, application steps,
 * failures, statistics and tasks. While the run is running the page follows its events;
 * each new read of the detail bumps `version`, which reads the timeline and the tasks
 * page again too.
 */
import { useEffect, useState } from 'preact/hooks';
import type { RunDetail } from '../../../src/ui/api-types.ts';
import { ApiError, api } from '../api.ts';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { formatCount } from '../format.ts';
import { useInterval, useLoad } from '../hooks.ts';
import { Link } from '../router.tsx';
import { AppSteps } from './app-steps.tsx';
import { FailedTasks } from './failures.tsx';
import { FanOuts } from './fan-outs.tsx';
import { type PickedLayer, RunGraphs } from './graph-view.tsx';
import { LayerPanel } from './layer-view.tsx';
import { type LiveRun, useLiveRun, withProgress } from './live.ts';
import { RunHeader } from './run-header.tsx';
import { SlowestTasks, TaskNameTable } from './task-stats.tsx';
import { TasksSection } from './tasks-table.tsx';
import { TimelineSection } from './timeline.tsx';

/** How often the detail is read while a running run's stream is not there. */
const pollMs = 5000;

export function RunPage({ id }: { readonly id: string }) {
  const [version, setVersion] = useState(0);
  const loaded = useLoad((signal) => api.run(id, signal), [id, version]);
  const detail = loaded.data;
  const running = detail?.run.status === 'running';
  const live = useLiveRun(id, running, detail, () => setVersion((n) => n + 1));
  useInterval(
    () => setVersion((n) => n + 1),
    running && (live.stream === 'failed' || live.stream === 'reconnecting') ? pollMs : null,
  );
  useEffect(() => {
    document.title = `${detail?.run.name ?? id} · weft`;
  }, [detail?.run.name, id]);

  if (detail === undefined) {
    if (loaded.error instanceof ApiError && loaded.error.status === 404) {
      return (
        <main class="page">
          <div class="notice notice-error" role="alert">
            <h1>Run not found</h1>
            <p>
              There is no run <code>{id}</code> in this store ({loaded.error.message}).
            </p>
            <p>
              <Link href="/">← Back to the runs</Link>
            </p>
          </div>
        </main>
      );
    }
    return (
      <main class="page">
        {loaded.error !== undefined ? (
          <ErrorNotice error={loaded.error}>
            <p>
              <Link href="/">← Back to the runs</Link>
            </p>
          </ErrorNotice>
        ) : (
          <Loading what={`run ${id}`} />
        )}
      </main>
    );
  }
  return <RunView detail={detail} live={live} version={version} error={loaded.error} />;
}

function RunView({
  detail,
  live,
  version,
  error,
}: {
  readonly detail: RunDetail;
  readonly live: LiveRun;
  readonly version: number;
  readonly error: unknown;
}) {
  const { run } = detail;
  const [layer, setLayer] = useState<PickedLayer>();
  // A link to a section (`/runs/x#timeline`) lands there once the sections exist.
  useEffect(() => {
    const id = decodeURIComponent(window.location.hash.slice(1));
    if (id !== '') document.getElementById(id)?.scrollIntoView();
  }, []);
  const status = live.end?.status ?? live.progress?.status ?? run.status;
  const tasks =
    live.progress &&
    live.progress.tasks.completed + live.progress.tasks.failed >=
      run.tasks.completed + run.tasks.failed
      ? live.progress.tasks
      : run.tasks;
  const fanOuts = withProgress(detail.fanOuts, live.progress);
  const sections = [
    { id: 'graph', title: 'Graph', shown: detail.graphs.length > 0 },
    { id: 'fan-outs', title: 'Fan-outs', shown: true },
    { id: 'timeline', title: 'Timeline', shown: true },
    { id: 'steps', title: 'Steps', shown: detail.apps.length > 0 },
    { id: 'failures', title: `Failures (${formatCount(tasks.failed)})`, shown: true },
    { id: 'stats', title: 'Stats', shown: true },
    { id: 'tasks', title: 'Tasks', shown: true },
  ].filter((section) => section.shown);
  return (
    <main class="page run-page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/">Runs</Link> <span aria-hidden="true">/</span>{' '}
        <span class="mono">{run.id}</span>
      </nav>
      {error !== undefined && <ErrorNotice error={error} />}
      <RunHeader run={run} status={status} tasks={tasks} stream={live.stream} />
      <nav class="sections" aria-label="Sections">
        {sections.map((section) => (
          <a key={section.id} href={`#${section.id}`}>
            {section.title}
          </a>
        ))}
      </nav>
      {detail.graphs.length > 0 && (
        <section id="graph" aria-labelledby="graph-title">
          <h2 id="graph-title">Graph</h2>
          <RunGraphs graphs={detail.graphs} selectedLayer={layer} onSelectLayer={setLayer} />
          {layer !== undefined && (
            <LayerPanel runId={run.id} layer={layer} onClose={() => setLayer(undefined)} />
          )}
        </section>
      )}
      <section id="fan-outs" aria-labelledby="fan-outs-title">
        <h2 id="fan-outs-title">Fan-outs</h2>
        <FanOuts fanOuts={fanOuts} />
      </section>
      <section id="timeline" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Timeline</h2>
        <TimelineSection runId={run.id} version={version} />
      </section>
      {detail.apps.length > 0 && (
        <section id="steps" aria-labelledby="steps-title">
          <h2 id="steps-title">Application steps</h2>
          {detail.appsTotal !== undefined && detail.appsTotal > detail.apps.length && (
            <p class="muted">
              Showing the first {formatCount(detail.apps.length)} of {formatCount(detail.appsTotal)}{' '}
              applications.
            </p>
          )}
          <AppSteps runId={run.id} apps={detail.apps} />
        </section>
      )}
      <section id="failures" aria-labelledby="failures-title">
        <h2 id="failures-title">Failed tasks</h2>
        {tasks.failed > detail.failedTasks.length && detail.failedTasks.length > 0 && (
          <p class="muted">
            The first {formatCount(detail.failedTasks.length)} of {formatCount(tasks.failed)}{' '}
            failures; the tasks table below lists them all.
          </p>
        )}
        <FailedTasks tasks={detail.failedTasks} />
      </section>
      <section id="stats" aria-labelledby="stats-title" class="stats">
        <h2 id="stats-title">Stats</h2>
        <div class="columns">
          <SlowestTasks tasks={detail.slowestTasks} />
          <TaskNameTable stats={detail.byTask} />
        </div>
      </section>
      <section id="tasks" aria-labelledby="tasks-title">
        <h2 id="tasks-title">Tasks</h2>
        <TasksSection
          runId={run.id}
          version={version}
          byTask={detail.byTask}
          fanOuts={detail.fanOuts}
        />
      </section>
    </main>
  );
}
