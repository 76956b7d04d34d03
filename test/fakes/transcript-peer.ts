// A fake QMP server that replays a transcript recorded from the real QEMU (test/fixtures/qmp/*.jsonl).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

type Message = Record<string, unknown>;

export interface TranscriptHeader {
  /** QEMU's version from the greeting, `major.minor.micro`. */
  qemu: string;
  package: string;
  recordedBy: string;
  scenario: string;
  description: string;
  accel: string;
  /** Who closed the connection at the end: QEMU (after `quit`) or the recording client. */
  closedBy: 'qemu' | 'client';
}

export interface TranscriptLine {
  direction: 'send' | 'recv';
  message: Message;
}

export interface Transcript {
  file: string;
  header: TranscriptHeader;
  lines: TranscriptLine[];
}

/** One client command and what QEMU sent after it, up to the next command: its reply and any events. */
interface Exchange {
  command: Message;
  answers: Message[];
}

export const TRANSCRIPT_DIR = join(import.meta.dirname, '..', 'fixtures', 'qmp');

/** Parses one transcript file: a header line, then one `{ direction, message }` line per QMP message. */
export function readTranscript(path: string): Transcript {
  const [headerLine, ...rest] = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  if (headerLine === undefined) throw new Error(`empty transcript: ${path}`);
  const header = JSON.parse(headerLine) as TranscriptHeader;
  const lines = rest.map((line, index) => {
    const parsed = JSON.parse(line) as TranscriptLine;
    if ((parsed.direction !== 'send' && parsed.direction !== 'recv') || typeof parsed.message !== 'object') {
      throw new Error(`${basename(path)} line ${index + 2}: expected { direction, message }`);
    }
    return parsed;
  });
  return { file: basename(path), header, lines };
}

/** Every transcript in `dir`, sorted by file name. */
export function readTranscripts(dir: string = TRANSCRIPT_DIR): Transcript[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => readTranscript(join(dir, name)));
}

/**
 * Serves one client: sends the recorded greeting, then for each command the client sends checks
 * it against the next recorded one (`execute` and `arguments`; ids may differ), and answers with
 * what QEMU sent after it, the reply carrying the client's id. A mismatch is recorded in
 * `mismatches` and answered with an error, and the replay stays where it was.
 */
export class TranscriptPeer {
  readonly transcript: Transcript;
  readonly socketPath: string;
  readonly mismatches: string[] = [];
  readonly received: Message[] = [];
  private readonly dir: string;
  private readonly server: Server;
  private readonly opening: Message[];
  private readonly exchanges: Exchange[];
  private next = 0;
  private socket: Socket | undefined;
  private buffered = '';

  constructor(transcript: Transcript) {
    this.transcript = transcript;
    const { opening, exchanges } = splitExchanges(transcript.lines);
    this.opening = opening;
    this.exchanges = exchanges;
    this.dir = mkdtempSync(join(tmpdir(), 'transcript-qmp-'));
    this.socketPath = join(this.dir, 'qmp.sock');
    this.server = createServer((socket) => this.onConnection(socket));
  }

  listen(): Promise<this> {
    return new Promise((resolve) => this.server.listen(this.socketPath, () => resolve(this)));
  }

  /** Recorded commands the client has not sent yet. */
  get remainingCommands(): string[] {
    return this.exchanges.slice(this.next).map((exchange) => String(exchange.command.execute));
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private onConnection(socket: Socket): void {
    if (this.socket !== undefined) {
      // QEMU's monitor chardev serves one client at a time; a second one is a test bug.
      this.mismatches.push('a second client connected');
      socket.destroy();
      return;
    }
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => undefined); // The client under test may drop the connection at any time.
    for (const message of this.opening) this.write(message);
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    for (;;) {
      const newline = this.buffered.indexOf('\n');
      if (newline === -1) return;
      const line = this.buffered.slice(0, newline).trim();
      this.buffered = this.buffered.slice(newline + 1);
      if (line === '') continue;
      try {
        this.onCommand(JSON.parse(line) as Message);
      } catch {
        this.mismatches.push(`not JSON: ${line.slice(0, 80)}`);
      }
    }
  }

  private onCommand(command: Message): void {
    this.received.push(command);
    const exchange = this.exchanges[this.next];
    const problem = describeMismatch(command, exchange?.command);
    if (exchange === undefined || problem !== undefined) {
      this.mismatches.push(
        problem ?? `unexpected ${String(command.execute)} after the end of the transcript`,
      );
      const desc = `transcript mismatch: ${this.mismatches.at(-1)}`;
      this.write({ error: { class: 'GenericError', desc }, id: command.id });
      return;
    }
    this.next += 1;
    for (const answer of exchange.answers) {
      const isReply = 'return' in answer || 'error' in answer;
      this.write(isReply && 'id' in answer ? { ...answer, id: command.id } : answer);
    }
    if (this.next === this.exchanges.length && this.transcript.header.closedBy === 'qemu') {
      this.socket?.end();
    }
  }

  private write(message: Message): void {
    // QEMU ends every QMP line with CRLF.
    this.socket?.write(`${JSON.stringify(message)}\r\n`);
  }
}

function splitExchanges(lines: readonly TranscriptLine[]): { opening: Message[]; exchanges: Exchange[] } {
  const opening: Message[] = [];
  const exchanges: Exchange[] = [];
  for (const { direction, message } of lines) {
    if (direction === 'send') exchanges.push({ command: message, answers: [] });
    else (exchanges.at(-1)?.answers ?? opening).push(message);
  }
  return { opening, exchanges };
}

function describeMismatch(actual: Message, expected: Message | undefined): string | undefined {
  if (expected === undefined) return undefined;
  if (actual.execute !== expected.execute) {
    return `expected ${String(expected.execute)}, got ${String(actual.execute)}`;
  }
  if (!isDeepStrictEqual(actual.arguments, expected.arguments)) {
    return `${String(actual.execute)}: expected arguments ${JSON.stringify(expected.arguments)}, got ${JSON.stringify(actual.arguments)}`;
  }
  return undefined;
}
