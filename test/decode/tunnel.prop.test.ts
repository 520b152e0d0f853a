/**
 * Fuzzing the tunnel decoders: random bytes behind every tunnel header, mutated tunnelled frames,
 * any capture cut. Nothing throws, no level reads outside the captured frame, the number of levels
 * is bounded, and the same decoder then decodes a good frame identically. Built frames with random
 * identifiers and inner 5-tuples decode back to them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { MAX_TUNNEL_DEPTH, type DecodedPacket } from '../../src/decode/types.js';
import { formatAddress } from '../../src/flow/key.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { checkInvariants, fields, recordingBuffer, stackOf } from './helpers.js';
import { TUNNEL_FRAMES, type TunnelFrameName } from './tunnel-frames.js';

/** An address as portsniff prints it (RFC 5952). */
function canonical(a: string): string {
  return formatAddress(a.includes(':') ? 6 : 4, ...B.addressWords(a));
}

const RUNS = process.env['CI'] === 'true' ? 3000 : 300;

/** Where each test frame's tunnel payload starts (the bytes before it are outer + tunnel headers). */
const HEADER_ENDS: Record<TunnelFrameName, number> = {
  vxlan: 50, geneve: 58, geneveIpv6: 50, ipip: 34, sixInFour: 34, greAllFields: 50, greTeb: 42, pptp: 50,
  greRouting: 54, erspanII: 50, erspanIII: 70, mpls: 26, mplsPseudowire: 22, pppoe: 30, nflog: 24, teredo: 66, gtpu: 58,
};
const NAMES = Object.keys(TUNNEL_FRAMES) as TunnelFrameName[];
const linkOf = (n: TunnelFrameName): number => (n === 'nflog' ? 239 : 1);

/** Every level of a frame through `dec`, checking each; returns the levels seen. */
function walk(dec: PacketDecoder, buf: Uint8Array, off: number, capLen: number, origLen: number, lt: number): number {
  let n = 0;
  for (let p: DecodedPacket | null = dec.decode(buf, off, capLen, origLen, lt); p !== null; p = dec.next()) {
    checkInvariants(p, off, capLen);
    expect(p.level).toBe(n);
    expect(p.tunnelDepth).toBeLessThanOrEqual(MAX_TUNNEL_DEPTH);
    n++;
    expect(n).toBeLessThanOrEqual(MAX_TUNNEL_DEPTH + 1);
  }
  return n;
}

const GOOD = TUNNEL_FRAMES.geneve;
function goodLevels(dec: PacketDecoder): unknown[] {
  const out: unknown[] = [];
  for (let p: DecodedPacket | null = dec.decode(GOOD, 0, GOOD.length, GOOD.length, 1); p !== null; p = dec.next()) out.push({ ...fields(p), stack: stackOf(p) });
  return out;
}
const GOOD_LEVELS = goodLevels(new PacketDecoder());

describe('tunnel decoder properties', () => {
  it('random bytes behind each tunnel header: no throw, bounded levels, reads inside the frame; then a good frame decodes identically', () => {
    const dec = new PacketDecoder();
    fc.assert(
      fc.property(fc.constantFrom(...NAMES), fc.uint8Array({ maxLength: 300 }), fc.nat(40), fc.boolean(), (name, tail, extra, proxy) => {
        const head = TUNNEL_FRAMES[name].subarray(0, HEADER_ENDS[name]);
        const f = B.concat(head, tail);
        const off = 5;
        const big = new Uint8Array(off + f.length + 16).fill(0xd3);
        big.set(f, off);
        const origLen = f.length + (extra % 4 === 0 ? extra : 0);
        if (proxy) {
          const { buf, reads } = recordingBuffer(big);
          walk(dec, buf, off, f.length, origLen, linkOf(name));
          expect(reads.filter((i) => i < off || i >= off + f.length)).toEqual([]);
        } else {
          walk(dec, big, off, f.length, origLen, linkOf(name));
        }
        expect(goodLevels(dec)).toEqual(GOOD_LEVELS);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutated tunnelled frames, any capture cut: no throw, no read outside the captured bytes', () => {
    const dec = new PacketDecoder();
    const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(fc.constantFrom(...NAMES), mutation, fc.nat(), fc.boolean(), (name, muts, cut, proxy) => {
        const f = Uint8Array.from(TUNNEL_FRAMES[name]);
        // Mutations mostly land in the headers, where the decisions are.
        for (const [pos, v] of muts) f[pos % Math.min(f.length, HEADER_ENDS[name] + 24)] = v;
        const capLen = cut % (f.length + 1);
        if (proxy) {
          const { buf, reads } = recordingBuffer(f);
          walk(dec, buf, 0, capLen, f.length, linkOf(name));
          expect(reads.filter((i) => i >= capLen)).toEqual([]);
        } else {
          walk(dec, f, 0, capLen, f.length, linkOf(name));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('every prefix of every tunnelled frame: the outer levels keep what they decoded', () => {
    const dec = new PacketDecoder();
    for (const name of NAMES) {
      const f = TUNNEL_FRAMES[name];
      const full = walk(dec, f, 0, f.length, f.length, linkOf(name));
      for (let cap = 0; cap < f.length; cap++) expect(walk(dec, f, 0, cap, f.length, linkOf(name))).toBeLessThanOrEqual(full);
    }
  });

  it('built VXLAN/Geneve/GRE/IP-in-IP/GTP-U frames decode back to their ids and inner 5-tuples', () => {
    const dec = new PacketDecoder();
    const kind = fc.constantFrom('vxlan', 'geneve', 'gre', 'ipip', 'gtpu', 'pppoe');
    const port = fc.integer({ min: 1, max: 65535 });
    fc.assert(
      fc.property(kind, fc.nat({ max: 0xffffff }), fc.ipV4(), fc.ipV4(), port, port, fc.oneof(fc.ipV4(), fc.ipV6()), (k, id, a, b, sport, dport, outerSrc) => {
        const inner = B.ipv4Packet({ src: a, dst: b }, 17, B.udpDatagram({ sport, dport, payload: 'x' }));
        const outerDst = outerSrc.includes(':') ? '2001:db8::99' : '198.51.100.99';
        const o = { src: outerSrc, dst: outerDst };
        const f = k === 'vxlan' ? T.vxlanFrame({ ...o, vni: id }, B.frame(inner))
          : k === 'geneve' ? T.geneveFrame({ ...o, vni: id }, B.frame(inner))
          : k === 'gre' ? T.greFrame({ ...o, gre: { protocol: 0x0800, key: id } }, inner)
          : k === 'ipip' ? T.ipInIpFrame(o, inner)
          : k === 'gtpu' ? T.udpTunnelFrame({ ...o, sport: 2152, dport: 2152 }, T.gtpu({ teid: id }, inner), new Uint8Array(0))
          : B.frame(T.pppoeSession(id & 0xffff, 0x21, inner), { etherType: 0x8864 });
        const levels: Array<{ src: number; sport: number; stack: ReturnType<typeof stackOf> }> = [];
        for (let p: DecodedPacket | null = dec.decode(f, 0, f.length, f.length, 1); p !== null; p = dec.next()) {
          levels.push({ src: p.src3, sport: p.srcPort, stack: stackOf(p) });
        }
        const last = levels.at(-1)!;
        expect([last.src, last.sport]).toEqual([B.addressWords(a)[3]! | 0, sport]);
        const want = k === 'ipip' ? null : k === 'pppoe' ? id & 0xffff : id;
        expect(last.stack.map((e) => e.id)).toEqual([want]);
        if (k !== 'pppoe') expect(last.stack[0]!.outer).toBe(`${canonical(o.src)} > ${o.dst}`);
      }),
      { numRuns: Math.min(RUNS, 300) },
    );
  });
});
