/** A yes-or-no question to the person at the terminal. */
import { createInterface } from 'node:readline';

/**
 * Asks `question` on stderr and reads one line of stdin: true for `y` or `yes` (any case),
 * false for anything else, an empty line, or stdin closed (Ctrl-D).
 */
export function confirm(question: string): Promise<boolean> {
  const lines = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise<boolean>((resolve) => {
    let answered = false;
    // Ctrl-C at the question is a no, as an empty answer is.
    lines.once('SIGINT', () => lines.close());
    lines.once('close', () => {
      if (!answered) process.stderr.write('\n');
      resolve(false);
    });
    lines.question(question, (answer) => {
      answered = true;
      resolve(/^y(es)?$/i.test(answer.trim()));
      lines.close();
    });
  });
}
