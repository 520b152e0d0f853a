/**
 * The reading thread's shard extractor against the decoder, for tunnels (shard.test.ts covers the
 * rest): a record the fast path assigns to one worker must never hold a tunnel (the levels inside it may belong to other workers, which skip fast
 * records that are not theirs), and the fast path's pair must be the decoder's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { udpTunnelPorts } from '../../src/decode/decap-options.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { pairBucket, PAIR_BUCKETS, pairHash, vlanKey } from '../../src/flow/key.js';
import { levelOwner, NO_PAIR_BUCKET, pairBucketOf, SLOW_BUCKET } from '../../src/pipeline/shard.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import { TUNNEL_FRAMES } from '../decode/tunnel-frames.js';
import { tunnelledCapture } from './tunnel-capture.js';
import { readFramesFromBytes } from '../helpers/read-frames.js';

const RUNS = process.env['CI'] === 'true' ? 3000 : 400;

describe('pairBucketOf and tunnels', () => {
  it('every tunnel test frame is slow (decoded by every worker); NFLOG, a link type, takes the fast path', () => {
    for (const [name, f] of Object.entries(TUNNEL_FRAMES)) {
      if (name === 'nflog') expect(pairBucketOf(f, 0, f.length, 239)).toBeLessThan(PAIR_BUCKETS);
      else expect([name, pairBucketOf(f, 0, f.length, 1)]).toEqual([name, SLOW_BUCKET]);
    }
  });

  it('with --decap off nothing is slow for being a tunnel: the fast pair of the outer packet', () => {
    const f = TUNNEL_FRAMES.vxlan;
    expect(pairBucketOf(f, 0, f.length, 1, null)).toBeLessThan(PAIR_BUCKETS);
    expect(pairBucketOf(TUNNEL_FRAMES.mpls, 0, TUNNEL_FRAMES.mpls.length, 1, null)).toBe(NO_PAIR_BUCKET);
  });

  it('a --vxlan-port is slow only when configured', () => {
    const f = B.ipv4Udp({ src: '1.1.1.1', dst: '2.2.2.2', sport: 40000, dport: 9999, payload: new Uint8Array(60) });
    expect(pairBucketOf(f, 0, f.length, 1)).toBeLessThan(PAIR_BUCKETS);
    expect(pairBucketOf(f, 0, f.length, 1, udpTunnelPorts({ mode: 'auto', vxlanPorts: [9999] }))).toBe(SLOW_BUCKET);
  });

  it('on the generated tunnelled capture and on mutated tunnel frames: fast records never open a tunnel, and their pair is the decoder\'s', () => {
    const dec = new PacketDecoder();
    const check = (f: Uint8Array, off: number, capLen: number, origLen: number, lt: number): void => {
      const b = pairBucketOf(f, off, capLen, lt);
      const p = dec.decode(f, off, capLen, origLen, lt);
      if (b >= PAIR_BUCKETS || p.ipVersion === 0 || p.status === 3) return;
      expect(p.innerKind).toBe(0);
      expect(b).toBe(pairBucket(pairHash(p.src0, p.src1, p.src2, p.src3, p.dst0, p.dst1, p.dst2, p.dst3, vlanKey(p))));
      expect(levelOwner(p, PAIR_BUCKETS)).toBe(b);
    };
    for (const fr of readFramesFromBytes(tunnelledCapture(3, 400).pcap)) check(fr.data, fr.offset, fr.capLen, fr.origLen, fr.linkType);
    const names = Object.keys(TUNNEL_FRAMES) as Array<keyof typeof TUNNEL_FRAMES>;
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.array(fc.tuple(fc.nat(80), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), (name, muts, cut) => {
        const f = Uint8Array.from(TUNNEL_FRAMES[name]);
        for (const [pos, v] of muts) f[pos % f.length] = v;
        check(f, 0, cut % (f.length + 1), f.length, name === 'nflog' ? 239 : 1);
      }),
      { numRuns: RUNS },
    );
  });
});
