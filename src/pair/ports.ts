// Picks free loopback TCP ports for QEMU's host forwards, outside the kernel's ephemeral range.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const EPHEMERAL_RANGE_PATH = '/proc/sys/net/ipv4/ip_local_port_range';
/** The forwards' ports are drawn from here up to the start of the ephemeral range. */
export const FORWARD_PORT_MIN = 20_000;
const ATTEMPTS = 50;

/**
 * A free port on 127.0.0.1 for QEMU to bind a moment later. Ports the kernel hands out by itself
 * (to `listen(0)` and to every outgoing connection) come from the ephemeral range, so one picked
 * there could be taken again before QEMU binds it: a random port below that range is tried
 * instead, and port 0 (the kernel's pick) only when none is free or the range leaves no room.
 */
export async function findFreePort(random: () => number = Math.random): Promise<number> {
  const maxPort = ephemeralStart() - 1;
  if (maxPort > FORWARD_PORT_MIN) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const port = FORWARD_PORT_MIN + Math.floor(random() * (maxPort - FORWARD_PORT_MIN + 1));
      // Free now, but maybe picked a moment ago for a QEMU that has not bound it yet (both VMs of
      // a pair pick their forwards at once): a port is handed out once per process.
      if (givenPorts.has(port)) continue;
      if ((await tryListen(port)) !== undefined && !givenPorts.has(port)) return remember(port);
    }
  }
  return (await tryListen(0)) ?? 0;
}

/** Ports handed out by this process, oldest first (bounded: the range has about 12000). */
const givenPorts = new Set<number>();
const GIVEN_PORTS_KEPT = 4096;

function remember(port: number): number {
  givenPorts.add(port);
  if (givenPorts.size > GIVEN_PORTS_KEPT) givenPorts.delete(givenPorts.values().next().value ?? port);
  return port;
}

function ephemeralStart(): number {
  try {
    const start = Number(readFileSync(EPHEMERAL_RANGE_PATH, 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > 0 ? start : 32_768;
  } catch {
    return 32_768; // Linux's default when the file cannot be read.
  }
}

/** Binds `port` on 127.0.0.1 and lets it go: the port bound, or undefined when it is taken. */
function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}
