/**
 * The runs list (`/`): newest first, filtered by status and a search, paged by the
 * server's cursor. Filters live in the address (a link shares them); the pages read so
 * far are a stack of cursors, so "newer" goes back without the server knowing.
 */
import { useEffect, useState } from 'preact/hooks';
import { type RunStatusView, type RunSummary, runStatuses } from '../../../src/ui/api-types.ts';
import { api } from '../api.ts';
import { FilterSelect } from '../components/filter-select.tsx';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { Pager, useCursors } from '../components/pager.tsx';
import { Sparkline } from '../components/sparkline.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { num, TableHead } from '../components/table-head.tsx';
import { formatCount, formatDuration, formatRelative, formatTime } from '../format.ts';
import { useDebounced, useInterval, useLoad, useNow } from '../hooks.ts';
import { Link, navigate, runHref } from '../router.tsx';

const pageSize = 50;
/** How often a list with a running run is read again. */
const refreshMs = 3000;

function listHref(status: string, q: string): string {
  const params = new URLSearchParams();
  if (status !== '') params.set('status', status);
  if (q !== '') params.set('q', q);
  const text = params.toString();
  return text === '' ? '/' : `/?${text}`;
}

export function RunsList({ search }: { readonly search: URLSearchParams }) {
  const status = (search.get('status') ?? '') as RunStatusView | '';
  const q = search.get('q') ?? '';
  const [typed, setTyped] = useState(q);
  const settled = useDebounced(typed, 300);
  useEffect(() => {
    document.title = 'Runs · weft';
  }, []);
  useEffect(() => {
    if (settled.trim() !== q) navigate(listHref(status, settled.trim()), true);
  }, [settled, q, status]);
  // Back and forward change the search under the box.
  useEffect(() => {
    if (typed.trim() !== q) setTyped(q);
  }, [q]);
  return (
    <main class="page">
      <div class="page-head">
        <h1>Runs</h1>
        <search class="filters">
          <FilterSelect
            label="Status"
            value={status}
            choices={runStatuses}
            onChange={(chosen) => navigate(listHref(chosen, q), true)}
          />
          <label>
            Search{' '}
            <input
              type="search"
              value={typed}
              placeholder="name, id, file…"
              onInput={(event) => setTyped(event.currentTarget.value)}
            />
          </label>
        </search>
      </div>
      {/* A new filter starts again from the newest page. */}
      <RunsPages key={`${status}\n${q}`} status={status} q={q} />
    </main>
  );
}

function RunsPages({ status, q }: { readonly status: RunStatusView | ''; readonly q: string }) {
  const pages = useCursors();
  const { cursor } = pages;
  const page = useLoad(
    (signal) => api.runs({ status, q, limit: pageSize, cursor }, signal),
    [status, q, cursor],
  );
  const now = useNow(15_000);
  const live = page.data?.runs.some((run) => run.status === 'running') ?? false;
  useInterval(page.reload, live ? refreshMs : null);

  if (page.data === undefined) {
    return page.error ? <ErrorNotice error={page.error} /> : <Loading what="runs" />;
  }
  const { runs, total, next } = page.data;
  const first = pages.index * pageSize;
  return (
    <>
      {page.error !== undefined && <ErrorNotice error={page.error} />}
      <p class="muted summary" aria-live="polite">
        {total === 0
          ? 'No runs match.'
          : `Runs ${formatCount(first + 1)}–${formatCount(first + runs.length)} of ${formatCount(total)}`}
        {live && <span class="live-dot"> live</span>}
      </p>
      {runs.length > 0 && (
        <div class="table-wrap">
          <table class="runs-table">
            <caption class="visually-hidden">Runs, newest first</caption>
            <TableHead
              columns={['Run', 'Status', 'Started', num('Duration'), num('Tasks'), 'Progress']}
            />
            <tbody>
              {runs.map((run) => (
                <RunRow key={run.id} run={run} now={now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Pages of runs" pages={pages} next={next} back="← Newer" forward="Older →" />
    </>
  );
}

function RunRow({ run, now }: { readonly run: RunSummary; readonly now: number }) {
  return (
    <tr data-testid="run-row" data-run-id={run.id}>
      <td>
        <Link class="run-link" href={runHref(run.id)}>
          {run.name}
        </Link>
        <div class="sub">
          <span class="kind">{run.kind}</span>
          {run.name !== run.id && <code class="muted">{run.id}</code>}
        </div>
      </td>
      <td>
        <StatusBadge status={run.status} testId="run-status" />
      </td>
      <td>
        <time dateTime={new Date(run.createdAt).toISOString()} title={formatTime(run.createdAt)}>
          {formatRelative(run.createdAt, now)}
        </time>
      </td>
      <td class="num">{formatDuration(run.durationMs)}</td>
      <td class="num">
        <span class="ok" title="completed">
          {formatCount(run.tasks.completed)}
        </span>
        {run.tasks.failed > 0 && (
          <>
            {' / '}
            <span class="bad" title="failed">
              {formatCount(run.tasks.failed)} failed
            </span>
          </>
        )}
      </td>
      <td>
        <Sparkline values={run.sparkline} />
      </td>
    </tr>
  );
}
