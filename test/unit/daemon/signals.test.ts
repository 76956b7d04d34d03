import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SignalWatch } from '../../../src/daemon/signals.js';

describe('SignalWatch', () => {
  it('answers a signal during start-up at once, and again once the pair serves', () => {
    const target = new EventEmitter();
    const watch = new SignalWatch(false, target);
    const seen: string[] = [];
    watch.onStartUp = (signal, request) => seen.push(`start-up ${signal} ${request}`);
    target.emit('SIGTERM', 'SIGTERM');
    expect(watch.request).toBe('stop');
    watch.onServing = (request) => seen.push(`serving ${request}`);
    expect(seen).toEqual(['start-up SIGTERM stop', 'serving stop']);
  });

  it('asks to leave the VMs running with --leave-running', () => {
    const target = new EventEmitter();
    const watch = new SignalWatch(true, target);
    const seen: string[] = [];
    watch.onServing = (request) => seen.push(request);
    target.emit('SIGINT', 'SIGINT');
    expect(seen).toEqual(['leave']);
  });

  it('answers the first signal only', () => {
    const target = new EventEmitter();
    const watch = new SignalWatch(false, target);
    const seen: string[] = [];
    watch.onStartUp = (signal) => seen.push(signal);
    target.emit('SIGINT', 'SIGINT');
    target.emit('SIGTERM', 'SIGTERM');
    expect(seen).toEqual(['SIGINT']);
  });

  it('removes its handlers when closed', () => {
    const target = new EventEmitter();
    const watch = new SignalWatch(false, target);
    expect(target.listenerCount('SIGTERM')).toBe(1);
    watch.close();
    expect([target.listenerCount('SIGTERM'), target.listenerCount('SIGINT')]).toEqual([0, 0]);
  });
});
