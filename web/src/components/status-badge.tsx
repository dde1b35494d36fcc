/** A coloured badge for a run's, a task's or a node's status; the text is the status itself. */
export function StatusBadge({
  status,
  testId,
}: {
  readonly status: string;
  /** `run-status` for a run's own status. */
  readonly testId?: string;
}) {
  return (
    <span class={`badge status-${status}`} data-testid={testId}>
      {status}
    </span>
  );
}
