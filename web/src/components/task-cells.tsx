/** The cells that name a task in the page's task tables: its name, key and status. */
import type { TaskView } from '../../../src/ui/api-types.ts';
import { StatusBadge } from './status-badge.tsx';

export function TaskCells({ task }: { readonly task: TaskView }) {
  return (
    <>
      <td>{task.task}</td>
      <td class="mono key" title={task.key}>
        {task.key}
      </td>
      <td>
        <StatusBadge status={task.status} />
      </td>
    </>
  );
}
