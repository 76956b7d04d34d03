import { describe, expect, it } from 'vitest';
import { socketPathOf } from '../../../src/daemon/socket-path.js';

describe('the daemon socket path', () => {
  it('is baton.sock in the state directory, however the directory is written', () => {
    expect(socketPathOf('/var/lib/baton')).toBe('/var/lib/baton/baton.sock');
    expect(socketPathOf('/var/lib/baton/')).toBe('/var/lib/baton/baton.sock');
    expect(socketPathOf('state')).toBe('state/baton.sock');
  });
});
