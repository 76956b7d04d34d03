// A minimal client for the demo app kvd's line protocol (SET/GET/COUNT/PING), used by the demo and tests.
import { connect, type Socket } from 'node:net';
import { WaitTimeoutError } from '../errors.js';

/** One connection; requests are answered in order, one line each. */
export class KvClient {
  private readonly socket: Socket;
  private buffered = '';
  private readonly waiting: Array<(line: string | undefined) => void> = [];
  private isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      this.buffered += data;
      for (let newline = this.buffered.indexOf('\n'); newline !== -1; newline = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, newline).replace(/\r$/, '');
        this.buffered = this.buffered.slice(newline + 1);
        this.waiting.shift()?.(line);
      }
    });
    socket.on('close', () => {
      this.isClosed = true;
      for (const resolve of this.waiting.splice(0)) resolve(undefined);
    });
    socket.on('error', () => undefined); // Seen as 'close' by the waiters.
  }

  static connect(port: number, timeoutMs = 30_000): Promise<KvClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new WaitTimeoutError({ waitedFor: `a connection to 127.0.0.1:${port}`, timeoutMs }));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new KvClient(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Sends one request line; resolves with the answer line (undefined if the connection closed). */
  request(line: string, timeoutMs = 30_000): Promise<string | undefined> {
    // Nothing answers on a closed connection: say so now rather than at the timeout.
    if (this.isClosed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new WaitTimeoutError({ waitedFor: `kvd's answer to ${line}`, timeoutMs })),
        timeoutMs,
      );
      this.waiting.push((answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.socket.write(`${line}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
