/**
 * Hostile-input properties of the recognisers, called directly (not through recognizePayload's
 * safety net) so a throw fails the test. Budgets: fast-check runs are small locally, larger with CI=true.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  recognizeDns,
  recognizeHttp1,
  recognizeHttp2,
  recognizePayload,
  recognizeResp,
  recognizeTls,
  type ProtocolEvidence,
} from '../../../src/classify/recognize/index.js';
import { HpackDecoder } from '../../../src/classify/recognize/hpack.js';
import { huffmanDecode } from '../../../src/classify/recognize/huffman.js';
import { isProtocolTag } from '../../../src/rules/protocol-tags.js';
import { samples } from './samples.js';

const RUNS = process.env['CI'] === 'true' ? 5000 : 1000;
const HUFF_OUT = new Uint8Array(4096);

/** Every entry point, on one window; returns the evidences (throws propagate). */
function all(b: Uint8Array, o: number, l: number, dir: 0 | 1): (ProtocolEvidence | null)[] {
  const out = [
    recognizeHttp2(b, o, l, dir),
    recognizeTls(b, o, l),
    recognizeHttp1(b, o, l),
    recognizeResp(b, o, l, dir),
    recognizeDns(b, o, l, 6, 53),
    recognizeDns(b, o, l, 17, 5353),
  ];
  new HpackDecoder().decode(b, Math.max(0, o), Math.min(b.length, o + l));
  huffmanDecode(b, Math.max(0, o), Math.min(b.length, o + l), HUFF_OUT);
  return out;
}

function wellFormed(e: ProtocolEvidence | null): void {
  if (e === null) return;
  expect(e.tags.length).toBeGreaterThan(0);
  for (const t of e.tags) expect(isProtocolTag(t)).toBe(true);
  expect(e.tags).toContain(e.protocol);
  for (const v of Object.values(e.detail)) {
    expect(typeof v).toBe('string');
    expect(v.length).toBeLessThanOrEqual(256);
  }
}

/** xorshift32: a fixed, seeded stream of "random" bytes, the same on every run. */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x & 0xff;
  };
}

describe('recognisers on hostile bytes', () => {
  it('random bytes and windows never throw; any evidence is well-formed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: -4, max: 620 }), fc.integer({ min: -4, max: 700 }), fc.constantFrom<0 | 1>(0, 1), (b, o, l, dir) => {
        for (const e of all(b, o, l, dir)) wellFormed(e);
        wellFormed(recognizePayload(b, o, l, dir, 6, 6379));
        wellFormed(recognizePayload(b, o, l, dir, 17, 53));
      }),
      { numRuns: RUNS },
    );
  });

  it('random bytes starting with each protocol\'s first bytes never throw', () => {
    const heads = ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', '\x16\x03\x01', '\x16\x03\x03\x00\x40\x02', 'GET /', 'HTTP/1.1 200 ', '*3\r\n$3\r\n', '+', '$5\r\n', '%2\r\n', '\x00\x00\x00\x04\x00\x00\x00\x00\x00'];
    fc.assert(
      fc.property(fc.constantFrom(...heads), fc.uint8Array({ maxLength: 500 }), fc.constantFrom<0 | 1>(0, 1), (h, tail, dir) => {
        const b = new Uint8Array([...Buffer.from(h, 'latin1'), ...tail]);
        for (const e of all(b, 0, b.length, dir)) wellFormed(e);
      }),
      { numRuns: RUNS },
    );
  });

  it('a fixed seed set of 3000 random buffers is never RESP, TLS, HTTP/1 or HTTP/2', () => {
    let dns = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const next = seeded(seed * 2654435761);
      const b = new Uint8Array(16 + (seed % 497));
      for (let i = 0; i < b.length; i++) b[i] = next();
      for (const dir of [0, 1] as const) {
        const e = recognizePayload(b, 0, b.length, dir, 6, 6379);
        if (e !== null) {
          expect(['resp', 'tls', 'http1', 'http2', 'grpc']).not.toContain(e.protocol);
          dns++;
        }
      }
    }
    expect(dns).toBeLessThan(3); // DNS over TCP checks ~40 bits of header and name: essentially never
  });

  it('every prefix and every suffix of every sample never throws; prefixes stay in their family', () => {
    for (const s of samples()) {
      const full = recognizePayload(s.bytes, 0, s.bytes.length, s.direction, s.transport, s.serverPort);
      for (let n = 0; n <= s.bytes.length; n++) {
        for (const e of all(s.bytes, 0, n, s.direction)) wellFormed(e);
        const p = recognizePayload(s.bytes, 0, n, s.direction, s.transport, s.serverPort);
        wellFormed(p);
        if (p !== null) expect(p.tags[0], `${s.name} cut at ${n}`).toBe(full!.tags[0]);
        all(s.bytes, n, s.bytes.length - n, s.direction);
      }
    }
  });

  it('without details (a summary alone) every sample, cut anywhere, gives the same protocol, tags and completeness', () => {
    const core = (e: ProtocolEvidence | null): unknown => (e === null ? null : { protocol: e.protocol, tags: e.tags, incomplete: e.incomplete === true });
    let http1 = 0;
    // A request whose line is longer than the bytes a cut one must show (then 'incomplete').
    const longTarget = Buffer.from('GET /api/v1/query_range?query=up&start=1700000000&end=1700003600&step=15 HTTP/1.1\r\nHost: prometheus:9090\r\nUser-Agent: Grafana/10.4.1\r\n\r\n', 'latin1');
    const extra = { name: 'long request line', bytes: new Uint8Array(longTarget), direction: 0 as const, transport: 6, serverPort: 9090 };
    for (const s of [...samples(), extra]) {
      for (let n = 0; n <= s.bytes.length; n++) {
        const full = recognizePayload(s.bytes, 0, n, s.direction, s.transport, s.serverPort, true);
        const slim = recognizePayload(s.bytes, 0, n, s.direction, s.transport, s.serverPort, false);
        expect(core(slim), `${s.name} cut at ${n}`).toEqual(core(full));
        if (slim !== null && full !== null && slim.protocol === 'http1' && Object.keys(slim.detail).length === 0) http1++;
      }
    }
    // HTTP/1 requests among them, answered without their header fields.
    expect(http1).toBeGreaterThan(10);
  });

  it('mutated samples (byte flips, cuts) never throw', () => {
    const all_ = samples();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: all_.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        fc.constantFrom<0 | 1>(0, 1),
        (i, flips, cutAt, dir) => {
          const b = all_[i]!.bytes.slice();
          for (const [pos, v] of flips) b[pos % b.length] = v;
          const n = cutAt % (b.length + 1);
          for (const e of all(b, 0, n, dir)) wellFormed(e);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
