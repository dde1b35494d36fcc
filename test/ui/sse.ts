/** Reading a server-sent event stream in the `weft ui` tests, message by message. */

/** One message of the stream. */
export interface SseMessage {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
}

/** The messages of an event-stream response, as they come, and a way to hang up. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  #done = false;

  constructor(response: Response) {
    if (!response.body) throw new Error('The answer has no body to read events from.');
    this.#reader = response.body.getReader();
  }

  /** The next message, or undefined once the stream closed. */
  async next(): Promise<SseMessage | undefined> {
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        return parse(block);
      }
      if (this.#done) return undefined;
      const { done, value } = await this.#reader.read();
      if (done) this.#done = true;
      else this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  /** Reads messages until one for which `wanted` is true, and returns it with those before. */
  async until(
    wanted: (message: SseMessage) => boolean,
  ): Promise<{ found: SseMessage; before: SseMessage[] }> {
    const before: SseMessage[] = [];
    for (;;) {
      const message = await this.next();
      if (!message) {
        throw new Error(
          `The stream closed before the message waited for; it sent: ${before.map((m) => m.event).join(', ')}`,
        );
      }
      if (wanted(message)) return { found: message, before };
      before.push(message);
    }
  }

  /** Every message left, until the stream closes. */
  async rest(): Promise<SseMessage[]> {
    const messages: SseMessage[] = [];
    for (let message = await this.next(); message; message = await this.next()) {
      messages.push(message);
    }
    return messages;
  }

  /** Hangs up, as a page that is closed. */
  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

function parse(block: string): SseMessage {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  return { event, id, data: data.join('\n') };
}
