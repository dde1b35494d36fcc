/**
 * `weft show <run>`: a run's status, its fan-outs, its failures and its slowest tasks. It
 * reads the store and creates nothing. Tasks are read as a stream and summed up as they
 * come, so that a run of any size is shown in memory bounded by its number of fan-outs;
 * `--all` and `--json` write each task as it is read.
 */
import { once } from 'node:events';
import { ValidationError } from '../core/errors.ts';
import type { WeftEvent } from '../core/events.ts';
import type { RunRecord, Store, TaskRecord } from '../core/store.ts';
import { openExistingStore } from '../stores/open.ts';
import { statusOf } from '../ui/run-status.ts';
import { errorLine } from './error-line.ts';
import { toJson } from './json.ts';
import { storeUrl } from './store-option.ts';
import { duration, table, when } from './table.ts';
import { clipped, printable, shellWord } from './text.ts';

export interface ShowOptions {
  readonly store?: string;
  /** List every task, not only failures and the slowest. */
  readonly all?: boolean;
  /** Print the run, its applications and its tasks (with their outputs) as JSON. */
  readonly json?: boolean;
}

export async function showRun(runId: string, options: ShowOptions): Promise<void> {
  const { store, location } = await openExistingStore(storeUrl(options.store));
  if (!store) {
    throw new ValidationError(
      `No run '${clipped(runId)}': there is no store at ${location} yet. Give the store the run was ` +
        'recorded in with --store, or start a run with: weft run <file>',
    );
  }
  try {
    await printRun(store, runId, options, process.stdout);
  } finally {
    await store.close();
  }
}

/** Writes what `weft show` says of the run `runId` of `store` to `output`. */
export async function printRun(
  store: Store,
  runId: string,
  options: ShowOptions,
  output: NodeJS.WritableStream,
): Promise<void> {
  const run = await store.getRun(runId);
  if (!run) {
    throw new ValidationError(
      `No run '${clipped(runId)}' in ${store.location}. List the runs with: weft runs`,
    );
  }
  const applications = applicationsOf(await store.listEvents(runId));
  const out = new Output(output);
  if (options.json) await writeJson(store, run, applications, out);
  else await writeText(store, run, applications, options.all === true, out);
  await out.flush();
}

/**
 * `{ run, applications, tasks }` as indented JSON, each task written as it is read: the
 * status as the text shows it; outputs of any storable type, written readably.
 */
async function writeJson(
  store: Store,
  run: RunRecord,
  applications: Map<string, ApplicationSummary>,
  out: Output,
): Promise<void> {
  const nested = (value: unknown, indent: string) => toJson(value).replace(/\n/g, `\n${indent}`);
  await out.write(`{\n  "run": ${nested({ ...run, status: statusOf(run) }, '  ')},\n`);
  await out.write(`  "applications": ${nested([...applications.values()], '  ')},\n`);
  let first = true;
  for await (const task of store.streamTasks(run.id)) {
    await out.write(`${first ? '  "tasks": [\n' : ',\n'}    ${nested(task, '    ')}`);
    first = false;
  }
  await out.write(first ? '  "tasks": []\n}\n' : '\n  ]\n}\n');
}

async function writeText(
  store: Store,
  run: RunRecord,
  applications: Map<string, ApplicationSummary>,
  all: boolean,
  out: Output,
): Promise<void> {
  const summary = new Summary(all);
  for await (const task of store.streamTasks(run.id, { outputs: false })) summary.add(task);
  const { count, failed } = summary;
  await out.line(
    `run ${run.id}: ${statusOf(run)} (${run.attempts === 1 ? '1 try' : `${run.attempts} tries`})`,
  );
  await out.line(`  started ${when(run.createdAt)}, updated ${when(run.updatedAt)}`);
  if (typeof run.meta.file === 'string') await out.line(`  file ${run.meta.file}`);
  if (Array.isArray(run.meta.args) && run.meta.args.length > 0) {
    await out.line(`  args ${run.meta.args.map((arg) => shellWord(String(arg))).join(' ')}`);
  }
  if (run.error) await out.line(`  error ${run.error.name}: ${oneLine(run.error)}`);
  await out.line(
    `  tasks ${count.toLocaleString('en-US')}: ${(count - failed).toLocaleString('en-US')} completed, ${failed} failed`,
  );
  if (applications.size > 0) await out.lines(['', ...applicationLines(applications, all)]);
  if (count > 0) {
    await out.line('');
    await out.lines(
      table(['FAN-OUT', 'TASKS', 'FAILED', 'MEDIAN', 'MAX'], summary.fanOutRows()).split('\n'),
    );
  }
  if (failed > 0) {
    await out.lines(['', 'failed tasks:']);
    if (all && failed > summary.firstFailed.length) {
      for await (const task of store.streamTasks(run.id, { outputs: false })) {
        if (task.status === 'failed') await out.line(failureLine(task));
      }
    } else {
      for (const task of summary.firstFailed) await out.line(failureLine(task));
    }
    if (!all && failed > shownFailures) {
      await out.line(`  … ${failed - shownFailures} more (--all)`);
    }
  }
  if (count === 0) return;
  await out.lines(['', all ? 'tasks:' : 'slowest tasks:']);
  if (!all) {
    await out.lines(table(taskHeaders, summary.slowest.map(taskRow)).split('\n'));
    return;
  }
  // Every task, a line as it is read, in columns as wide as the first reading found.
  const widths = summary.widths;
  await out.line(tableLine(taskHeaders, widths));
  for await (const task of store.streamTasks(run.id, { outputs: false })) {
    await out.line(tableLine(taskRow(task).map(printable), widths));
  }
}

/** Failed tasks listed without --all. */
const shownFailures = 20;
/** Tasks listed by duration without --all. */
const shownSlowest = 10;

// TOOK is the task's own time; WAITED, its wait for a worker or a slot before it.
const taskHeaders = ['KEY', 'TASK', 'STATUS', 'TRIES', 'STARTED', 'TOOK', 'WAITED'];

function taskRow(task: TaskRecord): string[] {
  return [
    task.key,
    task.task,
    task.status,
    String(task.attempts),
    when(task.startedAt),
    duration(task.durationMs),
    duration(task.queuedMs ?? 0),
  ];
}

/** One row of a table as `table` lays it out: columns padded, the last one not. */
function tableLine(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
    .join('  ')
    .trimEnd();
}

function failureLine(task: TaskRecord): string {
  return `  ${task.key} (${task.task}, ${task.attempts} ${task.attempts === 1 ? 'attempt' : 'attempts'}): ${task.error?.name ?? 'Error'}: ${task.error ? oneLine(task.error) : ''}`;
}

/** One fan-out's tasks, summed up: their count, failures and durations. */
interface FanOutStats {
  tasks: number;
  failed: number;
  maxMs: number;
  /**
   * How many tasks took each duration as shown (`12 ms`), with the shortest such duration
   * to order them: the median of the shown durations is the shown median, and there are
   * at most a few thousand of them, whatever the number of tasks.
   */
  readonly shown: Map<string, { ms: number; count: number }>;
}

/** What the text view says of a run's tasks, gathered as they are read. */
class Summary {
  count = 0;
  failed = 0;
  readonly fanOuts = new Map<string, FanOutStats>();
  /** The first failed tasks, in recorded order. */
  readonly firstFailed: TaskRecord[] = [];
  /** The slowest tasks, slowest first; of equal ones, the first recorded. */
  readonly slowest: TaskRecord[] = [];
  /** With --all: how wide each column of the task table is. */
  readonly widths: number[];
  readonly #all: boolean;

  constructor(all: boolean) {
    this.#all = all;
    this.widths = taskHeaders.map((header) => header.length);
  }

  add(task: TaskRecord): void {
    this.count++;
    const failed = task.status === 'failed';
    if (failed) {
      this.failed++;
      if (this.firstFailed.length < shownFailures) this.firstFailed.push(task);
    }
    // A fan-out's tasks are those whose keys share everything but the last segment.
    const scope = task.key.slice(0, Math.max(0, task.key.lastIndexOf('/')));
    let stats = this.fanOuts.get(scope);
    if (!stats) {
      stats = { tasks: 0, failed: 0, maxMs: 0, shown: new Map() };
      this.fanOuts.set(scope, stats);
    }
    stats.tasks++;
    if (failed) stats.failed++;
    const ms = task.durationMs;
    stats.maxMs = Math.max(stats.maxMs, ms);
    const text = duration(ms);
    const same = stats.shown.get(text);
    if (!same) stats.shown.set(text, { ms, count: 1 });
    else {
      same.count++;
      same.ms = Math.min(same.ms, ms);
    }
    this.#keepIfSlow(task);
    if (this.#all) {
      taskRow(task).forEach((cell, i) => {
        this.widths[i] = Math.max(this.widths[i]!, printable(cell).length);
      });
    }
  }

  /** Keeps `task` among the slowest few, after the ones as slow recorded before it. */
  #keepIfSlow(task: TaskRecord): void {
    const slowest = this.slowest;
    const ms = task.durationMs;
    if (slowest.length === shownSlowest && !(ms > slowest.at(-1)!.durationMs)) return;
    let at = slowest.length;
    while (at > 0 && slowest[at - 1]!.durationMs < ms) at--;
    slowest.splice(at, 0, task);
    if (slowest.length > shownSlowest) slowest.pop();
  }

  /** One row per fan-out: its tasks, failures, median and longest duration. */
  fanOutRows(): string[][] {
    return [...this.fanOuts].map(([scope, stats]) => [
      scope,
      stats.tasks.toLocaleString('en-US'),
      String(stats.failed),
      median(stats),
      duration(stats.maxMs),
    ]);
  }
}

/** The duration shown by the task in the middle (the later one of two), as `duration` shows it. */
function median(stats: FanOutStats): string {
  const middle = Math.floor(stats.tasks / 2);
  const shown = [...stats.shown].sort(([, a], [, b]) => a.ms - b.ms);
  let before = 0;
  for (const [text, { count }] of shown) {
    before += count;
    if (before > middle) return text;
  }
  return duration(0);
}

/** Text written to a stream a chunk at a time, waiting while the stream is full. */
class Output {
  readonly #stream: NodeJS.WritableStream;
  #chunk = '';

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
  }

  /** One line; what a store holds never reaches the terminal raw. */
  line(text: string): Promise<void> {
    return this.write(`${printable(text)}\n`);
  }

  async lines(texts: readonly string[]): Promise<void> {
    for (const text of texts) await this.line(text);
  }

  write(text: string): Promise<void> {
    this.#chunk += text;
    return this.#chunk.length >= chunkSize ? this.flush() : done;
  }

  async flush(): Promise<void> {
    const chunk = this.#chunk;
    if (chunk === '') return;
    this.#chunk = '';
    if (!this.#stream.write(chunk)) await once(this.#stream, 'drain');
  }
}

const chunkSize = 64 * 1024;
const done = Promise.resolve();

/** What the run's events say of one application. */
interface ApplicationSummary {
  readonly appId: string;
  readonly parentAppId: string | undefined;
  readonly steps: string[];
  status: 'running' | 'completed' | 'failed';
  error: string | undefined;
}

function applicationsOf(events: readonly WeftEvent[]): Map<string, ApplicationSummary> {
  const apps = new Map<string, ApplicationSummary>();
  const get = (appId: string, parentAppId: string | undefined) => {
    let app = apps.get(appId);
    if (!app) {
      app = { appId, parentAppId, steps: [], status: 'running', error: undefined };
      apps.set(appId, app);
    }
    return app;
  };
  for (const event of events) {
    if (event.type === 'app:step') {
      get(event.appId, event.parentAppId).steps.push(
        event.error === undefined ? event.action : `${event.action} (failed)`,
      );
    } else if (event.type === 'app:start') {
      get(event.appId, event.parentAppId).status = 'running';
    } else if (event.type === 'app:end') {
      const app = get(event.appId, event.parentAppId);
      app.status = event.error === undefined ? 'completed' : 'failed';
      app.error =
        event.error === undefined || event.error === null ? undefined : errorText(event.error);
    }
  }
  return apps;
}

/** Top-level applications with their steps, and their sub-applications counted per parent. */
function applicationLines(apps: Map<string, ApplicationSummary>, all = false): string[] {
  const children = new Map<string, ApplicationSummary[]>();
  for (const app of apps.values()) {
    if (app.parentAppId === undefined || !apps.has(app.parentAppId)) continue;
    const list = children.get(app.parentAppId) ?? [];
    list.push(app);
    children.set(app.parentAppId, list);
  }
  const out = ['applications:'];
  const describe = (app: ApplicationSummary, indent: string) => {
    out.push(
      `${indent}${app.appId}: ${app.status}, ${app.steps.length} ${app.steps.length === 1 ? 'step' : 'steps'}` +
        (app.steps.length > 0 && app.steps.length <= 12 ? ` (${app.steps.join(' → ')})` : '') +
        (app.error ? ` — ${app.error}` : ''),
    );
    const kids = children.get(app.appId) ?? [];
    if (kids.length === 0) return;
    const count = (status: string) => kids.filter((kid) => kid.status === status).length;
    out.push(
      `${indent}  ${kids.length.toLocaleString('en-US')} sub-applications: ${count('completed').toLocaleString('en-US')} completed, ` +
        `${count('failed')} failed, ${count('running')} running`,
    );
    const shown = all ? kids : kids.filter((kid) => kid.status !== 'completed').slice(0, 10);
    for (const kid of shown) describe(kid, `${indent}    `);
  };
  for (const app of apps.values()) {
    if (app.parentAppId === undefined || !apps.has(app.parentAppId)) describe(app, '  ');
  }
  return out;
}

function errorText(error: unknown): string {
  if (typeof error !== 'object' || error === null) return oneLine(error);
  const { name } = error as { name?: unknown };
  return `${typeof name === 'string' ? name : 'Error'}: ${oneLine(error)}`;
}

/** The first line of an error's message; ` …` marks that `--json` holds more. */
function oneLine(error: unknown): string {
  const { line, cut } = errorLine(error);
  return cut ? `${line} …` : line;
}
