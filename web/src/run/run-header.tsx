/** A run's header: name, id, status, times, attempts, what it ran with, and its error. */
import type { RunDetail, RunStatusView } from '../../../src/ui/api-types.ts';
import { ErrorChain } from '../components/error-chain.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatCount, formatDuration, formatRelative, formatTime, formatValue } from '../format.ts';
import { useNow } from '../hooks.ts';
import type { StreamState } from './live.ts';
import { ResumeCommand } from './resume-command.tsx';

const streamWords: Record<StreamState, string> = {
  off: '',
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  ended: '',
  failed: 'no live stream: reading now and then',
};

export function RunHeader({
  run,
  status,
  tasks,
  stream,
}: {
  readonly run: RunDetail['run'];
  /** The live status, newer than the detail's. */
  readonly status: RunStatusView;
  readonly tasks: RunDetail['run']['tasks'];
  readonly stream: StreamState;
}) {
  const running = status === 'running';
  const now = useNow(running ? 1000 : 30_000);
  const duration = running ? Math.max(run.durationMs, now - run.createdAt) : run.durationMs;
  const meta = Object.entries(run.meta);
  return (
    <header class="run-header">
      <div class="run-title">
        <h1>{run.name}</h1>
        <StatusBadge status={status} testId="run-status" />
        <span class="kind">{run.kind}</span>
        {streamWords[stream] !== '' && (
          <span class={`stream stream-${stream}`} aria-live="polite">
            {streamWords[stream]}
          </span>
        )}
      </div>
      <dl class="facts">
        <div>
          <dt>Run id</dt>
          <dd class="mono">{run.id}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <time
              dateTime={new Date(run.createdAt).toISOString()}
              title={formatTime(run.createdAt)}
            >
              {formatTime(run.createdAt)}
            </time>{' '}
            <span class="muted">({formatRelative(run.createdAt, now)})</span>
          </dd>
        </div>
        <div>
          <dt>{running ? 'Last update' : 'Ended'}</dt>
          <dd>
            <time dateTime={new Date(run.updatedAt).toISOString()}>
              {formatTime(run.updatedAt)}
            </time>
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(duration)}</dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd>{run.attempts}</dd>
        </div>
        <div>
          <dt>Tasks</dt>
          <dd>
            <span class="ok">{formatCount(tasks.completed)} completed</span>
            {tasks.failed > 0 && <span class="bad"> · {formatCount(tasks.failed)} failed</span>}
          </dd>
        </div>
        {meta.map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd class="mono meta-value">{formatValue(value)}</dd>
          </div>
        ))}
      </dl>
      {run.resumeCommand && status !== 'completed' && <ResumeCommand command={run.resumeCommand} />}
      {run.error && (
        <div class="run-error">
          <h2 class="visually-hidden">Run error</h2>
          <ErrorChain error={run.error} />
        </div>
      )}
    </header>
  );
}
