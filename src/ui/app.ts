/**
 * `weft ui`'s server as a Hono app: a read-only JSON API over a run store (see
 * api-types.ts for what each route answers) and the web page. Testable without a socket
 * through `app.request()`.
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { isWeftError } from '../core/errors.ts';
import type { RunRecord, Store } from '../core/store.ts';
import { ApiError, clip } from './api-error.ts';
import {
  type ApiErrorBody,
  type ArtifactsPage,
  type RunsPage,
  runStatuses,
  type TasksPage,
} from './api-types.ts';
import { artifactsPage } from './artifacts.ts';
import { layerView } from './layer-view.ts';
import { LiveStreams } from './live-streams.ts';
import { defaultPageDir, pageResponse } from './page.ts';
import {
  artifactCursorParam,
  choiceParam,
  encodeArtifactCursor,
  encodeRunCursor,
  intParam,
  mayBeRunId,
  positionCursorParam,
  runCursorParam,
  textParam,
} from './params.ts';
import { pageRuns, queriesOf } from './queries.ts';
import { runDetail } from './run-detail.ts';
import { RunEvents } from './run-events.ts';
import { streamRun } from './run-stream.ts';
import { summarizeRuns } from './run-summary.ts';
import { stateAtStep } from './state-at-step.ts';
import { taskView } from './task-view.ts';
import { defaultTimelineLimit, maxTimelineLimit, timelineOf } from './timeline.ts';

/** Options of {@link createUiApp}. */
export interface UiAppOptions {
  /**
   * The folder of the built page.
   * @default dist/web of the weft package
   */
  readonly pageDir?: string;
  /** Ends every event stream when aborted (the server closes). */
  readonly signal?: AbortSignal;
  /** Counts the event streams open, so that a closing server waits for them to end. */
  readonly streams?: LiveStreams;
  /**
   * How often an event stream asks the store what changed while a run goes, in
   * milliseconds (250–500 suits a page).
   * @default 300
   */
  readonly pollMs?: number;
}

/**
 * The Hono app of `weft ui` over `store`: it only reads the store. Unknown runs and routes
 * answer 404, query values a route does not take 400, each as `{ error: { code, message } }`.
 * @example
 * const app = createUiApp(store);
 * const runs = await (await app.request('/api/runs?status=failed')).json();
 */
export function createUiApp(store: Store, options: UiAppOptions = {}): Hono {
  const app = new Hono();
  const queries = queriesOf(store);
  const streams = options.streams ?? new LiveStreams();
  const closing = options.signal ?? new AbortController().signal;
  const pageDir = options.pageDir ?? defaultPageDir;

  const findRun = async (id: string): Promise<RunRecord> => {
    const run = mayBeRunId(id) ? await store.getRun(id) : undefined;
    if (!run) throw ApiError.notFound(`No run '${clip(id)}' in this store.`);
    return run;
  };

  app.get('/api/runs', async (c) => {
    const query = c.req.query();
    const status = choiceParam(query, 'status', runStatuses);
    const search = textParam(query, 'q', 200);
    const limit = intParam(query, 'limit', { min: 1, max: 200, fallback: 50 })!;
    const after = runCursorParam(query);
    const page = await pageRuns(store, {
      limit,
      ...(status === undefined ? {} : { status }),
      ...(search === undefined ? {} : { search }),
      ...(after === undefined ? {} : { after }),
    });
    const body: RunsPage = {
      runs: await summarizeRuns(queries, page.runs),
      total: page.total,
      ...(page.next === undefined ? {} : { next: encodeRunCursor(page.next) }),
    };
    return c.json(body);
  });

  app.get('/api/runs/:id', async (c) => {
    const run = await findRun(c.req.param('id'));
    return c.json(await runDetail(store, run));
  });

  app.get('/api/runs/:id/tasks', async (c) => {
    const query = c.req.query();
    const status = choiceParam(query, 'status', ['completed', 'failed'] as const);
    const task = textParam(query, 'task');
    const scope = textParam(query, 'scope', 10_000);
    const limit = intParam(query, 'limit', { min: 1, max: 1_000, fallback: 100 })!;
    const after = positionCursorParam(query);
    const run = await findRun(c.req.param('id'));
    const page = await queries.taskPage(run.id, {
      limit,
      ...(status === undefined ? {} : { status }),
      ...(task === undefined ? {} : { task }),
      ...(scope === undefined ? {} : { keyPrefix: `${scope}/` }),
      ...(after === undefined ? {} : { after }),
    });
    const body: TasksPage = {
      tasks: page.tasks.map(taskView),
      ...(page.next === undefined ? {} : { next: String(page.next) }),
    };
    return c.json(body);
  });

  app.get('/api/runs/:id/timeline', async (c) => {
    const limit = intParam(c.req.query(), 'limit', {
      min: 1,
      max: maxTimelineLimit,
      fallback: defaultTimelineLimit,
    })!;
    const run = await findRun(c.req.param('id'));
    return c.json(await timelineOf(store, queries, run, limit));
  });

  app.get('/api/runs/:id/apps/:appId/state', async (c) => {
    const query = c.req.query();
    const sequenceId = intParam(query, 'sequenceId', { min: 0, max: Number.MAX_SAFE_INTEGER });
    if (sequenceId === undefined) {
      throw new ApiError(
        400,
        'WEFT_UI_BAD_PARAMETER',
        "Query parameter 'sequenceId' is required: the step's sequence id, a whole number from 0.",
      );
    }
    const partitionKey = textParam(query, 'partitionKey') ?? '';
    const run = await findRun(c.req.param('id'));
    const appId = c.req.param('appId');
    if (!mayBeRunId(appId)) {
      throw ApiError.notFound(`No application '${clip(appId)}' in run '${clip(run.id)}'.`);
    }
    return c.json(await stateAtStep(store, run, appId, partitionKey, sequenceId));
  });

  app.get('/api/runs/:id/layers/:layer', async (c) => {
    const flow = textParam(c.req.query(), 'flow');
    const run = await findRun(c.req.param('id'));
    const events = RunEvents.of(await store.listEvents(run.id));
    return c.json(await layerView(store, queries, run.id, events, c.req.param('layer'), flow));
  });

  app.get('/api/runs/:id/artifacts', async (c) => {
    const query = c.req.query();
    const prefix = textParam(query, 'prefix', 10_000);
    const limit = intParam(query, 'limit', { min: 1, max: 1_000, fallback: 100 })!;
    const after = artifactCursorParam(query);
    const run = await findRun(c.req.param('id'));
    const page = await artifactsPage(store, run.id, {
      limit,
      ...(prefix === undefined ? {} : { prefix }),
      ...(after === undefined ? {} : { after }),
    });
    const body: ArtifactsPage = {
      keys: page.keys,
      ...(page.last === undefined ? {} : { next: encodeArtifactCursor(page.last) }),
    };
    return c.json(body);
  });

  app.get('/api/runs/:id/artifacts/:key{.+}', async (c) => {
    const run = await findRun(c.req.param('id'));
    const key = c.req.param('key');
    const data = key.includes('\0') ? undefined : await store.getArtifact(run.id, key);
    if (!data) throw ApiError.notFound(`No artifact '${clip(key)}' in run '${clip(run.id)}'.`);
    return c.body(new Uint8Array(data), 200, {
      'content-type': 'application/octet-stream',
      'x-content-type-options': 'nosniff',
    });
  });

  app.get('/api/runs/:id/events', async (c) => {
    const run = await findRun(c.req.param('id'));
    const last = c.req.header('last-event-id');
    const after = last === undefined || last === '' ? 0 : Number(last);
    if (!/^\d{0,16}$/.test(last ?? '') || !Number.isSafeInteger(after)) {
      throw new ApiError(
        400,
        'WEFT_UI_BAD_PARAMETER',
        `Header 'Last-Event-ID' must be the id of an event this stream sent; got '${clip(last ?? '')}'.`,
      );
    }
    return streamSSE(c, async (stream) => {
      const gone = new AbortController();
      stream.onAbort(() => gone.abort());
      const ended = streams.opened();
      try {
        await streamRun(stream, {
          store,
          runId: run.id,
          after,
          signal: AbortSignal.any([gone.signal, c.req.raw.signal, closing]),
          ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
        });
      } finally {
        ended();
      }
    });
  });

  app.on(['POST', 'PUT', 'PATCH', 'DELETE'], '/api/*', (c) =>
    c.json(
      errorBody('WEFT_UI_READ_ONLY', "weft ui's API is read-only: it answers GET requests only."),
      405,
      { allow: 'GET, HEAD' },
    ),
  );
  app.all('/api/*', (c) =>
    c.json(
      errorBody(
        'WEFT_UI_NOT_FOUND',
        `No route ${clip(c.req.path)}: the API's routes start with /api/runs.`,
      ),
      404,
    ),
  );
  app.on(['GET', 'HEAD'], '*', (c) => pageResponse(pageDir, c.req.path, c.req.method === 'HEAD'));

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      return c.json(errorBody(error.code, error.message), error.status);
    }
    if (isWeftError(error, 'WEFT_VALIDATION')) {
      return c.json(errorBody(error.code, error.message), 400);
    }
    const code = isWeftError(error) ? error.code : 'WEFT_UI_INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    return c.json(errorBody(code, message), 500);
  });
  return app;
}

function errorBody(code: string, message: string): ApiErrorBody {
  return { error: { code, message } };
}
