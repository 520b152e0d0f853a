/**
 * The reading thread's shard extractor (pipeline/shard.ts) against the decoder: for every record the
 * decoder turns into a flow packet, the fast path's host-pair bucket must be the bucket of the
 * decoder's addresses and VLAN ids, or the two workers of a flow would disagree. Checked on every
 * bundled and corpus capture, on generated frames of every link type, and on mutated frames.
 */
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { DecodeStatus } from '../../src/decode/types.js';
import { PAIR_BUCKETS, pairBucket, pairHash, vlanKey } from '../../src/flow/key.js';
import { DEFAULT_TUNNEL_PORTS, NO_PAIR_BUCKET, pairBucketOf, SLOW_BUCKET, ShardPicker } from '../../src/pipeline/shard.js';
import {
  ipv4IcmpEcho, ipv4Tcp, ipv4Udp, ipv6Tcp, ipv6Udp, LINK_TYPES, type LinkFraming,
} from '../../fixtures/gen/packet-builder.js';
import { CORPUS_DIR, corpusFiles, TUNNEL_CORPUS_DIR, tunnelCorpusFiles } from '../helpers/corpus.js';
import { readFramesSync } from '../helpers/read-frames.js';

const CAPTURES = fileURLToPath(new URL('../../fixtures/captures/', import.meta.url));
const decoder = new PacketDecoder();

/** The decoder's bucket for a record it makes a flow packet of, else null. */
function decodedBucket(buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): number | null {
  const p = decoder.decode(buf, offset, capLen, origLen, linkType);
  if (p.status === DecodeStatus.NotIp || p.ipVersion === 0) return null;
  return pairBucket(pairHash(p.src0, p.src1, p.src2, p.src3, p.dst0, p.dst1, p.dst2, p.dst3, vlanKey(p)));
}

/** Problems with one record; empty when the fast path agrees with the decoder (or defers to it). */
function disagreement(buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): string | null {
  const fast = pairBucketOf(buf, offset, capLen, linkType);
  if (fast === SLOW_BUCKET) return null; // the workers run the decoder itself
  const decoded = decodedBucket(buf, offset, capLen, origLen, linkType);
  if (decoded === null) return null; // no flow packet: any answer will do
  // A tunnel's inner levels may belong to other workers, which skip fast records not theirs.
  if (decoder.out.innerKind !== 0) return `fast path bucket ${fast} for a tunnelled record`;
  if (fast === NO_PAIR_BUCKET) return `fast path found no pair, the decoder did (bucket ${decoded})`;
  return fast === decoded ? null : `fast path bucket ${fast}, decoder ${decoded}`;
}

function captureFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? captureFiles(join(dir, e.name)) : /\.(pcap|pcapng)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe('pairBucketOf agrees with the decoder', () => {
  const files = [
    ...captureFiles(CAPTURES), ...corpusFiles().map((f) => join(CORPUS_DIR, f)), ...tunnelCorpusFiles().map((f) => join(TUNNEL_CORPUS_DIR, f)),
  ];

  it.each(files.map((f) => [f.replace(/.*\/(shared|fixtures)\//, '$1/')] as const))('every record of %s', (name) => {
    const path = files.find((f) => f.endsWith(name.replace(/^(shared|fixtures)\//, '')))!;
    const bad: string[] = [];
    let fast = 0;
    const frames = readFramesSync(path);
    for (const [i, f] of frames.entries()) {
      const d = disagreement(f.data, f.offset, f.capLen, f.origLen, f.linkType);
      if (d !== null) bad.push(`record ${i}: ${d}`);
      if (pairBucketOf(f.data, f.offset, f.capLen, f.linkType) < PAIR_BUCKETS) fast++;
    }
    expect(bad.slice(0, 5)).toEqual([]);
    // (Every record of the tunnelled demo is slow: each one is a tunnel.)
    if (frames.length > 0 && /demo|zeebe|real/.test(path) && !/tunnels/.test(path)) expect(fast).toBeGreaterThan(0);
  });

  const framings = Object.keys(LINK_TYPES) as LinkFraming[];
  const frameArb = fc.record({
    link: fc.constantFrom(...framings),
    v6: fc.boolean(),
    tcp: fc.boolean(),
    vlan: fc.constantFrom<number[]>([], [7], [100, 200]),
    a: fc.integer({ min: 1, max: 250 }),
    b: fc.integer({ min: 1, max: 250 }),
    sport: fc.integer({ min: 1, max: 65535 }),
    dport: fc.integer({ min: 1, max: 65535 }),
  }).map((o) => {
    // LINKTYPE_IPV4 / IPV6 fix the IP version.
    if (o.link === 'ipv4' || o.link === 'ipv6') o.v6 = o.link === 'ipv6';
    const link = { link: o.link, ...(o.link === 'ethernet' ? { vlan: o.vlan } : {}) };
    const ports = { sport: o.sport, dport: o.dport };
    const frameBytes = o.v6
      ? (o.tcp ? ipv6Tcp : ipv6Udp)({ src: `fd00::${o.a.toString(16)}`, dst: `2001:db8::${o.b.toString(16)}`, ...ports, ...link })
      : (o.tcp ? ipv4Tcp : ipv4Udp)({ src: `10.0.0.${o.a}`, dst: `192.0.2.${o.b}`, ...ports, ...link });
    // UDP from or to a port the decoder opens as a tunnel (VXLAN 4789, Geneve 6081, ...) is the decoder's.
    const tunnel = !o.tcp && DEFAULT_TUNNEL_PORTS !== null && (DEFAULT_TUNNEL_PORTS[o.sport]! | DEFAULT_TUNNEL_PORTS[o.dport]!) !== 0;
    return { bytes: frameBytes, linkType: LINK_TYPES[o.link], link: o.link, tunnel };
  });

  it('on generated frames of every link type, with and without VLAN tags: the fast path answers, and agrees', () => {
    fc.assert(
      fc.property(frameArb, ({ bytes, linkType, tunnel }) => {
        const fast = pairBucketOf(bytes, 0, bytes.length, linkType);
        if (tunnel) {
          // One of the ports is a tunnel's (random ports hit one now and then): the decoder decides.
          expect(fast).toBe(SLOW_BUCKET);
          return;
        }
        expect(fast).toBeLessThan(PAIR_BUCKETS);
        expect(fast).toBe(decodedBucket(bytes, 0, bytes.length, bytes.length, linkType));
      }),
      { numRuns: 500 },
    );
  });

  it('the counterexample that made that property flaky: UDP from the VXLAN port goes to the decoder', () => {
    // Found by fast-check (seed 1843921629): sport 4789, dport 1; about one run in twenty drew such a port.
    const udp = ipv4Udp({ src: '10.0.0.1', dst: '192.0.2.1', sport: 4789, dport: 1, link: 'ethernet' });
    expect(pairBucketOf(udp, 0, udp.length, LINK_TYPES.ethernet)).toBe(SLOW_BUCKET);
  });

  it('on mutated and cut frames: never a different pair than the decoder', () => {
    fc.assert(
      fc.property(frameArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), ({ bytes, linkType }, flips, cut) => {
        const b = bytes.slice();
        for (const [pos, v] of flips) b[pos % b.length] = v;
        const capLen = cut % (b.length + 1);
        expect(disagreement(b, 0, capLen, b.length, linkType)).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('ICMP goes to the decoder (its errors quote another pair); the picker then names both workers', () => {
    const echo = ipv4IcmpEcho({ src: '10.0.0.1', dst: '10.0.0.2', ident: 9 });
    expect(pairBucketOf(echo, 0, echo.length, LINK_TYPES.ethernet)).toBe(SLOW_BUCKET);
    const picker = new ShardPicker(4);
    const w = picker.pick(echo, 0, echo.length, echo.length, LINK_TYPES.ethernet);
    expect(w).toBe(decodedBucket(echo, 0, echo.length, echo.length, LINK_TYPES.ethernet)! % 4);
    expect(picker.decoded).not.toBeNull();
  });
});

describe('the sharding hash is symmetric', () => {
  const word = fc.integer({ min: 0, max: 0xffffffff });
  it('pairHash(a, b) === pairHash(b, a) for IPv4 and IPv6 pairs, with any VLAN word', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), fc.boolean(), word, (w, v4, vlan) => {
        const [a0, a1, a2, a3, b0, b1, b2, b3] = v4 ? [0, 0, 0, w[3]!, 0, 0, 0, w[7]!] : w;
        expect(pairHash(a0!, a1!, a2!, a3!, b0!, b1!, b2!, b3!, vlan)).toBe(pairHash(b0!, b1!, b2!, b3!, a0!, a1!, a2!, a3!, vlan));
      }),
      { numRuns: 5000 },
    );
  });

  it('both directions of a conversation land on the same worker, through pairBucketOf on real frames', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 250 }), fc.integer({ min: 1, max: 250 }), fc.boolean(), (a, b, v6) => {
        const x = v6 ? `fd00::${a.toString(16)}` : `10.1.0.${a}`;
        const y = v6 ? `fd00::1:${b.toString(16)}` : `10.2.0.${b}`;
        const build = v6 ? ipv6Udp : ipv4Udp;
        const there = build({ src: x, dst: y, sport: 40000, dport: 53, vlan: [42] });
        const back = build({ src: y, dst: x, sport: 53, dport: 40000, vlan: [42] });
        expect(pairBucketOf(there, 0, there.length, 1)).toBe(pairBucketOf(back, 0, back.length, 1));
      }),
      { numRuns: 500 },
    );
  });

  it('the VLAN ids are part of the pair', () => {
    const f = (vlan: number[]) => ipv4Udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, vlan });
    const buckets = new Set([[], [1], [2], [1, 2], [2, 1], [3], [4], [5]].map((v) => {
      const b = f(v);
      return pairBucketOf(b, 0, b.length, 1);
    }));
    expect(buckets.size).toBeGreaterThan(1);
  });
});
