/** Replay pacing: when records are due, pause, abort, and the --speed syntax. */
import { describe, expect, it } from 'vitest';
import { PACED_MAX_READ_BYTES, PACED_MIN_READ_BYTES, Pacer, Pause, parseSpeed } from '../../src/capture/pacer.js';
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

  it('readBytes: reads span ~5 ms of wall time at the capture\'s data rate and the speed, within 4 KiB..256 KiB', () => {
    const { sink } = sinkCounting();
    const at = (p: Pacer, usStart: number, n: number, capLen: number, usStep: number): void => {
      for (let i = 0; i < n; i++) {
        const us = usStart + i * usStep;
        p.frame(BUF, 0, capLen, capLen, Math.floor(us / 1e6), (us % 1e6) * 1000, 1, 0);
      }
    };
    // Bytes per 5 ms of wall time for `bytes` of records over `spanUs` of capture at `speed`.
    const per5ms = (bytes: number, spanUs: number, speed: number): number => Math.round((bytes / (spanUs / 1e6)) * speed * 0.005);
    // 1000-byte records every 10 µs: ~101.6 MB/s of capture (1016 bytes with the record header).
    const slow = new Pacer(sink, 0.005, () => 0);
    expect(slow.readBytes()).toBe(PACED_MIN_READ_BYTES); // nothing seen yet
    at(slow, 0, 10_000, 1000, 10);
    expect(per5ms(10_000 * 1016, 99_990, 0.005)).toBeLessThan(PACED_MIN_READ_BYTES);
    expect(slow.readBytes()).toBe(PACED_MIN_READ_BYTES); // ~0.5 MB/s of wall time: at least 4 KiB
    const p = new Pacer(sink, 0.1, () => 0);
    at(p, 0, 10_000, 1000, 10);
    expect(p.readBytes()).toBe(per5ms(10_000 * 1016, 99_990, 0.1)); // ~10 MB/s of wall time: ~50 KB per 5 ms
    const fast = new Pacer(sink, 10, () => 0);
    at(fast, 0, 10_000, 1000, 10);
    expect(fast.readBytes()).toBe(PACED_MAX_READ_BYTES);
    // The size follows the capture's recent rate: ten times sparser records, about a tenth of the size.
    at(p, 100_000, 10_000, 1000, 100);
    expect(p.readBytes()).toBe(per5ms(10_000 * 1016, 100_000 + 9_999 * 100 - 99_990, 0.1));
    // Records at one instant: nothing to wait for between them, the size doubles.
    const burst = new Pacer(sink, 1, () => 0);
    at(burst, 0, 100, 1000, 0);
    expect(burst.readBytes()).toBe(2 * PACED_MIN_READ_BYTES);
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
