/**
 * Live progress for `weft run`: on a terminal, a bar per fan-out (map, dag), named for
 * people (the task, layer or action), redrawn in place below the job's own output;
 * elsewhere (logs, CI) a plain line per active fan-out every few seconds. Both end with
 * one summary line. Everything comes from the event bus.
 */
import type { EventBus, WeftEvent } from '../core/events.ts';
import { LiveScreen } from './live-screen.ts';
import { printable } from './text.ts';

/** What is known of one fan-out. */
interface FanOutProgress {
  readonly scope: string;
  readonly label: string;
  total: number | undefined;
  done: number;
  failed: number;
  resumed: number;
  ended: boolean;
  /** Ended early: failed fast, aborted. */
  stopped: boolean;
  readonly startedAt: number;
  /** Tasks finished when its last plain line was printed, and when. */
  printed: number;
  printedAt: number;
}

/** Most fan-outs drawn as bars at once; the others are summed up in one line. */
const maxBars = 8;
const barWidth = 24;
/** Without news, a plain line repeats a fan-out's count this often, to show it is alive. */
const heartbeatMs = 30_000;

/** Counts task events per fan-out. Pure: no output. */
export class ProgressModel {
  /** Fan-outs shown, running or recently ended, in the order they started. */
  readonly fanOuts = new Map<string, FanOutProgress>();
  /** Scopes of running fan-outs that asked not to be shown; their tasks count nowhere. */
  readonly #hidden = new Set<string>();
  done = 0;
  failed = 0;
  resumed = 0;
  retried = 0;
  started = 0;
  /** Sub-applications started by parallel actions of `weftjs/app`. */
  subApplications = 0;

  apply(event: WeftEvent): FanOutProgress | undefined {
    switch (event.type) {
      case 'map:start':
      case 'dag:start': {
        if (event.hidden) {
          this.#hidden.add(event.scope);
          return undefined;
        }
        const fanOut: FanOutProgress = {
          scope: event.scope,
          // Names come from user code: shown, never obeyed by the terminal.
          label: printable(event.label ?? event.task ?? event.type.slice(0, 3)),
          total: event.total,
          done: 0,
          failed: 0,
          resumed: 0,
          ended: false,
          stopped: false,
          startedAt: event.time,
          printed: -1,
          printedAt: event.time,
        };
        this.fanOuts.set(event.scope, fanOut);
        return fanOut;
      }
      case 'map:total': {
        const fanOut = this.fanOuts.get(event.scope);
        if (fanOut) fanOut.total ??= event.total;
        return fanOut;
      }
      case 'map:end':
      case 'dag:end': {
        if (this.#hidden.delete(event.scope)) return undefined;
        const fanOut = this.fanOuts.get(event.scope);
        if (!fanOut) return undefined;
        fanOut.ended = true;
        fanOut.stopped = event.error !== undefined;
        // A whole input, read to the end: its size is what ran.
        if (!fanOut.stopped) fanOut.total ??= fanOut.done + fanOut.failed;
        this.#forgetEnded();
        return fanOut;
      }
      case 'task:start':
        if (event.attempt === 1 && !this.#hidden.has(event.scope)) this.started++;
        return undefined;
      case 'app:start':
        if (event.parentAppId !== undefined) this.subApplications++;
        return undefined;
      case 'task:retry':
        if (!this.#hidden.has(event.scope)) this.retried++;
        return undefined;
      case 'task:end': {
        if (this.#hidden.has(event.scope)) return undefined;
        this.done++;
        if (event.resumed) this.resumed++;
        const fanOut = this.fanOuts.get(event.scope);
        if (fanOut) {
          fanOut.done++;
          if (event.resumed) fanOut.resumed++;
        }
        return fanOut;
      }
      case 'task:fail': {
        if (this.#hidden.has(event.scope)) return undefined;
        this.failed++;
        const fanOut = this.fanOuts.get(event.scope);
        if (fanOut) fanOut.failed++;
        return fanOut;
      }
      default:
        return undefined;
    }
  }

  /** The fan-outs to show: every running one, and the latest ended ones that fit. */
  shown(): FanOutProgress[] {
    const all = [...this.fanOuts.values()];
    const ended = all.filter((f) => f.ended);
    const room = Math.max(0, maxBars - (all.length - ended.length));
    const kept = new Set(ended.slice(Math.max(0, ended.length - room)));
    return all.filter((f) => !f.ended || kept.has(f));
  }

  /** Ended fan-outs beyond what a display keeps are forgotten, so memory stays bounded. */
  #forgetEnded(): void {
    let extra = -maxBars;
    for (const fanOut of this.fanOuts.values()) if (fanOut.ended) extra++;
    for (const [scope, fanOut] of this.fanOuts) {
      if (extra <= 0) break;
      if (!fanOut.ended) continue;
      this.fanOuts.delete(scope);
      extra--;
    }
  }

  /** The closing line: totals and rate. */
  summary(seconds: number): string {
    const running = Math.max(0, this.started - this.done + this.resumed - this.failed);
    const rate = seconds > 0 ? Math.round((this.done - this.resumed) / seconds) : 0;
    return (
      `tasks: ${this.done.toLocaleString('en-US')} done, ${this.failed} failed, ${running} running` +
      (this.resumed > 0 ? `, ${this.resumed.toLocaleString('en-US')} resumed` : '') +
      (this.retried > 0 ? `, ${this.retried} retried` : '') +
      (this.subApplications > 0
        ? `, ${this.subApplications.toLocaleString('en-US')} sub-applications`
        : '') +
      ` · ${seconds.toFixed(1)} s · ${rate.toLocaleString('en-US')}/s`
    );
  }
}

/** What follows a fan-out's count: failures, resumed tasks, an early stop. */
function extras(fanOut: FanOutProgress): string {
  return [
    fanOut.failed > 0 ? `${fanOut.failed.toLocaleString('en-US')} failed` : '',
    fanOut.resumed > 0 ? `${fanOut.resumed.toLocaleString('en-US')} resumed` : '',
    fanOut.stopped ? 'stopped' : '',
  ]
    .filter(Boolean)
    .map((text) => ` · ${text}`)
    .join('');
}

/** `Fit 12/20` (or `Fit 12/?` while the size is unknown). */
function count(fanOut: FanOutProgress): string {
  const finished = (fanOut.done + fanOut.failed).toLocaleString('en-US');
  const of = fanOut.total === undefined ? '?' : fanOut.total.toLocaleString('en-US');
  return `${fanOut.label} ${finished}/${of}`;
}

/** One bar: ` ██████░░░░ Fit 12/20 · 1 failed`. */
export function barLine(fanOut: FanOutProgress): string {
  const finished = fanOut.done + fanOut.failed;
  const filled =
    fanOut.total === undefined || fanOut.total === 0
      ? fanOut.ended && !fanOut.stopped
        ? barWidth
        : 0
      : Math.min(barWidth, Math.floor((finished / fanOut.total) * barWidth));
  return ` ${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)} ${count(fanOut)}${extras(fanOut)}`;
}

/** The live lines of a terminal: one bar per fan-out shown, at most {@link maxBars}. */
function barLines(model: ProgressModel): string[] {
  const shown = model.shown();
  if (shown.length <= maxBars) return shown.map(barLine);
  const lines = shown.slice(0, maxBars - 1).map(barLine);
  lines.push(` … and ${shown.length - maxBars + 1} more fan-outs running`);
  return lines;
}

/** A plain line: `Fit: 12/20 (60%) · 1 failed · 7/s`. */
function plainLine(fanOut: FanOutProgress, now: number): string {
  const seconds = Math.max(0.001, (now - fanOut.startedAt) / 1000);
  const finished = fanOut.done + fanOut.failed;
  const of = fanOut.total === undefined ? '' : `/${fanOut.total.toLocaleString('en-US')}`;
  const percent = fanOut.total ? ` (${Math.floor((finished / fanOut.total) * 100)}%)` : '';
  const rate = Math.round((fanOut.done - fanOut.resumed) / seconds);
  return `${fanOut.label}: ${finished.toLocaleString('en-US')}${of}${percent}${extras(fanOut)} · ${rate}/s`;
}

/** Plain lines of the running fan-outs that moved since their last line (or long ago). */
function plainLines(model: ProgressModel, now: number): string[] {
  const due = [...model.fanOuts.values()].filter(
    (f) => !f.ended && (f.done + f.failed !== f.printed || now - f.printedAt >= heartbeatMs),
  );
  const lines = due.slice(0, maxBars).map((fanOut) => {
    fanOut.printed = fanOut.done + fanOut.failed;
    fanOut.printedAt = now;
    return `${plainLine(fanOut, now)}\n`;
  });
  if (due.length > maxBars) lines.push(`… and ${due.length - maxBars} more fan-outs\n`);
  return lines;
}

/** Options of {@link showProgress}. */
export interface ProgressOptions {
  /** Redraw period on a terminal, plain-line period elsewhere. @default 100 ms / 2000 ms */
  readonly intervalMs?: number;
  /**
   * On a terminal, the streams whose writes are printed above the bars, whole lines at a
   * time, so that the bars never draw over them.
   * @default process.stdout and process.stderr, those that are terminals
   */
  readonly capture?: readonly NodeJS.WriteStream[];
}

/**
 * Shows progress of everything on `bus` on `stream`. Returns the function that stops
 * and prints the summary line (which it also returns).
 */
export function showProgress(
  bus: EventBus,
  stream: NodeJS.WriteStream,
  options: ProgressOptions = {},
): () => string {
  const model = new ProgressModel();
  const begun = performance.now();
  const tty = stream.isTTY === true;
  const screen = tty
    ? new LiveScreen(
        stream,
        options.capture ?? [process.stdout, process.stderr].filter((s) => s.isTTY === true),
      )
    : undefined;
  const off = bus.on((event) => {
    model.apply(event);
    // Each step of a top-level application gets a line; sub-applications show as bars.
    if (event.type === 'app:step' && event.parentAppId === undefined) {
      const text = `app ${event.appId}: step ${event.sequenceId} ${event.action} ${event.error === undefined ? 'done' : 'failed'} in ${Math.round(event.durationMs)} ms\n`;
      if (screen) screen.print(text);
      else stream.write(text);
    }
  });
  const timer = setInterval(
    () => {
      if (screen) screen.update(barLines(model));
      else for (const text of plainLines(model, Date.now())) stream.write(text);
    },
    options.intervalMs ?? (tty ? 100 : 2000),
  );
  timer.unref();
  let stopped = false;
  return () => {
    const summary = model.summary((performance.now() - begun) / 1000);
    if (stopped) return summary;
    stopped = true;
    clearInterval(timer);
    off();
    screen?.stop(barLines(model));
    stream.write(`${summary}\n`);
    return summary;
  };
}
