/** The run's failed tasks (the first ones the server keeps), each with its cause chain. */
import type { TaskView } from '../../../src/ui/api-types.ts';
import { ErrorChain } from '../components/error-chain.tsx';
import { formatDuration, formatTime } from '../format.ts';

export function FailedTasks({ tasks }: { readonly tasks: readonly TaskView[] }) {
  if (tasks.length === 0) return <p class="muted">No task failed.</p>;
  return (
    <ul class="failures">
      {tasks.map((task) => (
        <li key={task.key} class="failure">
          <div class="failure-head">
            <strong>{task.task}</strong> <code class="muted">{task.key}</code>
            <span class="muted small-text">
              {' '}
              · {task.attempts} {task.attempts === 1 ? 'attempt' : 'attempts'} ·{' '}
              {formatDuration(task.durationMs)} ·{' '}
              <time dateTime={new Date(task.startedAt).toISOString()}>
                {formatTime(task.startedAt)}
              </time>
            </span>
          </div>
          <div data-testid="task-error">
            {task.error ? (
              <ErrorChain error={task.error} />
            ) : (
              <p class="muted">No error was recorded.</p>
            )}
          </div>
        </li>
      ))}
    </ul>
  );
}
