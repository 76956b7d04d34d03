// A stand-in for a QEMU process's exit: `exited` resolves (code 0) once `exit()` is called.
export interface FakeProcessExit {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exit(): void;
  isRunning(): boolean;
}

export function fakeProcessExit(): FakeProcessExit {
  let isRunning = true;
  let resolveExit: () => void = () => undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    resolveExit = () => {
      isRunning = false;
      resolve({ code: 0, signal: null });
    };
  });
  return { exited, exit: () => resolveExit(), isRunning: () => isRunning };
}
