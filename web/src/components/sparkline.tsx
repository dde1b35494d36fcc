/**
 * A run's progress over its time: the share of its tasks finished by each twentieth of
 * it, rising to the right (from RunSummary.sparkline, tasks finished per twentieth).
 */
export function Sparkline({ values }: { readonly values: readonly number[] }) {
  if (values.length === 0) return <span class="muted">–</span>;
  const width = 80;
  const height = 18;
  const total = values.reduce((sum, value) => sum + value, 0);
  if (total === 0) return <span class="muted">–</span>;
  const step = width / values.length;
  let done = 0;
  const points = [`0,${height}`];
  values.forEach((value, index) => {
    done += value;
    points.push(
      `${((index + 1) * step).toFixed(1)},${(height - (done / total) * (height - 2)).toFixed(1)}`,
    );
  });
  return (
    <svg
      class="sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Tasks finished over the run's time, per twentieth: ${values.join(', ')}`}
    >
      <title>Tasks finished per twentieth of the run: {values.join(' ')}</title>
      <polygon class="sparkline-area" points={`${points.join(' ')} ${width},${height}`} />
      <polyline class="sparkline-line" points={points.join(' ')} />
    </svg>
  );
}
