// Reads a process's resident memory from /proc: the host's view of what a QEMU costs.
import { readFile } from 'node:fs/promises';

/** VmRSS of `pid` in bytes, or undefined when the process is gone. */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined; // The process exited: it holds no memory.
  }
}
