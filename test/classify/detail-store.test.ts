import { describe, expect, it } from 'vitest';
import { DetailStore } from '../../src/classify/detail-store.js';
import { prng } from '../../fixtures/gen/scenario.js';

/** Same own keys in the same order, same values. */
function expectSame(got: Record<string, string>, want: Record<string, unknown>): void {
  expect(Object.keys(got)).toEqual(Object.keys(want));
  expect(got).toEqual(want);
}

describe('DetailStore', () => {
  it('gives back the same fields in the same order, as a new object', () => {
    const store = new DetailStore();
    const d = { dnsQr: 'query', dnsQname: 'grafana-21.monitoring.svc.cluster.local', dnsQtype: 'A', note: '' };
    const ref = store.put(d);
    expect(ref).toBeGreaterThan(0);
    const got = store.get(ref);
    expectSame(got, d);
    expect(got).not.toBe(d);
    // Another key order is another order.
    expectSame(store.get(store.put({ dnsQtype: 'AAAA', dnsQr: 'query' })), { dnsQtype: 'AAAA', dnsQr: 'query' });
  });

  it('stores nothing for a detail without fields', () => {
    const store = new DetailStore();
    expect(store.put({})).toBe(0);
    expect(store.get(0)).toEqual({});
    store.release(0);
    expect(store.held).toBe(0);
  });

  it('keeps every UTF-16 code unit: latin1, wider chars, lone surrogates, controls', () => {
    const store = new DetailStore();
    const values = ['\u00ff\u0000\u007f"\\', 'caf\u00e9', '\u0100', 'snowman \u2603', 'emoji \ud83d\ude00', 'lone \ud800 high', 'lone \udfff low', '\ud83d', 'x'.repeat(300)];
    for (const v of values) expectSame(store.get(store.put({ a: v })), { a: v });
    // A wide value after narrow ones restarts the record two bytes per char, all fields included.
    const mixed = { first: 'plain', second: 'x'.repeat(40), third: '\u4e2d\u6587', fourth: 'end' };
    expectSame(store.get(store.put(mixed)), mixed);
  });

  it('keeps details it cannot encode as they are: values that are not strings, records over 16 KiB, values over 65,535 chars', () => {
    const store = new DetailStore();
    const notString = { a: 'x', n: 5 } as unknown as Record<string, string>;
    const big: Record<string, string> = {};
    for (let i = 0; i < 10; i++) big[`k${i}`] = 'y'.repeat(2000);
    const huge = { h: 'z'.repeat(70_000) };
    for (const d of [notString, big, huge]) {
      const ref = store.put(d);
      expect(ref).toBeLessThan(0);
      expectSame(store.get(ref), d);
    }
    expect(store.held).toBe(3);
  });

  it('reuses released records: a steady number of live details keeps the arena its size', () => {
    const store = new DetailStore();
    const live: number[] = [];
    const host = (i: number, round: number): string => `host-${String(i).padStart(4, '0')}.r${String(round).padStart(2, '0')}.example`;
    for (let i = 0; i < 2000; i++) live.push(store.put({ host: host(i, 99), path: '/'.repeat(i % 50) }));
    const size = store.arenaBytes;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < live.length; i++) {
        store.release(live[i]!);
        live[i] = store.put({ host: host(i, round), path: '/'.repeat(i % 50) });
      }
    }
    expect(store.arenaBytes).toBe(size);
    expect(store.held).toBe(2000);
    expectSame(store.get(live[7]!), { host: host(7, 19), path: '/'.repeat(7) });
  });

  it('random details, stored and released in random order, come back whole across arena growth', () => {
    const rnd = prng(0x5eed);
    const store = new DetailStore();
    const keys = ['dnsQname', 'sni', 'httpPath', 'host', 'userAgent', 'grpcPath', '0', '17', 'note'];
    const pick = (): string => {
      const kind = rnd();
      const n = Math.floor(rnd() * (rnd() < 0.1 ? 600 : 40));
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(kind < 0.7 ? 0x20 + Math.floor(rnd() * 95) : kind < 0.9 ? Math.floor(rnd() * 256) : Math.floor(rnd() * 65536));
      return s;
    };
    const held = new Map<number, Record<string, string>>();
    for (let step = 0; step < 20_000; step++) {
      if (held.size > 0 && rnd() < 0.3) {
        const refs = [...held.keys()];
        const ref = refs[Math.floor(rnd() * refs.length)]!;
        expectSame(store.get(ref), held.get(ref)!);
        store.release(ref);
        held.delete(ref);
        continue;
      }
      const d: Record<string, string> = {};
      const fields = Math.floor(rnd() * 5);
      for (let f = 0; f < fields; f++) d[keys[Math.floor(rnd() * keys.length)]!] = pick();
      const ref = store.put(d);
      if (ref === 0) {
        expect(Object.keys(d)).toHaveLength(0);
        continue;
      }
      expect(held.has(ref)).toBe(false);
      held.set(ref, d);
    }
    expect(store.arenaBytes).toBeGreaterThan(64 * 1024);
    expect(store.held).toBe(held.size);
    for (const [ref, d] of held) expectSame(store.get(ref), d);
  });
});
