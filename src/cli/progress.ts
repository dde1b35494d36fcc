/**
 * Live progress for `weft run`: on a terminal, a bar per fan-out (map, dag) that redraws
 * in place; elsewhere (logs, CI) a plain line per active fan-out every few seconds. Both
 * end with one summary line. Everything comes from the event bus.
 */
import cliProgress from 'cli-progress';
import type { EventBus, WeftEvent } from '../core/events.ts';

/** What is known of one fan-out. */
interface FanOutProgress {
  readonly scope: string;
  readonly label: string;
  total: number | undefined;
  done: number;
  failed: number;
  resumed: number;
  ended: boolean;
  readonly startedAt: number;
}

/** Most fan-outs drawn as bars at once; the others are summed up in one line. */
const maxBars = 8;

/** Counts task events per fan-out. Pure: no output. */
export class ProgressModel {
  readonly fanOuts = new Map<string, FanOutProgress>();
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
        const kind = event.type === 'map:start' ? 'map' : 'dag';
        const fanOut: FanOutProgress = {
          scope: event.scope,
          label: labelOf(event.scope, kind),
          total: event.total,
          done: 0,
          failed: 0,
          resumed: 0,
          ended: false,
          startedAt: event.time,
        };
        this.fanOuts.set(event.scope, fanOut);
        return fanOut;
      }
      case 'map:end':
      case 'dag:end': {
        const fanOut = this.fanOuts.get(event.scope);
        if (fanOut) {
          fanOut.ended = true;
          fanOut.total ??= fanOut.done + fanOut.failed;
        }
        return fanOut;
      }
      case 'task:start':
        if (event.attempt === 1) this.started++;
        return undefined;
      case 'app:start':
        if (event.parentAppId !== undefined) this.subApplications++;
        return undefined;
      case 'task:retry':
        this.retried++;
        return undefined;
      case 'task:end': {
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
        this.failed++;
        const fanOut = this.fanOuts.get(event.scope);
        if (fanOut) fanOut.failed++;
        return fanOut;
      }
      default:
        return undefined;
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

/** `map:square` from `nightly/map:square`, or the last two segments when nested. */
function labelOf(scope: string, kind: string): string {
  const parts = scope.split('/');
  const last = parts.at(-1) ?? kind;
  // The tasks of an application's parallel step or of a flow's layer: named after it.
  const owner = parts.at(-2);
  if (last === 'task' && owner !== undefined) {
    return owner.startsWith('step:') ? owner.slice(owner.indexOf(':', 5) + 1) : owner;
  }
  return last.startsWith(`${kind}`) ? last : `${kind} ${last}`;
}

function line(fanOut: FanOutProgress, now: number): string {
  const seconds = Math.max(0.001, (now - fanOut.startedAt) / 1000);
  const finished = fanOut.done + fanOut.failed;
  const of = fanOut.total === undefined ? '' : `/${fanOut.total.toLocaleString('en-US')}`;
  const percent = fanOut.total ? ` (${Math.floor((finished / fanOut.total) * 100)}%)` : '';
  const failed = fanOut.failed > 0 ? `, ${fanOut.failed} failed` : '';
  const resumed = fanOut.resumed > 0 ? `, ${fanOut.resumed} resumed` : '';
  return `${fanOut.label}: ${finished.toLocaleString('en-US')}${of}${percent}${failed}${resumed} · ${Math.round((fanOut.done - fanOut.resumed) / seconds)}/s`;
}

/** Options of {@link showProgress}. */
export interface ProgressOptions {
  /** Redraw period on a terminal, plain-line period elsewhere. @default 100 ms / 2000 ms */
  readonly intervalMs?: number;
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
  const bars = tty ? new TerminalBars(stream) : undefined;
  const off = bus.on((event) => {
    const fanOut = model.apply(event);
    if (fanOut && bars) bars.touch(fanOut);
    // Each step of a top-level application gets a line; sub-applications show as bars.
    if (event.type === 'app:step' && event.parentAppId === undefined) {
      const text = `app ${event.appId}: step ${event.sequenceId} ${event.action} ${event.error === undefined ? 'done' : 'failed'} in ${Math.round(event.durationMs)} ms\n`;
      if (bars) bars.log(text);
      else stream.write(text);
    }
  });
  const timer = setInterval(
    () => {
      if (bars) {
        bars.redraw(model);
        return;
      }
      const now = Date.now();
      const active = [...model.fanOuts.values()].filter((f) => !f.ended);
      for (const fanOut of active.slice(0, maxBars)) stream.write(`${line(fanOut, now)}\n`);
      if (active.length > maxBars) stream.write(`… and ${active.length - maxBars} more fan-outs\n`);
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
    bars?.stop(model);
    stream.write(`${summary}\n`);
    return summary;
  };
}

/** One cli-progress bar per fan-out, the most recent ones first. */
class TerminalBars {
  readonly #multi: cliProgress.MultiBar;
  readonly #bars = new Map<string, cliProgress.SingleBar>();

  constructor(stream: NodeJS.WriteStream) {
    this.#multi = new cliProgress.MultiBar(
      {
        stream,
        format: ' {bar} {label} {value}/{totalText} {extra}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
        noTTYOutput: false,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  touch(fanOut: FanOutProgress): void {
    let bar = this.#bars.get(fanOut.scope);
    if (!bar) {
      if (this.#bars.size >= maxBars) return;
      bar = this.#multi.create(fanOut.total ?? 0, 0, this.#payload(fanOut));
      this.#bars.set(fanOut.scope, bar);
    }
    if (fanOut.total !== undefined) bar.setTotal(fanOut.total);
    bar.update(fanOut.done + fanOut.failed, this.#payload(fanOut));
  }

  /** Prints a line above the bars. */
  log(text: string): void {
    this.#multi.log(text);
  }

  redraw(model: ProgressModel): void {
    for (const fanOut of model.fanOuts.values())
      if (this.#bars.has(fanOut.scope)) this.touch(fanOut);
  }

  stop(model: ProgressModel): void {
    this.redraw(model);
    this.#multi.stop();
  }

  #payload(fanOut: FanOutProgress): Record<string, string> {
    const extra = [
      fanOut.failed > 0 ? `${fanOut.failed} failed` : '',
      fanOut.resumed > 0 ? `${fanOut.resumed} resumed` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return {
      label: fanOut.label,
      totalText: fanOut.total === undefined ? '?' : String(fanOut.total),
      extra,
    };
  }
}
