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
  tcpNeverRecognised,
  type ProtocolEvidence,
} from '../../../src/classify/recognize/index.js';
import { HpackDecoder } from '../../../src/classify/recognize/hpack.js';
import { dnsOverTcpNeverMatches } from '../../../src/classify/recognize/dns.js';
import { recognizeZeebe, zeebeNeverMatches } from '../../../src/classify/recognize/zeebe.js';
import { respNeverMatches } from '../../../src/classify/recognize/resp.js';
import { huffmanDecode } from '../../../src/classify/recognize/huffman.js';
import { isProtocolTag } from '../../../src/rules/protocol-tags.js';
import { samples } from './samples.js';
import { buildHandshake, buildReplyFrame, buildRequestFrame, buildSbeHeader, kryoPlaceholder, raftSubject, zeebeSamples } from '../../../fixtures/gen/zeebe-frames.js';

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

/** What the detail-free path must keep: protocol, tags and completeness. */
const core = (e: ProtocolEvidence | null): unknown => (e === null ? null : { protocol: e.protocol, tags: e.tags, incomplete: e.incomplete === true });

/** The byte samples plus Zeebe's generated frames (TCP streams and a UDP gossip datagram). */
function detailSamples(): { name: string; bytes: Uint8Array; direction: 0 | 1; transport: number; serverPort: number }[] {
  return [
    ...samples(),
    ...zeebeSamples().map((z) => ({ name: z.name, bytes: z.bytes, direction: z.direction, transport: z.transport === 'udp' ? 17 : 6, serverPort: z.serverPort })),
  ];
}

/** The header blocks of the HTTP/2 samples' first HEADERS frames (frame walk without padding or CONTINUATION). */
function http2HeaderBlocks(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const s of samples()) {
    const b = s.bytes;
    let p = s.direction === 0 ? 24 : 0;
    if (s.direction === 0 && Buffer.from(b.subarray(0, 3)).toString('latin1') !== 'PRI') continue;
    while (p + 9 <= b.length) {
      const len = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
      const type = b[p + 3]!;
      if (type === 1 && (b[p + 4]! & 0x28) === 0) {
        out.push(b.slice(p + 9, Math.min(b.length, p + 9 + len)));
        break;
      }
      if (type > 9) break;
      p += 9 + len;
    }
  }
  return out;
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
    // Per protocol: answers without details that came back with an empty detail (the cheap path taken).
    const slimAnswers = new Map<string, number>();
    // A request whose line is longer than the bytes a cut one must show (then 'incomplete').
    const longTarget = Buffer.from('GET /api/v1/query_range?query=up&start=1700000000&end=1700003600&step=15 HTTP/1.1\r\nHost: prometheus:9090\r\nUser-Agent: Grafana/10.4.1\r\n\r\n', 'latin1');
    const extra = { name: 'long request line', bytes: new Uint8Array(longTarget), direction: 0 as const, transport: 6, serverPort: 9090 };
    for (const s of [...detailSamples(), extra]) {
      for (let n = 0; n <= s.bytes.length; n++) {
        const full = recognizePayload(s.bytes, 0, n, s.direction, s.transport, s.serverPort, true);
        const slim = recognizePayload(s.bytes, 0, n, s.direction, s.transport, s.serverPort, false);
        expect(core(slim), `${s.name} cut at ${n}`).toEqual(core(full));
        if (slim !== null && Object.keys(slim.detail).length === 0 && Object.keys(full!.detail).length > 0) {
          slimAnswers.set(slim.protocol, (slimAnswers.get(slim.protocol) ?? 0) + 1);
        }
        // These answer with shared objects, which the classifier keys by identity instead of
        // working out their tag set per flow.
        if (slim !== null && ['resp', 'http1', 'grpc', 'http2', 'tls', 'dns'].includes(slim.protocol)) {
          if (!Object.isFrozen(slim) || !Object.isFrozen(slim.tags)) expect.fail(`${s.name} cut at ${n}: a ${slim.protocol} answer without details is not shared`);
          if (recognizePayload(s.bytes, 0, n, s.direction, s.transport, s.serverPort, false) !== slim) expect.fail(`${s.name} cut at ${n}: a second answer is another object`);
        }
      }
    }
    // Each recogniser that skips its details answered that way.
    for (const protocol of ['http1', 'http2', 'grpc', 'tls', 'dns', 'zeebe-sbe', 'zeebe-atomix', 'resp']) {
      expect(slimAnswers.get(protocol) ?? 0, protocol).toBeGreaterThan(0);
    }
  });

  it('without details, mutated samples give the same protocol, tags and completeness', () => {
    const all_ = detailSamples();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: all_.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        // The sample's own port and direction, or others (Zeebe's evidence depends on the port).
        fc.constantFrom<number | null>(null, 26501, 26502, 53, 8080),
        fc.constantFrom<0 | 1 | null>(null, 0, 1),
        (i, flips, cutAt, port, dir) => {
          const s = all_[i]!;
          const b = s.bytes.slice();
          for (const [pos, v] of flips) b[pos % b.length] = v;
          const n = cutAt % (b.length + 1);
          const serverPort = port ?? s.serverPort;
          const d = dir ?? s.direction;
          const full = recognizePayload(b, 0, n, d, s.transport, serverPort, true);
          const slim = recognizePayload(b, 0, n, d, s.transport, serverPort, false);
          expect(core(slim)).toEqual(core(full));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('an HPACK decoder asked for some fields stops where a full one does, with the same values and table', () => {
    const blocks = http2HeaderBlocks();
    expect(blocks.length).toBeGreaterThan(5);
    const only = [':path', 'content-type'];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: blocks.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (i, flips, cutAt) => {
          const b = blocks[i]!.slice();
          for (const [pos, v] of flips) b[pos % b.length] = v;
          const n = cutAt % (b.length + 1);
          const fullDecoder = new HpackDecoder();
          const someDecoder = new HpackDecoder(4096, only);
          // Two blocks in a row: the second reads the table the first one left.
          for (const [s, e] of [[0, n], [n, b.length]] as const) {
            const full = fullDecoder.decode(b, s, e);
            const some = someDecoder.decode(b, s, e);
            expect(some.stop).toBe(full.stop);
            expect(some.fields).toEqual(full.fields.filter((f) => only.includes(f[0])));
            expect(someDecoder.dynamicSize).toBe(fullDecoder.dynamicSize);
            expect(someDecoder.dynamicCount).toBe(fullDecoder.dynamicCount);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('bytes that tcpNeverRecognised gives up on are never recognised, however many bytes follow', () => {
    /**
     * Each "never" and the recogniser it speaks for: from the first length it says never on, the
     * recogniser answers null on every longer stream. Returns whether tcpNeverRecognised said it.
     */
    const pairs: [(b: Uint8Array, n: number, dir: 0 | 1) => boolean, (b: Uint8Array, n: number, port: number, dir: 0 | 1) => unknown][] = [
      // The "never" side sees a buffer cut at n: a byte read past the window is a bug.
      [(b, n, dir) => tcpNeverRecognised(b.subarray(0, n), 0, n, dir), (b, n, port, dir) => recognizePayload(b, 0, n, dir, 6, port)],
      [(b, n, dir) => respNeverMatches(b.subarray(0, n), 0, n, dir), (b, n, _port, dir) => recognizeResp(b, 0, n, dir)],
      [(b, n) => zeebeNeverMatches(b.subarray(0, n), 0, n), (b, n, port, dir) => recognizeZeebe(b, 0, n, dir, port)],
      [(b, n) => dnsOverTcpNeverMatches(b.subarray(0, n), 0, n), (b, n, port) => recognizeDns(b, 0, n, 6, port)],
    ];
    const check = (b: Uint8Array, port: number, dir: 0 | 1): boolean => {
      let seen = false;
      pairs.forEach(([never, recognise], i) => {
        let from = -1;
        for (let n = 0; n <= b.length && from < 0; n++) if (never(b, n, dir)) from = n;
        if (from < 0) return;
        if (i === 0) seen = true;
        // Plain checks, expect() only on a failure: an expect() per length made this test 60 times slower.
        for (let m = from; m <= b.length; m++) {
          if (!never(b, m, dir)) expect.fail(`pair ${i}: never at ${from}, not at ${m} (port ${port}, direction ${dir})`);
          if (recognise(b, m, port, dir) !== null) expect.fail(`pair ${i}: answered at ${m} after never at ${from} (port ${port}, direction ${dir})`);
        }
      });
      return seen;
    };
    const ports = [26501, 26502, 53, 6379, 8080] as const;
    // Streams that are recognised whole but whose first byte starts none of HTTP/2, TLS, HTTP/1 and
    // RESP: a "never" on any of their prefixes is wrong, and check() says so.
    const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(parts.flatMap((p) => [...p]));
    const dnsQuestion = Buffer.from('\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01', 'latin1');
    const streams = [
      // Handshakes followed by a first message (first byte: the cluster name's hash).
      ...zeebeSamples().filter((z) => z.transport === 'tcp' && z.bytes[0] === 0).map((z) => cat(buildHandshake(), z.bytes)),
      // Later messages, without the address header (first byte 1 or 2).
      buildRequestFrame({ id: 7, subject: raftSubject('append', 1), payload: kryoPlaceholder(40) }),
      // A message id of 7 varint bytes: 6 bytes end inside it.
      buildRequestFrame({ id: 2 ** 42, subject: raftSubject('vote', 2), payload: kryoPlaceholder(8) }),
      cat(buildReplyFrame({ id: 9, status: 0, payload: cat(buildSbeHeader(13, 21, 0, 6), new Uint8Array(13)) })),
      // DNS over TCP messages of 1 KiB and 3 KiB (length prefixes starting 0x04 and 0x0c).
      cat(Uint8Array.of(0x04, 0x00), dnsQuestion, new Uint8Array(40)),
      cat(Uint8Array.of(0x0c, 0x00), dnsQuestion, new Uint8Array(40)),
    ];
    for (const b of streams) {
      expect(recognizePayload(b, 0, b.length, 0, 6, 26502)).not.toBeNull();
      for (const port of ports) for (const dir of [0, 1] as const) check(b, port, dir);
    }
    // Every sample as it is, in both directions (RESP's inline commands and replies among them).
    for (const x of detailSamples()) for (const dir of [0, 1] as const) check(x.bytes, x.serverPort, dir);
    // Random streams, and streams starting with each recogniser's first bytes or near misses of
    // Zeebe's handshake and DNS's header.
    const heads = ['', '\x00\x00\x00\x00\x00\x02', '\x7f\x00\x00\x00\x00\x03', '\x00\x1d\x12\x34\x01\x00\x00\x01', '\x03', '\xfe\x00\x00\x01\x00\x01', '\x01', '\x02', '\x01\x07\x03abc\x00', '\x02\x09\x02', 'PING', 'ping\r', 'SSH-2.0-', 'subscribe ', '+OK', 'SUBSCRIBER'];
    fc.assert(
      fc.property(fc.constantFrom(...heads), fc.uint8Array({ maxLength: 80 }), fc.constantFrom(...ports), fc.constantFrom<0 | 1>(0, 1), (h, tail, port, dir) => {
        check(new Uint8Array([...Buffer.from(h, 'latin1'), ...tail]), port, dir);
      }),
      { numRuns: RUNS },
    );
    // Real samples (Zeebe's included) and the streams above with bytes flipped.
    const all_ = [...detailSamples().map((x) => x.bytes), ...streams];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: all_.length - 1 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.constantFrom(...ports),
        fc.constantFrom<0 | 1>(0, 1),
        (i, flips, port, dir) => {
          const b = all_[i]!.slice();
          for (const [pos, v] of flips) b[pos % b.length] = v;
          check(b, port, dir);
        },
      ),
      { numRuns: RUNS },
    );
    // Not vacuous: most random streams are given up on (first bytes no recogniser starts with).
    let nevers = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      const next = seeded(seed * 2654435761);
      const b = new Uint8Array(64);
      for (let i = 0; i < b.length; i++) b[i] = next();
      if (check(b, 26501, 0)) nevers++;
    }
    expect(nevers).toBeGreaterThan(600);
  });

  it('tcpNeverRecognised gives up on the unrecognised protocols it can tell, and only when it can', () => {
    const bytes = (t: string): Uint8Array => new Uint8Array(Buffer.from(t, 'latin1'));
    const never = (t: string, dir: 0 | 1): boolean => tcpNeverRecognised(bytes(t), 0, t.length, dir);
    // SSH banners both ways, an SMTP greeting, a database-like opaque message (first byte 1, a
    // subject length no Zeebe message has).
    expect(never('SSH-2.0-OpenSSH_9.6\r\n', 0)).toBe(true);
    expect(never('SSH-2.0-OpenSSH_9.6\r\n', 1)).toBe(true);
    expect(never('220 mail.example.com ESMTP Postfix\r\n', 1)).toBe(true);
    expect(never('\x01\x05\x02ab\xff\xff\x00\x00\x00\x00\x00\x00\x00', 0)).toBe(true);
    // RESP's first words: too long, badly ended, not on the inline list.
    expect(respNeverMatches(bytes('SUBSCRIBERS '), 0, 12, 0)).toBe(true);
    expect(respNeverMatches(bytes('SUBSCRIBER'), 0, 10, 0)).toBe(true);
    expect(respNeverMatches(bytes('PING-'), 0, 5, 0)).toBe(true);
    expect(respNeverMatches(bytes('PONG '), 0, 5, 0)).toBe(true);
    // Not yet, or not ever: a word still being written, a command array, a reply, HTTP, TLS.
    for (const [t, dir] of [['PIN', 0], ['PING', 0], ['ping\r\n', 0], ['*1\r\n', 0], ['+OK\r\n', 1], ['GET / HTTP/1.1\r\n', 0], ['HTTP/1.1 200 OK\r\n', 1], ['\x16\x03\x01\x00\x05', 0], ['SSH-2', 0]] as const) {
      expect(never(t, dir), JSON.stringify(t)).toBe(false);
    }
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
