import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { DecodeStatus, FragmentKind } from '../../src/decode/types.js';
import { IpProto } from '../../src/util/ip-proto.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import { TEST_FRAMES } from './frames.js';
import { addrs, checkInvariants, decode, expected, fields, recordingBuffer } from './helpers.js';

/** Short runs locally, longer under CI=true. */
const RUNS = process.env['CI'] === 'true' ? 5000 : 400;

const SUPPORTED = [0, 1, 101, 105, 108, 113, 127, 228, 229, 258, 276];
const anyLinkType = fc.oneof(fc.constantFrom(...SUPPORTED), fc.integer({ min: 0, max: 0xffff }));
const GOOD = TEST_FRAMES.find((t) => t.name === 'icmpv6 error')!;
const GOOD_FIELDS = decode(GOOD.frame, GOOD.linkType);

describe('decoder properties', () => {
  it('random bytes with any link type: no throw, bounded offsets; the same decoder then decodes a good frame identically', () => {
    const dec = new PacketDecoder();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), anyLinkType, fc.nat(20), fc.nat(50), (bytes, lt, off, extra) => {
        const buf = new Uint8Array(off + bytes.length + 8).fill(0xa5);
        buf.set(bytes, off);
        const p = dec.decode(buf, off, bytes.length, bytes.length + (extra % 3 === 0 ? extra : 0), lt);
        checkInvariants(p, off, bytes.length);
        expect(fields(dec.decode(GOOD.frame, 0, GOOD.frame.length, GOOD.frame.length, GOOD.linkType))).toEqual(GOOD_FIELDS);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutated real frames (bytes overwritten, any capture cut): no throw, no read outside the frame', () => {
    const dec = new PacketDecoder();
    const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(fc.constantFrom(...TEST_FRAMES), mutation, fc.nat(), fc.boolean(), (t, muts, cut, proxy) => {
        const f = Uint8Array.from(t.frame);
        for (const [pos, v] of muts) f[pos % f.length] = v;
        const capLen = cut % (f.length + 1);
        const off = 3;
        const big = new Uint8Array(off + f.length + 8).fill(0xff);
        big.set(f, off);
        if (proxy) {
          const { buf, reads } = recordingBuffer(big);
          dec.decode(buf, off, capLen, f.length, t.linkType);
          expect(reads.filter((i) => i < off || i >= off + capLen)).toEqual([]);
        }
        checkInvariants(dec.decode(big, off, capLen, f.length, t.linkType), off, capLen);
      }),
      { numRuns: RUNS },
    );
  });

  it('builder round trip: built frames decode back to their fields', () => {
    const v4 = fc.tuple(fc.ipV4(), fc.ipV4());
    const v6 = fc.tuple(fc.ipV6(), fc.ipV6());
    const port = fc.integer({ min: 0, max: 65535 });
    const link = fc.constantFrom<B.LinkFraming>('ethernet', 'sll', 'sll2', 'null', 'loop', 'raw', 'radiotap', 'ieee80211', 'pktap');
    const vlan = fc.array(fc.integer({ min: 0, max: 4095 }), { maxLength: 2 });
    const proto = fc.constantFrom('tcp', 'udp', 'sctp', 'echo');
    // Plain frames: with random ports a UDP datagram to 4789 would be opened as VXLAN (tunnel tests).
    const dec = new PacketDecoder({ mode: 'off' });
    fc.assert(
      fc.property(
        fc.oneof(v4, v6), port, port, proto, link, vlan,
        fc.integer({ min: 0, max: 0xff }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }),
        fc.uint8Array({ maxLength: 64 }),
        ([src, dst], sport, dport, kind, lk, tags, flags, seq, ack, payload) => {
          const v6addr = src.includes(':');
          const o = { src, dst, link: lk, vlan: lk === 'ethernet' || lk === 'pktap' ? tags : [] };
          let frame: Uint8Array;
          let l4: Partial<ReturnType<typeof fields>>;
          let l4Len: number;
          if (kind === 'tcp') {
            frame = v6addr ? B.ipv6Tcp({ ...o, sport, dport, flags, seq, ack, payload }) : B.ipv4Tcp({ ...o, sport, dport, flags, seq, ack, payload });
            l4 = { ipProto: IpProto.TCP, srcPort: sport, dstPort: dport, tcpFlags: flags, tcpSeq: seq | 0, tcpAck: ack | 0 };
            l4Len = 20;
          } else if (kind === 'udp') {
            frame = v6addr ? B.ipv6Udp({ ...o, sport, dport, payload }) : B.ipv4Udp({ ...o, sport, dport, payload });
            l4 = { ipProto: IpProto.UDP, srcPort: sport, dstPort: dport };
            l4Len = 8;
          } else if (kind === 'sctp') {
            frame = v6addr ? B.ipv6Sctp({ ...o, sport, dport, chunks: payload }) : B.ipv4Sctp({ ...o, sport, dport, chunks: payload });
            l4 = { ipProto: IpProto.SCTP, srcPort: sport, dstPort: dport };
            l4Len = 12;
          } else {
            frame = v6addr ? B.ipv6IcmpEcho({ ...o, ident: sport, payload }) : B.ipv4IcmpEcho({ ...o, ident: sport, payload });
            l4 = { ipProto: v6addr ? IpProto.ICMPV6 : IpProto.ICMP, srcPort: sport, dstPort: sport, icmpType: v6addr ? 128 : 8 };
            l4Len = 8;
          }
          const p = fields(dec.decode(frame, 0, frame.length, frame.length, B.linkTypeOf(lk)));
          const ipHeader = v6addr ? 40 : 20;
          const l3 = p.l3Offset;
          expect(p).toEqual(expected({
            ...addrs(src, dst), ...l4,
            etherType: v6addr ? 0x86dd : 0x0800,
            vlanCount: o.vlan.length, vlanOuter: o.vlan[0] ?? 0, vlanInner: o.vlan[1] ?? 0,
            hasPorts: true, fragId: v6addr ? 0 : 1,
            l3Offset: l3, l4Offset: l3 + ipHeader, ipLength: ipHeader + l4Len + payload.length,
            payloadOffset: l3 + ipHeader + l4Len, payloadCaptured: payload.length, payloadLength: payload.length,
          }));
          // radiotap frames end with nothing after the datagram; every framing puts it last.
          expect(l3 + p.ipLength).toBe(frame.length);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('builder round trip for fragments: first carries the ports, later ones the fragment id', () => {
    fc.assert(
      // data > 96 bytes and pieces of at most 96: always at least two fragments
      fc.property(fc.boolean(), fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 100, max: 400 }), (v6, id, units, size) => {
        const udp = B.udpDatagram({ sport: 1000, dport: 2000, payload: new Uint8Array(size) });
        const frags = v6
          ? B.fragmentIpv6(B.ipv6Packet({ src: '2001:db8::1', dst: '2001:db8::2' }, IpProto.UDP, udp), units * 8, id)
          : B.fragmentIpv4(B.ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', id }, IpProto.UDP, udp), units * 8);
        let offset = 0;
        let payload = 0;
        frags.forEach((fr, i) => {
          const p = decode(B.frame(fr), 1);
          expect(p.status).toBe(DecodeStatus.Ok);
          expect([p.fragId, p.fragOffset, p.ipProto]).toEqual([id, offset, IpProto.UDP]);
          if (i === 0) expect([p.fragment, p.hasPorts, p.srcPort, p.payloadLength]).toEqual([FragmentKind.First, true, 1000, p.payloadCaptured]);
          else expect([p.fragment, p.hasPorts, p.payloadLength]).toEqual([FragmentKind.Later, false, p.payloadCaptured]);
          offset += p.ipLength - (p.l4Offset - p.l3Offset);
          payload += p.payloadLength;
        });
        expect(offset).toBe(udp.length);
        // Each fragment counts its own data: the flow's payload total is the datagram's payload.
        expect(payload).toBe(size);
      }),
      { numRuns: Math.min(RUNS, 200) },
    );
  });
});
