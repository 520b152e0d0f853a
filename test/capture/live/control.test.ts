import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveControl, type StopReason } from '../../../src/capture/live/control.js';

describe('LiveControl', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks the flow clock once a second, one second behind the wall clock, until stopped', () => {
    vi.useFakeTimers({ now: new Date('2024-01-01T00:00:10.500Z') });
    const ticks: number[] = [];
    const ctl = new LiveControl(new AbortController().signal, () => {});
    ctl.arm(undefined, (s) => ticks.push(s));
    vi.advanceTimersByTime(3000);
    const t0 = Date.UTC(2024, 0, 1, 0, 0, 10) / 1000;
    expect(ticks).toEqual([t0, t0 + 1, t0 + 2]);
    ctl.stop('signal');
    vi.advanceTimersByTime(3000);
    expect(ticks).toHaveLength(3);
  });

  it('stops once, for the first reason: --duration, then a later abort is ignored', () => {
    vi.useFakeTimers();
    const reasons: StopReason[] = [];
    const ac = new AbortController();
    const ctl = new LiveControl(ac.signal, (r) => reasons.push(r));
    ctl.arm(2.5, undefined);
    vi.advanceTimersByTime(2499);
    expect(reasons).toEqual([]);
    vi.advanceTimersByTime(1);
    ac.abort();
    expect(reasons).toEqual(['duration']);
    expect(ctl.stopReason).toBe('duration');
  });

  it('an already-aborted signal stops at arm()', () => {
    const ac = new AbortController();
    ac.abort();
    const reasons: StopReason[] = [];
    new LiveControl(ac.signal, (r) => reasons.push(r)).arm(10, () => {});
    expect(reasons).toEqual(['signal']);
  });
});
