/**
 * `weft show <run>`: a run's status, its fan-outs, its failures and its slowest tasks. It
 * reads the store and creates nothing.
 */
import { ValidationError } from '../core/errors.ts';
import type { WeftEvent } from '../core/events.ts';
import type { TaskRecord } from '../core/store.ts';
import { openExistingStore } from '../stores/open.ts';
import { errorLine } from './error-line.ts';
import { toJson } from './json.ts';
import { statusOf } from './run-status.ts';
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
    const run = await store.getRun(runId);
    if (!run) {
      throw new ValidationError(
        `No run '${clipped(runId)}' in ${store.location}. List the runs with: weft runs`,
      );
    }
    const tasks = await store.listTasks(runId);
    const applications = applicationsOf(await store.listEvents(runId));
    if (options.json) {
      // The status as the text shows it; outputs of any storable type, written readably.
      const shown = { ...run, status: statusOf(run) };
      process.stdout.write(
        `${toJson({ run: shown, applications: [...applications.values()], tasks })}\n`,
      );
      return;
    }
    const out: string[] = [];
    const failed = tasks.filter((t) => t.status === 'failed');
    out.push(
      `run ${run.id}: ${statusOf(run)} (${run.attempts === 1 ? '1 try' : `${run.attempts} tries`})`,
    );
    out.push(`  started ${when(run.createdAt)}, updated ${when(run.updatedAt)}`);
    if (typeof run.meta.file === 'string') out.push(`  file ${run.meta.file}`);
    if (Array.isArray(run.meta.args) && run.meta.args.length > 0) {
      out.push(`  args ${run.meta.args.map((arg) => shellWord(String(arg))).join(' ')}`);
    }
    if (run.error) out.push(`  error ${run.error.name}: ${oneLine(run.error)}`);
    out.push(
      `  tasks ${tasks.length.toLocaleString('en-US')}: ${(tasks.length - failed.length).toLocaleString('en-US')} completed, ${failed.length} failed`,
    );
    if (applications.size > 0) out.push('', ...applicationLines(applications, options.all));
    if (tasks.length > 0) {
      out.push(
        '',
        ...table(['FAN-OUT', 'TASKS', 'FAILED', 'MEDIAN', 'MAX'], fanOutRows(tasks)).split('\n'),
      );
    }
    if (failed.length > 0) {
      out.push('', 'failed tasks:');
      for (const task of failed.slice(0, options.all ? undefined : 20)) {
        out.push(
          `  ${task.key} (${task.task}, ${task.attempts} ${task.attempts === 1 ? 'attempt' : 'attempts'}): ${task.error?.name ?? 'Error'}: ${task.error ? oneLine(task.error) : ''}`,
        );
      }
      if (!options.all && failed.length > 20) out.push(`  … ${failed.length - 20} more (--all)`);
    }
    const listed = options.all
      ? tasks
      : [...tasks].sort((a, b) => b.durationMs - a.durationMs).slice(0, 10);
    if (listed.length > 0) {
      out.push('', options.all ? 'tasks:' : 'slowest tasks:');
      out.push(
        ...table(
          // TOOK is the task's own time; WAITED, its wait for a worker or a slot before it.
          ['KEY', 'TASK', 'STATUS', 'TRIES', 'STARTED', 'TOOK', 'WAITED'],
          listed.map((t) => [
            t.key,
            t.task,
            t.status,
            String(t.attempts),
            when(t.startedAt),
            duration(t.durationMs),
            duration(t.queuedMs ?? 0),
          ]),
        ).split('\n'),
      );
    }
    // One entry is one line: what a store holds never reaches the terminal raw.
    process.stdout.write(`${out.map(printable).join('\n')}\n`);
  } finally {
    await store.close();
  }
}

/** One row per fan-out: the tasks whose keys share everything but the last segment. */
function fanOutRows(tasks: readonly TaskRecord[]): string[][] {
  const groups = new Map<string, TaskRecord[]>();
  for (const task of tasks) {
    const scope = task.key.slice(0, Math.max(0, task.key.lastIndexOf('/')));
    const group = groups.get(scope);
    if (group) group.push(task);
    else groups.set(scope, [task]);
  }
  return [...groups].map(([scope, group]) => {
    const durations = group.map((t) => t.durationMs).sort((a, b) => a - b);
    return [
      scope,
      group.length.toLocaleString('en-US'),
      String(group.filter((t) => t.status === 'failed').length),
      duration(durations[Math.floor(durations.length / 2)] ?? 0),
      duration(durations.at(-1) ?? 0),
    ];
  });
}

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
