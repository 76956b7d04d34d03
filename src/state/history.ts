// The persisted record of one finished (or running) failover: id, trigger, each phase's duration, the result.

export type FailoverKind = 'whole-vm' | 'app' | 'switchover';
export type FailoverResult = 'running' | 'succeeded' | 'failed' | 'blocked';

export interface PhaseRecord {
  name: string;
  ms: number;
}

export interface FailoverRecord {
  id: string;
  kind: FailoverKind;
  trigger: string;
  app?: string;
  fromVm: string;
  toVm: string;
  startedAt: string;
  totalMs: number;
  result: FailoverResult;
  phases: PhaseRecord[];
  error?: string;
  /** Set when this failover gave way to a bigger one: the id of that (whole-VM) failover's record. */
  escalatedTo?: string;
}
