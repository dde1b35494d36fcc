/**
 * Lines of streamed text. Each chunk is searched for line breaks once, from its own start,
 * and the unfinished line before it is never searched again: a long line streamed in tiny
 * chunks costs its length, not its length times its chunks.
 */

const none: readonly string[] = Object.freeze([]);

export class LineSplitter {
  /**
   * The unfinished line. Appending builds a rope that is flattened once, when the line
   * is complete, so it is never copied per chunk.
   */
  #pending = '';

  /** The lines that `chunk` completes, in order; the unfinished rest waits for more text. */
  push(chunk: string): readonly string[] {
    let newline = chunk.indexOf('\n');
    if (newline < 0) {
      this.#pending += chunk;
      return none;
    }
    const lines: string[] = [];
    let from = 0;
    while (newline >= 0) {
      lines.push(this.#pending + chunk.slice(from, newline));
      this.#pending = '';
      from = newline + 1;
      newline = chunk.indexOf('\n', from);
    }
    this.#pending = chunk.slice(from);
    return lines;
  }

  /** The unfinished last line, or undefined when the text ended with a break (or was empty). */
  end(): string | undefined {
    const line = this.#pending;
    this.#pending = '';
    return line === '' ? undefined : line;
  }
}
