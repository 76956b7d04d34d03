// The pair's states, as `status` shows them.
export type PairState = 'starting' | 'protected' | 'failing-over' | 'unprotected' | 'blocked' | 'stopped';
