// SIGTERM and SIGINT from the daemon's first instant: during start-up they are remembered (and acted on), later they stop or leave the pair.

/** What a signal asks of the daemon: stop everything, or (`--leave-running`) leave the VMs for the next one. */
export type StopRequest = 'stop' | 'leave';

/**
 * Installed before the daemon starts anything, so no signal ever meets Node's default handler
 * (which would exit and leave QEMUs behind). The first signal sets `request` and calls
 * `onStartUp` until the pair is up, `onServing` once it serves; later signals are logged only
 * through the same callbacks' effects (one answer per daemon).
 */
export class SignalWatch {
  request: StopRequest | undefined;
  /** Called for the first signal while the pair is still starting. */
  onStartUp: ((signal: NodeJS.Signals, request: StopRequest) => void) | undefined;
  /** Set once the pair serves: called for the first signal from then on (or at once if one came before). */
  private servingHandler: ((request: StopRequest) => void) | undefined;
  private readonly isLeavingRunning: boolean;
  private readonly listener = (signal: NodeJS.Signals) => this.receive(signal);
  private readonly target: NodeJS.EventEmitter;

  constructor(isLeavingRunning: boolean, target: NodeJS.EventEmitter = process) {
    this.isLeavingRunning = isLeavingRunning;
    this.target = target;
    target.on('SIGTERM', this.listener);
    target.on('SIGINT', this.listener);
  }

  set onServing(handler: (request: StopRequest) => void) {
    this.servingHandler = handler;
    if (this.request !== undefined) handler(this.request);
  }

  close(): void {
    this.target.off('SIGTERM', this.listener);
    this.target.off('SIGINT', this.listener);
  }

  private receive(signal: NodeJS.Signals): void {
    if (this.request !== undefined) return; // The first signal's stop is under way.
    this.request = this.isLeavingRunning ? 'leave' : 'stop';
    if (this.servingHandler !== undefined) this.servingHandler(this.request);
    else this.onStartUp?.(signal, this.request);
  }
}
