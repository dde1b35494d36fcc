/**
 * Live progress for `weft run`: one status line that redraws in place on a terminal,
 * and a plain line every few seconds otherwise (logs, CI).
 */
import type { EventBus } from '../core/events.ts';

/** Counts task events and shows them; returns a function that stops and prints the last line. */
export function showProgress(
  bus: EventBus,
  stream: NodeJS.WriteStream,
  intervalMs?: number,
): () => string {
  const tty = stream.isTTY === true;
  let started = 0;
  let done = 0;
  let failed = 0;
  let retried = 0;
  const begun = performance.now();
  const off = bus.on((event) => {
    if (event.type === 'task:start' && event.attempt === 1) started++;
    else if (event.type === 'task:end') done++;
    else if (event.type === 'task:fail') failed++;
    else if (event.type === 'task:retry') retried++;
  });
  const line = () => {
    const seconds = (performance.now() - begun) / 1000;
    const running = Math.max(0, started - done - failed);
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    return (
      `tasks: ${done.toLocaleString('en-US')} done, ${failed} failed, ${running} running` +
      (retried > 0 ? `, ${retried} retried` : '') +
      ` · ${seconds.toFixed(1)} s · ${rate.toLocaleString('en-US')}/s`
    );
  };
  const timer = setInterval(
    () => {
      if (tty) stream.write(`\r\x1b[2K${line()}`);
      else stream.write(`${line()}\n`);
    },
    intervalMs ?? (tty ? 100 : 2000),
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    off();
    const last = line();
    stream.write(tty ? `\r\x1b[2K${last}\n` : `${last}\n`);
    return last;
  };
}
