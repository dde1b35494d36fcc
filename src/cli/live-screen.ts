/**
 * A few live lines at the bottom of a terminal (progress bars), redrawn in place, with
 * everything else the process prints kept above them. Writes to the captured streams
 * (the job's console and stdout/stderr writes, and what Node forwards there from worker
 * threads and child processes) are printed whole lines at a time: the live lines are
 * erased, the lines written, and the live lines drawn again below them. A partial line
 * is held until its newline arrives or the screen stops.
 */
import { StringDecoder } from 'node:string_decoder';

type Write = NodeJS.WriteStream['write'];
type Callback = (error?: Error | null) => void;

/** One stream whose writes go above the live lines. */
interface Captured {
  readonly stream: NodeJS.WriteStream;
  /** The stream's own write, which the capture calls. */
  readonly write: Write;
  /** What it had as an own property before (usually nothing: the prototype's write). */
  readonly own: PropertyDescriptor | undefined;
  readonly patched: Write;
  readonly decoder: StringDecoder;
  /** Text after the last newline written so far. */
  held: string;
}

const hideCursor = '\x1b[?25l';
const showCursor = '\x1b[?25h';

/** Live lines on a terminal stream; see the module comment. */
export class LiveScreen {
  readonly #stream: NodeJS.WriteStream;
  readonly #write: (text: string) => void;
  readonly #captured: Captured[] = [];
  #lines: readonly string[] = [];
  /** Lines of the live area on screen now (0: erased). The cursor sits below them. */
  #drawn = 0;
  #redrawScheduled = false;
  #cursorHidden = false;
  #stopped = false;
  readonly #onExit = () => this.#restore();

  /**
   * @param stream the terminal the live lines are drawn on
   * @param capture streams whose writes are printed above the live lines; the live
   *   stream itself may be one of them
   */
  constructor(stream: NodeJS.WriteStream, capture: readonly NodeJS.WriteStream[]) {
    this.#stream = stream;
    const write = stream.write;
    this.#write = (text) => {
      write.call(stream, text);
    };
    for (const target of new Set(capture)) this.#capture(target);
    // A job that calls process.exit must not leave the terminal without a cursor.
    process.on('exit', this.#onExit);
  }

  /** Replaces the live lines and draws them. */
  update(lines: readonly string[]): void {
    if (this.#stopped) return;
    const same = lines.length === this.#drawn && lines.every((line, i) => line === this.#lines[i]);
    this.#lines = lines;
    if (!same) this.#draw();
  }

  /** Prints complete lines above the live lines. */
  print(text: string): void {
    if (this.#stopped) {
      this.#write(text);
      return;
    }
    this.#erase();
    this.#write(text);
    this.#scheduleRedraw();
  }

  /**
   * Erases the live lines and prints `final` in their place for good, then the partial
   * lines held back, and gives the captured streams their own writes again. The cursor
   * is left at the start of a line.
   */
  stop(final: readonly string[]): void {
    if (this.#stopped) return;
    this.#erase();
    this.#stopped = true;
    if (final.length > 0) this.#write(final.map((line) => `${this.#fit(line)}\n`).join(''));
    this.#restore();
  }

  /** Releases the streams and writes what they held; the cursor ends at a line start. */
  #restore(): void {
    this.#stopped = true;
    process.off('exit', this.#onExit);
    let open = false;
    for (const target of this.#captured.splice(0)) {
      if (target.stream.write === target.patched) {
        if (target.own) Object.defineProperty(target.stream, 'write', target.own);
        else delete (target.stream as { write?: Write }).write;
      }
      const rest = target.held + target.decoder.end();
      target.held = '';
      if (rest === '') continue;
      target.write.call(target.stream, rest);
      open = !rest.endsWith('\n');
    }
    // What comes next (the summary line) starts on a line of its own.
    const tail = `${open ? '\n' : ''}${this.#cursorHidden ? showCursor : ''}`;
    if (tail !== '') this.#write(tail);
  }

  #capture(stream: NodeJS.WriteStream): void {
    const own = Object.getOwnPropertyDescriptor(stream, 'write');
    const write = stream.write;
    const target: Captured = {
      stream,
      write,
      own,
      decoder: new StringDecoder('utf8'),
      held: '',
      patched: ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
        const done = (typeof encoding === 'function' ? encoding : callback) as Callback | undefined;
        const text =
          typeof chunk === 'string' && (typeof encoding !== 'string' || /^utf-?8$/i.test(encoding))
            ? chunk
            : target.decoder.write(
                typeof chunk === 'string'
                  ? Buffer.from(chunk, encoding as BufferEncoding)
                  : (chunk as Uint8Array),
              );
        return this.#printFrom(target, text, done);
      }) as Write,
    };
    this.#captured.push(target);
    stream.write = target.patched;
  }

  /** Prints the whole lines a captured stream has received; holds the rest. */
  #printFrom(target: Captured, text: string, done: Callback | undefined): boolean {
    // Stopped while another capture still wraps this one: pass everything through.
    if (this.#stopped) return target.write.call(target.stream, text, 'utf8', done);
    const pending = target.held + text;
    const end = pending.lastIndexOf('\n');
    if (end < 0) {
      target.held = pending;
      if (done) process.nextTick(done);
      return true;
    }
    target.held = pending.slice(end + 1);
    this.#erase();
    const lines = pending.slice(0, end + 1);
    const flushed = target.write.call(target.stream, lines, 'utf8', done);
    this.#scheduleRedraw();
    return flushed;
  }

  #draw(): void {
    const lines = this.#lines.map((line) => `${this.#fit(line)}\n`).join('');
    const hide = this.#cursorHidden || lines === '' ? '' : hideCursor;
    if (hide) this.#cursorHidden = true;
    const text = `${this.#eraseText()}${hide}${lines}`;
    if (text !== '') this.#write(text);
    this.#drawn = this.#lines.length;
  }

  #erase(): void {
    if (this.#drawn === 0) return;
    this.#write(this.#eraseText());
    this.#drawn = 0;
  }

  /** Cursor up over the live lines, then clear to the end of the screen. */
  #eraseText(): string {
    return this.#drawn === 0 ? '' : `\x1b[${this.#drawn}A\r\x1b[0J`;
  }

  #scheduleRedraw(): void {
    if (this.#redrawScheduled) return;
    this.#redrawScheduled = true;
    // Once the current burst of writes is over, not after each line.
    setImmediate(() => {
      this.#redrawScheduled = false;
      if (!this.#stopped && this.#drawn === 0 && this.#lines.length > 0) this.#draw();
    }).unref();
  }

  /** A line cut to the terminal's width: a wrapped line would break the erasing. */
  #fit(line: string): string {
    const width = Math.max(10, (this.#stream.columns || 80) - 1);
    const chars = [...line];
    return chars.length <= width ? line : `${chars.slice(0, width - 1).join('')}…`;
  }
}
