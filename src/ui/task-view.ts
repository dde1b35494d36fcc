/** A task record as the API shows it: without its output. */
import type { TaskRecord } from '../core/store.ts';
import type { TaskView } from './api-types.ts';

export function taskView(task: TaskRecord): TaskView {
  return {
    key: task.key,
    task: task.task,
    status: task.status,
    attempts: task.attempts,
    startedAt: task.startedAt,
    durationMs: task.durationMs,
    queuedMs: task.queuedMs ?? 0,
    ...(task.error === undefined ? {} : { error: task.error }),
  };
}
