/**
 * The page's only way to the server: one typed function per route of `weft ui`'s API
 * (src/ui/api-types.ts). Every failure becomes an {@link ApiError}, so that views show it
 * in place whether the server answered an error body, something else, or nothing.
 */
import type {
  ApiErrorBody,
  LayerView,
  RunDetail,
  RunStatusView,
  RunsPage,
  StateAtStep,
  TasksPage,
  Timeline,
} from '../../src/ui/api-types.ts';

/** A failed call: `status` is 0 when the server could not be reached. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Query = Readonly<Record<string, string | number | undefined>>;

function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

function isErrorBody(body: unknown): body is ApiErrorBody {
  const error = (body as { error?: unknown } | null)?.error as { message?: unknown } | undefined;
  return typeof error === 'object' && error !== null && typeof error.message === 'string';
}

async function getJson<T>(path: string, query: Query, signal?: AbortSignal): Promise<T> {
  const url = withQuery(path, query);
  let response: Response;
  try {
    response = await fetch(url, { signal, headers: { accept: 'application/json' } });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new ApiError(
      0,
      'unreachable',
      `The weft ui server did not answer (${(error as Error).message}); is \`weft ui\` still running?`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    if (isErrorBody(body)) {
      throw new ApiError(response.status, String(body.error.code), body.error.message);
    }
    throw new ApiError(
      response.status,
      `http_${response.status}`,
      `${url} answered ${response.status} ${response.statusText}`.trim(),
    );
  }
  if (body === undefined) {
    throw new ApiError(response.status, 'not_json', `${url} did not answer JSON`);
  }
  return body as T;
}

const segment = encodeURIComponent;
const runPath = (id: string) => `/api/runs/${segment(id)}`;

export interface RunsQuery {
  readonly status?: RunStatusView | '';
  readonly q?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface TasksQuery {
  readonly status?: 'completed' | 'failed' | '';
  readonly task?: string;
  readonly scope?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export const api = {
  runs: (query: RunsQuery, signal?: AbortSignal) =>
    getJson<RunsPage>('/api/runs', { ...query }, signal),
  run: (id: string, signal?: AbortSignal) => getJson<RunDetail>(runPath(id), {}, signal),
  tasks: (id: string, query: TasksQuery, signal?: AbortSignal) =>
    getJson<TasksPage>(`${runPath(id)}/tasks`, { ...query }, signal),
  timeline: (id: string, limit: number, signal?: AbortSignal) =>
    getJson<Timeline>(`${runPath(id)}/timeline`, { limit }, signal),
  state: (
    id: string,
    appId: string,
    step: { readonly sequenceId: number; readonly partitionKey: string },
    signal?: AbortSignal,
  ) =>
    getJson<StateAtStep>(
      `${runPath(id)}/apps/${segment(appId)}/state`,
      { sequenceId: step.sequenceId, partitionKey: step.partitionKey },
      signal,
    ),
  /** `flow` tells which flow's layer, in a run of several. */
  layer: (
    id: string,
    layer: { readonly flow: string; readonly layer: string },
    signal?: AbortSignal,
  ) =>
    getJson<LayerView>(
      `${runPath(id)}/layers/${segment(layer.layer)}`,
      { flow: layer.flow },
      signal,
    ),
  eventsUrl: (id: string) => `${runPath(id)}/events`,
};
