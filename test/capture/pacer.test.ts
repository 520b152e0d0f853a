/** Replay pacing: when records are due, pause, abort, and the --speed syntax. */
import { describe, expect, it } from 'vitest';
import { Pacer, Pause, parseSpeed } from '../../src/capture/pacer.js';
import type { FrameSink } from '../../src/capture/types.js';

function sinkCounting(): { frames: number[]; sink: FrameSink } {
  const frames: number[] = [];
  return { frames, sink: { frame: (_b: Uint8Array, _o: number, _c: number, _l: number, sec: number, nsec: number) => void frames.push(sec + nsec / 1e9) } };
}

const BUF = new Uint8Array(1);

describe('Pacer', () => {
  it('a record is due at wall start + capture offset / speed, minus nothing, plus time paused', () => {
    let now = 1000;
    const { frames, sink } = sinkCounting();
    const p = new Pacer(sink, 10, () => now);
    expect(p.dueAt()).toBe(-Infinity);
    p.frame(BUF, 0, 1, 1, 100, 0, 1, 0);
    expect(p.dueAt()).toBe(1000);
    p.frame(BUF, 0, 1, 1, 105, 500_000_000, 1, 0); // 5.5 s of capture at 10x: 550 ms
    expect(p.dueAt()).toBeCloseTo(1550, 6);
    now = 1200;
    p.setPaused(true);
    expect(p.paused).toBe(true);
    now = 1500;
    p.setPaused(false);
    expect(p.dueAt()).toBeCloseTo(1850, 6); // 300 ms paused moves everything later
    p.frame(BUF, 0, 1, 1, 90, 0, 1, 0); // time stepping back: due in the past, never waits
    expect(p.dueAt()).toBeLessThan(now);
    expect(frames).toEqual([100, 105.5, 90]);
  });

  it('gate waits until the last record is due, holds while paused, and an abort releases it', async () => {
    const { sink } = sinkCounting();
    const p = new Pacer(sink, 1);
    p.frame(BUF, 0, 1, 1, 0, 0, 1, 0);
    p.frame(BUF, 0, 1, 1, 0, 150_000_000, 1, 0); // 150 ms later in the capture
    const t0 = performance.now();
    await p.gate();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);

    p.setPaused(true);
    const ac = new AbortController();
    let released = false;
    const waiting = p.gate(ac.signal).then(() => (released = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(released).toBe(false);
    ac.abort();
    await waiting;
    expect(released).toBe(true);
  });

  it('resuming releases a paused gate promptly; `ready` false holds it', async () => {
    const { sink } = sinkCounting();
    let ready = false;
    const p = new Pacer(sink, 1000, () => performance.now(), () => ready);
    p.frame(BUF, 0, 1, 1, 0, 0, 1, 0);
    p.setPaused(true);
    let done = false;
    const g = p.gate().then(() => (done = true));
    setTimeout(() => p.setPaused(false), 50);
    await new Promise((r) => setTimeout(r, 250));
    expect(done).toBe(false); // resumed, but the pipeline has no room
    ready = true;
    await g;
    expect(done).toBe(true);
  });
});

describe('parseSpeed', () => {
  it('accepts max, Nx and plain numbers', () => {
    expect(parseSpeed('max')).toBeNull();
    expect(parseSpeed('MAX')).toBeNull();
    expect(parseSpeed('1x')).toBe(1);
    expect(parseSpeed('10x')).toBe(10);
    expect(parseSpeed('2.5')).toBe(2.5);
    expect(parseSpeed(' 0.5x ')).toBe(0.5);
  });

  it('rejects anything else with the value in the message', () => {
    for (const bad of ['', 'x', '0', '0x', '-1x', 'fast', '1e3', '10xx', '2000000x']) {
      expect(() => parseSpeed(bad), bad).toThrow(/--speed/);
    }
  });
});

describe('Pause', () => {
  it('holds while paused, counts the time paused, and adds no listener per wait', async () => {
    let now = 0;
    const p = new Pause(() => now);
    await p.hold(); // running: returns at once
    p.set(true);
    const ac = new AbortController();
    let released = false;
    const held = p.hold(ac.signal).then(() => (released = true));
    await new Promise((r) => setTimeout(r, 350)); // several internal sleeps
    expect(released).toBe(false);
    now = 500;
    p.set(false);
    await held;
    expect(p.pausedMs).toBe(500);
    // A long pause must not pile up abort listeners on the session's signal.
    p.set(true);
    let added = 0;
    let removed = 0;
    const signal = ac.signal;
    const add = signal.addEventListener.bind(signal);
    const rm = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...a: Parameters<typeof add>) => { added++; return add(...a); }) as typeof add;
    signal.removeEventListener = ((...a: Parameters<typeof rm>) => { removed++; return rm(...a); }) as typeof rm;
    const again = p.hold(signal);
    await new Promise((r) => setTimeout(r, 350));
    p.set(false);
    await again;
    expect(added).toBeGreaterThan(1);
    expect(removed).toBe(added);
  });
});
