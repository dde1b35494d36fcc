/** The slowest tasks and the sums per task name. */
import type { TaskNameStats, TaskView } from '../../../src/ui/api-types.ts';
import { num, TableHead } from '../components/table-head.tsx';
import { TaskCells } from '../components/task-cells.tsx';
import { formatCount, formatDuration } from '../format.ts';

export function SlowestTasks({ tasks }: { readonly tasks: readonly TaskView[] }) {
  if (tasks.length === 0) return <p class="muted">No tasks yet.</p>;
  return (
    <table class="compact">
      <caption>Slowest tasks</caption>
      <TableHead columns={['Task', 'Key', 'Status', num('Duration')]} />
      <tbody>
        {tasks.map((task) => (
          <tr key={task.key}>
            <TaskCells task={task} />
            <td class="num">{formatDuration(task.durationMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function TaskNameTable({ stats }: { readonly stats: readonly TaskNameStats[] }) {
  if (stats.length === 0) return null;
  const sorted = [...stats].sort((a, b) => b.totalMs - a.totalMs);
  const all = sorted.reduce((sum, row) => sum + row.totalMs, 0) || 1;
  return (
    <table class="compact">
      <caption>Per task name</caption>
      <TableHead
        columns={[
          'Task',
          num('Completed'),
          num('Failed'),
          num('Total time'),
          num('Mean'),
          num('Max'),
        ]}
      />
      <tbody>
        {sorted.map((row) => {
          const count = row.completed + row.failed;
          return (
            <tr key={row.task}>
              <td>{row.task}</td>
              <td class="num">{formatCount(row.completed)}</td>
              <td class={`num${row.failed > 0 ? ' bad' : ''}`}>{formatCount(row.failed)}</td>
              <td class="num">
                {formatDuration(row.totalMs)}{' '}
                <span class="muted">({Math.round((row.totalMs / all) * 100)}%)</span>
              </td>
              <td class="num">{count > 0 ? formatDuration(row.totalMs / count) : '–'}</td>
              <td class="num">{formatDuration(row.maxMs)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
