/** How times, durations and counts read on the page. */

const numberFormat = new Intl.NumberFormat();

export function formatCount(value: number): string {
  return numberFormat.format(value);
}

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 48 * 60) {
    return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
  }
  return `${Math.floor(minutes / 1440)} d ${Math.floor((minutes % 1440) / 60)} h`;
}

/** The full local date and time, for titles and headers. */
export function formatTime(time: number): string {
  return new Date(time).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "just now", "42 seconds ago", "5 minutes ago", "yesterday"… */
export function formatRelative(time: number, now: number): string {
  const seconds = Math.round((time - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 5) return 'just now';
  if (abs < 60) return relativeFormat.format(seconds, 'second');
  if (abs < 3600) return relativeFormat.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relativeFormat.format(Math.round(seconds / 3600), 'hour');
  if (abs < 30 * 86_400) return relativeFormat.format(Math.round(seconds / 86_400), 'day');
  return new Date(time).toLocaleDateString();
}

/** A "+1.5 s" offset from the start of a time axis, rounded to the step between ticks. */
export function formatOffset(ms: number, stepMs: number): string {
  if (stepMs < 1000) return `${Math.round(ms)} ms`;
  if (stepMs < 60_000) return `${(ms / 1000).toFixed(stepMs % 1000 === 0 ? 0 : 1)} s`;
  if (stepMs < 3_600_000) return `${(ms / 60_000).toFixed(stepMs % 60_000 === 0 ? 0 : 1)} min`;
  return `${(ms / 3_600_000).toFixed(stepMs % 3_600_000 === 0 ? 0 : 1)} h`;
}

/** A meta value as one line: strings as they are, lists space-separated, the rest as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return value.length === 0 ? '(none)' : value.join(' ');
  }
  return JSON.stringify(value) ?? String(value);
}
