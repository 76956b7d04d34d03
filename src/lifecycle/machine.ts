// The pair's lifecycle as data: what every fault signal does in every state, for either VM; pure, no I/O.

/** Where the pair is. Derived from facts by `lifecycleStateOf`, never stored beside them. */
export const LIFECYCLE_STATES = [
  'booting',
  'protected',
  'failing-over',
  'moving',
  're-protecting',
  'unprotected',
  'blocked',
  'stopping',
] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

/** What a detector reports (a `request` is an operator's or the restart policy's explicit ask). */
export const FAULT_SIGNALS = ['panic', 'hang', 'qemu-exit', 'qmp-loss', 'app-exit', 'request'] as const;
export type FaultSignal = (typeof FAULT_SIGNALS)[number];

/**
 * Which VM the signal concerns. `serving`: a VM that runs protected apps (the active; a standby
 * that runs an app moved to it alone; during an operation, the VM it takes apps from). `spare`:
 * a VM that runs none (the standby; during an operation, the VM it places apps on; during
 * re-protection, the standby that boots).
 */
export const SUBJECTS = ['serving', 'spare'] as const;
export type Subject = (typeof SUBJECTS)[number];

/**
 * What the pair does. Nothing is dropped: each reaction either acts, joins the operation that
 * already acts on that VM, or keeps the fault where `status` shows it until it can be acted on.
 */
export type Reaction =
  /** Whole-VM failover of the subject onto the other VM (fence first). */
  | 'fail-over'
  /** The restart policy decides: restart in place, move the app alone, or fail the VM over. */
  | 'app-policy'
  /** Fence the spare and boot a fresh one; the pair is unprotected until it is up. */
  | 'replace-standby'
  /** The operation under way already fences this VM, or its next step sees the fault and fails. */
  | 'join'
  /** The operation under way loses its target: it stops, undoes its steps, and the pair blocks with the reason. */
  | 'abort'
  /** The move under way stops; the VM it took the app from fails over as a whole. */
  | 'escalate'
  /** Kept, shown in `status`, and acted on (as `fail-over`) as soon as a standby is ready. */
  | 'queue'
  /** As `queue`, and a fresh standby is booted now, since none boots. */
  | 'queue-and-boot'
  /** The start fails: every QEMU of the state directory is stopped and the daemon says why. */
  | 'fail-start'
  /** Blocked: the daemon never acts on its own (it cannot prove where the app runs); the fault is kept and shown. */
  | 'hold'
  /** The VMs are being stopped on purpose: an exit is what was asked for. */
  | 'expected'
  /** An app exit on a VM that runs no protected app: logged, nothing there to protect. */
  | 'log';

export interface Transition {
  readonly reaction: Reaction;
  /** The state the reaction leads to (an operation that then ends moves on from there). */
  readonly next: LifecycleState;
}

type Row = Readonly<Record<FaultSignal, Transition>>;

const to = (reaction: Reaction, next: LifecycleState): Transition => ({ reaction, next });

/** The same transition for the four signals that concern a whole VM (and an explicit request). */
function vmFaults(transition: Transition, request: Transition = transition) {
  return { panic: transition, hang: transition, 'qemu-exit': transition, 'qmp-loss': transition, request };
}

/**
 * Every (state, subject, signal): the compiler refuses a missing entry. Read a row as "in this
 * state, when this VM reports this signal, the pair does this and is then in that state".
 */
export const TRANSITIONS: Readonly<Record<LifecycleState, Readonly<Record<Subject, Row>>>> = {
  booting: {
    serving: { ...vmFaults(to('fail-start', 'stopping')), 'app-exit': to('fail-start', 'stopping') },
    spare: { ...vmFaults(to('fail-start', 'stopping')), 'app-exit': to('log', 'booting') },
  },
  protected: {
    serving: { ...vmFaults(to('fail-over', 'failing-over')), 'app-exit': to('app-policy', 'protected') },
    spare: {
      ...vmFaults(to('replace-standby', 're-protecting'), to('replace-standby', 're-protecting')),
      'app-exit': to('log', 'protected'),
    },
  },
  'failing-over': {
    serving: { ...vmFaults(to('join', 'failing-over')), 'app-exit': to('join', 'failing-over') },
    spare: { ...vmFaults(to('abort', 'blocked')), 'app-exit': to('join', 'failing-over') },
  },
  moving: {
    serving: { ...vmFaults(to('escalate', 'failing-over')), 'app-exit': to('join', 'moving') },
    spare: { ...vmFaults(to('abort', 'blocked')), 'app-exit': to('join', 'moving') },
  },
  're-protecting': {
    serving: { ...vmFaults(to('queue', 're-protecting')), 'app-exit': to('app-policy', 're-protecting') },
    spare: { ...vmFaults(to('replace-standby', 're-protecting')), 'app-exit': to('log', 're-protecting') },
  },
  unprotected: {
    serving: {
      ...vmFaults(to('queue-and-boot', 're-protecting')),
      'app-exit': to('app-policy', 'unprotected'),
    },
    spare: { ...vmFaults(to('replace-standby', 're-protecting')), 'app-exit': to('log', 'unprotected') },
  },
  blocked: {
    serving: { ...vmFaults(to('hold', 'blocked')), 'app-exit': to('hold', 'blocked') },
    spare: { ...vmFaults(to('hold', 'blocked')), 'app-exit': to('hold', 'blocked') },
  },
  stopping: {
    serving: { ...vmFaults(to('expected', 'stopping')), 'app-exit': to('expected', 'stopping') },
    spare: { ...vmFaults(to('expected', 'stopping')), 'app-exit': to('expected', 'stopping') },
  },
};

/** The transition for one signal. */
export function transitionFor(state: LifecycleState, subject: Subject, signal: FaultSignal): Transition {
  return TRANSITIONS[state][subject][signal];
}

/** The facts the lifecycle state is derived from (what the pair knows, not what it last said). */
export interface LifecycleFacts {
  /** The pair's own mark: still starting, stopping, or blocked (with a reason). */
  readonly phase: 'starting' | 'running' | 'blocked' | 'stopping';
  /** The operation under way, if any. */
  readonly operation: 'whole-vm' | 'app-move' | undefined;
  /** A standby VM boots now (re-protection). */
  readonly isStandbyBooting: boolean;
  /** The standby is adopted and its QEMU runs. */
  readonly isStandbyReady: boolean;
}

/** The state the facts put the pair in. */
export function lifecycleStateOf(facts: LifecycleFacts): LifecycleState {
  if (facts.phase === 'stopping') return 'stopping';
  if (facts.phase === 'blocked') return 'blocked';
  if (facts.phase === 'starting') return 'booting';
  if (facts.operation === 'whole-vm') return 'failing-over';
  if (facts.operation === 'app-move') return 'moving';
  if (facts.isStandbyReady) return 'protected';
  return facts.isStandbyBooting ? 're-protecting' : 'unprotected';
}
