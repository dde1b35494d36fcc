/**
 * The run's tasks, one page at a time in the order recorded, filtered by status, task
 * name and fan-out. Only the page shown is held; "previous" goes back through the
 * cursors of the pages read so far.
 */
import { useState } from 'preact/hooks';
import type { FanOutView, TaskNameStats, TaskView } from '../../../src/ui/api-types.ts';
import { api, type TasksQuery } from '../api.ts';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { num, TableHead } from '../components/table-head.tsx';
import { formatCount, formatDuration, formatTime } from '../format.ts';
import { useLoad } from '../hooks.ts';

const pageSize = 50;

interface Filters {
  readonly status: '' | 'completed' | 'failed';
  readonly task: string;
  readonly scope: string;
}

export function TasksSection({
  runId,
  version,
  byTask,
  fanOuts,
}: {
  readonly runId: string;
  readonly version: number;
  readonly byTask: readonly TaskNameStats[];
  readonly fanOuts: readonly FanOutView[];
}) {
  const [filters, setFilters] = useState<Filters>({ status: '', task: '', scope: '' });
  const set = (change: Partial<Filters>) => setFilters({ ...filters, ...change });
  const scopes = fanOuts.filter((fanOut) => !fanOut.hidden).slice(0, 500);
  return (
    <>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          Status{' '}
          <select
            value={filters.status}
            onChange={(event) => set({ status: event.currentTarget.value as Filters['status'] })}
          >
            <option value="">all</option>
            <option value="completed">completed</option>
            <option value="failed">failed</option>
          </select>
        </label>
        <label>
          Task{' '}
          <select
            value={filters.task}
            onChange={(event) => set({ task: event.currentTarget.value })}
          >
            <option value="">all</option>
            {byTask.map((row) => (
              <option key={row.task} value={row.task}>
                {row.task}
              </option>
            ))}
          </select>
        </label>
        {scopes.length > 0 && (
          <label>
            Fan-out{' '}
            <select
              value={filters.scope}
              onChange={(event) => set({ scope: event.currentTarget.value })}
            >
              <option value="">all</option>
              {scopes.map((fanOut) => (
                <option key={fanOut.scope} value={fanOut.scope}>
                  {fanOut.label} ({fanOut.scope})
                </option>
              ))}
            </select>
          </label>
        )}
      </form>
      <TasksPages
        key={`${filters.status}\n${filters.task}\n${filters.scope}`}
        runId={runId}
        version={version}
        filters={filters}
      />
    </>
  );
}

function TasksPages({
  runId,
  version,
  filters,
}: {
  readonly runId: string;
  readonly version: number;
  readonly filters: Filters;
}) {
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const query: TasksQuery = { ...filters, limit: pageSize, cursor };
  const page = useLoad(
    (signal) => api.tasks(runId, query, signal),
    [runId, version, filters.status, filters.task, filters.scope, cursor],
  );
  if (page.data === undefined) {
    return page.error ? <ErrorNotice error={page.error} /> : <Loading what="tasks" />;
  }
  const { tasks, next } = page.data;
  const first = (cursors.length - 1) * pageSize;
  return (
    <>
      {page.error !== undefined && <ErrorNotice error={page.error} />}
      <div class="table-wrap">
        <table data-testid="tasks-table" class="compact tasks-table">
          <caption class="visually-hidden">Tasks of the run, in the order recorded</caption>
          <TableHead
            columns={[
              num('#'),
              'Task',
              'Key',
              'Status',
              num('Attempts'),
              'Started',
              num('Queued'),
              num('Duration'),
              'Error',
            ]}
          />
          <tbody>
            {tasks.map((task, index) => (
              <TaskRow key={task.key} task={task} index={first + index + 1} />
            ))}
            {tasks.length === 0 && (
              <tr>
                <td colSpan={9} class="muted">
                  No tasks match.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages of tasks">
        <button
          type="button"
          disabled={cursors.length <= 1}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          ← Previous
        </button>
        <span class="muted">
          {tasks.length > 0 ? `${formatCount(first + 1)}–${formatCount(first + tasks.length)}` : ''}
        </span>
        <button
          type="button"
          disabled={next === undefined}
          onClick={() => next !== undefined && setCursors([...cursors, next])}
        >
          Next →
        </button>
      </nav>
    </>
  );
}

function TaskRow({ task, index }: { readonly task: TaskView; readonly index: number }) {
  return (
    <tr>
      <td class="num muted">{index}</td>
      <td>{task.task}</td>
      <td class="mono key" title={task.key}>
        {task.key}
      </td>
      <td>
        <StatusBadge status={task.status} />
      </td>
      <td class="num">{task.attempts}</td>
      <td>
        <time dateTime={new Date(task.startedAt).toISOString()}>{formatTime(task.startedAt)}</time>
      </td>
      <td class="num">{formatDuration(task.queuedMs)}</td>
      <td class="num">{formatDuration(task.durationMs)}</td>
      <td class="error-cell" title={task.error?.message}>
        {task.error ? `${task.error.name}: ${task.error.message}` : ''}
      </td>
    </tr>
  );
}
