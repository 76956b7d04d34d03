// CPU time a process has used, from /proc/<pid>/stat: the QEMU-is-progressing signal.
import { readFile } from 'node:fs/promises';

/** Fields after the `(comm)` field: index 0 is field 3 (state), so utime (14) and stime (15) are 11 and 12. */
const UTIME_INDEX = 11;
const STIME_INDEX = 12;

/**
 * utime + stime in clock ticks from the text of /proc/<pid>/stat (all threads of the process).
 * undefined when the text is not a stat line. The comm field may hold spaces and ')', so the
 * fields are counted from the last ')'.
 */
export function parseProcStatCpuTicks(statText: string): number | undefined {
  const commEnd = statText.lastIndexOf(')');
  if (commEnd === -1) return undefined;
  const fields = statText
    .slice(commEnd + 1)
    .trim()
    .split(/\s+/);
  const utimeTicks = Number(fields[UTIME_INDEX]);
  const stimeTicks = Number(fields[STIME_INDEX]);
  if (!Number.isSafeInteger(utimeTicks) || !Number.isSafeInteger(stimeTicks)) return undefined;
  return utimeTicks + stimeTicks;
}

/** Reads utime + stime ticks of `pid`; undefined when the process is gone or its stat unreadable. */
export async function readProcessCpuTicks(pid: number, procRoot = '/proc'): Promise<number | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    return parseProcStatCpuTicks(await readFile(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    // The process exited (ENOENT/ESRCH): "unknown", and the process-exit detector reports the exit.
    return undefined;
  }
}

/** A `processProgress` probe for HangDetector: the CPU ticks of the QEMU process `pid`. */
export function processCpuTicksOf(pid: number, procRoot = '/proc'): () => Promise<number | undefined> {
  return () => readProcessCpuTicks(pid, procRoot);
}
