/** Ctrl-C during `weft run`: the first stops the run, the second quits at once. */

/** The run's side of Ctrl-C. */
export interface Interrupt {
  /** Aborted, with an AbortError, on the first Ctrl-C. */
  readonly signal: AbortSignal;
  /** Whether Ctrl-C was pressed. */
  readonly interrupted: boolean;
  /** Stops listening for Ctrl-C. */
  close(): void;
}

/**
 * Listens for SIGINT. The first aborts the signal (running tasks are aborted through it)
 * and says so in one plain line; the second ends the process at once. The exit code is
 * 130 either way, as shells expect after Ctrl-C.
 */
export function listenForInterrupt(): Interrupt {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    process.exitCode = 130;
    if (interrupts > 1) process.exit(130);
    // On a terminal, the line starts below the ^C that the terminal echoed.
    process.stderr.write(
      `${process.stderr.isTTY ? '\n' : ''}weft: interrupted; stopping the running tasks (Ctrl-C again to quit at once)\n`,
    );
    controller.abort(new DOMException('Interrupted by the user (SIGINT).', 'AbortError'));
  };
  process.on('SIGINT', onSigint);
  return {
    signal: controller.signal,
    get interrupted() {
      return interrupts > 0;
    },
    close: () => {
      process.off('SIGINT', onSigint);
    },
  };
}
