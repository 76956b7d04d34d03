// Newline-delimited JSON over a byte stream, with a line-size cap; knows nothing of QMP or the agent.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

export type JsonObject = { [key: string]: unknown };

export interface JsonLinesEvents {
  message: [JsonObject];
  /** A line that was over the cap, not JSON, or not an object; the stream goes on. */
  invalid: [{ reason: 'too-long' | 'bad-json' | 'not-object'; excerpt: string }];
  close: [Error | undefined];
}

/** Default cap on one line: QMP replies for query-* commands stay far below this. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/**
 * Frames a duplex byte stream as JSON objects, one per line. Over-long lines are dropped up to
 * the next newline and reported as `invalid`, so a hostile peer cannot grow our buffer.
 */
export class JsonLines extends EventEmitter<JsonLinesEvents> {
  readonly maxLineBytes: number;
  private readonly stream: Duplex;
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private isDiscarding = false;
  private isClosed = false;

  constructor(stream: Duplex, options: { maxLineBytes?: number } = {}) {
    super();
    this.stream = stream;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (error: Error) => this.finish(error));
    stream.on('close', () => this.finish(undefined));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Writes one object as a line. Returns false when the stream is already closed. */
  send(message: JsonObject): boolean {
    if (this.isClosed || this.stream.destroyed) return false;
    this.stream.write(`${JSON.stringify(message)}\n`);
    return true;
  }

  /** Closes the underlying stream; `close` is emitted once. */
  close(): void {
    this.stream.destroy();
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) {
        this.append(chunk.subarray(start));
        return;
      }
      this.append(chunk.subarray(start, newline));
      this.endLine();
      start = newline + 1;
    }
  }

  private append(part: Buffer): void {
    if (this.isDiscarding || part.length === 0) return;
    if (this.bufferedBytes + part.length > this.maxLineBytes) {
      const excerpt = Buffer.concat([...this.chunks, part])
        .subarray(0, 80)
        .toString('utf8');
      this.chunks = [];
      this.bufferedBytes = 0;
      this.isDiscarding = true;
      this.emit('invalid', { reason: 'too-long', excerpt });
      return;
    }
    this.chunks.push(part);
    this.bufferedBytes += part.length;
  }

  private endLine(): void {
    if (this.isDiscarding) {
      this.isDiscarding = false;
      return;
    }
    const line = Buffer.concat(this.chunks).toString('utf8').trim();
    this.chunks = [];
    this.bufferedBytes = 0;
    if (line.length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.emit('invalid', { reason: 'bad-json', excerpt: line.slice(0, 80) });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.emit('invalid', { reason: 'not-object', excerpt: line.slice(0, 80) });
      return;
    }
    this.emit('message', value as JsonObject);
  }

  private finish(error: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.emit('close', error);
  }
}
