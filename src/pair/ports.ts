// Picks free loopback TCP ports for QEMU's host forwards.
import { createServer } from 'node:net';

/** Asks the kernel for a free port on 127.0.0.1 (it may be taken again before QEMU binds it; launch retries). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
