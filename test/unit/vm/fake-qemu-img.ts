// A qemu-img stand-in for the image tests: answers `info` with canned output or fails as qemu-img does, and records its calls.
import type { RunCommand } from '../../../src/vm/qemu-img.js';

/** Answers with `info` (as JSON text unless a string); `failure`: rejects with it instead. */
export function fakeQemuImg(info: unknown, failure?: Error): RunCommand & { calls: string[][] } {
  const calls: string[][] = [];
  const run = async (file: string, args: readonly string[]) => {
    calls.push([file, ...args]);
    if (failure !== undefined) throw failure;
    return { stdout: typeof info === 'string' ? info : JSON.stringify(info) };
  };
  return Object.assign(run, { calls });
}
