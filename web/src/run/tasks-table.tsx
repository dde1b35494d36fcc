/**
 * The run's tasks, one page at a time in the order recorded, filtered by status, task
 * name and fan-out. Only the page shown is held; "previous" goes back through the
 * cursors of the pages read so far.
 */
import { useState } from 'preact/hooks';
import type { FanOutView, TaskNameStats, TaskView } from '../../../src/ui/api-types.ts';
import { api, type TasksQuery } from '../api.ts';
import { FilterSelect } from '../components/filter-select.tsx';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { Pager, useCursors } from '../components/pager.tsx';
import { num, TableHead } from '../components/table-head.tsx';
import { TaskCells } from '../components/task-cells.tsx';
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
        <FilterSelect
          label="Status"
          value={filters.status}
          choices={['completed', 'failed']}
          onChange={(status) => set({ status: status as Filters['status'] })}
        />
        <FilterSelect
          label="Task"
          value={filters.task}
          choices={byTask.map((row) => row.task)}
          onChange={(task) => set({ task })}
        />
        {scopes.length > 0 && (
          <FilterSelect
            label="Fan-out"
            value={filters.scope}
            choices={scopes.map((fanOut) => ({
              value: fanOut.scope,
              label: `${fanOut.label} (${fanOut.scope})`,
            }))}
            onChange={(scope) => set({ scope })}
          />
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
  const pages = useCursors();
  const { cursor } = pages;
  const query: TasksQuery = { ...filters, limit: pageSize, cursor };
  const page = useLoad(
    (signal) => api.tasks(runId, query, signal),
    [runId, version, filters.status, filters.task, filters.scope, cursor],
  );
  if (page.data === undefined) {
    return page.error ? <ErrorNotice error={page.error} /> : <Loading what="tasks" />;
  }
  const { tasks, next } = page.data;
  const first = pages.index * pageSize;
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
      <Pager label="Pages of tasks" pages={pages} next={next} back="← Previous" forward="Next →">
        <span class="muted">
          {tasks.length > 0 ? `${formatCount(first + 1)}–${formatCount(first + tasks.length)}` : ''}
        </span>
      </Pager>
    </>
  );
}

function TaskRow({ task, index }: { readonly task: TaskView; readonly index: number }) {
  return (
    <tr>
      <td class="num muted">{index}</td>
      <TaskCells task={task} />
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
