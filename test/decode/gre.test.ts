import { describe, expect, it } from 'vitest';
import { MAX_GRE_SRES } from '../../src/decode/gre.js';
import { InnerKind, TunnelType } from '../../src/decode/tunnel.js';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { decodeLevels, patch } from './helpers.js';
import { context, innerTcp, withoutStack } from './tunnel-expect.js';
import { INNER_ETH, INNER_IP, TUNNEL_FRAMES } from './tunnel-frames.js';
import { hex } from './helpers.js';

const ETHERNET = 1;
const innerIp = hex(INNER_IP);
const gre = (o: T.GreOptions, inner: Uint8Array = innerIp): Uint8Array => T.greFrame({ src: '192.168.1.1', dst: '192.168.1.2', gre: o }, inner);

describe('GRE (RFC 2784, RFC 2890, RFC 1701 routing, PPTP version 1)', () => {
  it('checksum, key and sequence number all present: payload after 16 bytes, key as id (not in the flow key)', () => {
    const [outer, inner] = decodeLevels(TUNNEL_FRAMES.greAllFields, ETHERNET);
    expect([outer!.ipProto, outer!.anomaly, outer!.hasPorts, outer!.innerKind, outer!.innerOffset]).toEqual([47, 0, false, InnerKind.Ipv4, 50]);
    expect(withoutStack(inner!)).toEqual(innerTcp(50, { tunnelContext: context(TunnelType.GRE) }));
    expect(inner!.stack).toEqual([{ type: 'gre', id: 0x01020304, outer: '192.168.1.1 > 192.168.1.2' }]);
  });

  it('every combination of the optional fields finds the payload', () => {
    for (let bits = 0; bits < 8; bits++) {
      const o: T.GreOptions = { protocol: 0x0800, checksum: (bits & 1) !== 0, ...((bits & 2) !== 0 ? { key: 77 } : {}), ...((bits & 4) !== 0 ? { seq: 9 } : {}) };
      const levels = decodeLevels(gre(o), ETHERNET);
      expect([bits, levels.length, levels[1]?.srcPort, levels[1]?.stack[0]?.id]).toEqual([bits, 2, 40000, (bits & 2) !== 0 ? 77 : null]);
    }
  });

  it('transparent Ethernet bridging (0x6558, as NVGRE and gretap)', () => {
    const [, inner] = decodeLevels(TUNNEL_FRAMES.greTeb, ETHERNET);
    expect(withoutStack(inner!)).toEqual(innerTcp(56, { tunnelContext: context(TunnelType.GRE) }));
    expect(inner!.stack[0]).toEqual({ type: 'gre', id: 5000, outer: '192.168.1.1 > 192.168.1.2' });
  });

  it('PPTP (version 1, key = payload length + call id, sequence and acknowledgment): PPP then IPv4', () => {
    const [outer, inner] = decodeLevels(TUNNEL_FRAMES.pptp, ETHERNET);
    expect([outer!.innerKind, outer!.innerOffset]).toEqual([InnerKind.Ppp, 50]);
    expect(withoutStack(inner!)).toEqual(innerTcp(54, { tunnelContext: context(TunnelType.GRE) }));
    expect(inner!.stack[0]!.id).toBe(6016);
  });

  it('PPTP with compressed PPP headers (no address/control, one-byte protocol), and PPP control traffic', () => {
    const compressed = gre({ protocol: 0x880b, version: 1, key: 6016 }, T.pppFrame(0x21, innerIp, { acfc: true, pfc: true }));
    expect(decodeLevels(compressed, ETHERNET).map((l) => l.srcPort)).toEqual([0, 40000]);
    const ccp = gre({ protocol: 0x880b, version: 1, key: 6016, seq: 1 }, T.pppFrame(0x80fd, [1, 1, 0, 4]));
    expect(decodeLevels(ccp, ETHERNET).map((l) => [l.level, l.status, l.anomaly])).toEqual([[0, DecodeStatus.Ok, 0], [1, DecodeStatus.NotIp, Anomaly.ppp_non_ip_protocol]]);
    // Acknowledgment only: no payload, nothing to open, nothing wrong.
    const ackOnly = gre({ protocol: 0x880b, version: 1, key: 6016, ack: 5 }, new Uint8Array(0));
    expect(decodeLevels(ackOnly, ETHERNET).map((l) => [l.anomaly, l.innerKind])).toEqual([[0, InnerKind.None]]);
  });

  it('RFC 1701 source routing: entries walked to the terminating one', () => {
    const [, inner] = decodeLevels(TUNNEL_FRAMES.greRouting, ETHERNET);
    expect(inner!.l3Offset).toBe(54);
    const many = gre({ protocol: 0x0800, routing: new Array(MAX_GRE_SRES).fill([1, 2, 3, 4]) });
    expect(decodeLevels(many, ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.gre_routing_too_long]);
    const fewer = gre({ protocol: 0x0800, routing: new Array(MAX_GRE_SRES - 1).fill([1, 2, 3, 4]) });
    expect(decodeLevels(fewer, ETHERNET)).toHaveLength(2);
  });

  it('MPLS over GRE (0x8847): the label stack is a second entry', () => {
    const f = gre({ protocol: 0x8847 }, B.concat(T.mplsStack([16, 17]), innerIp));
    const [, inner] = decodeLevels(f, ETHERNET);
    expect(inner!.stack.map((e) => [e.type, e.id])).toEqual([['gre', null], ['mpls', 17]]);
    expect([inner!.srcPort, inner!.tunnelDepth]).toEqual([40000, 2]);
  });

  it('WCCP redirection (0x883e): v2 with its 4-byte redirect header, v1 without', () => {
    expect(decodeLevels(gre({ protocol: 0x883e }, B.concat(Uint8Array.of(0, 0, 0, 0), innerIp)), ETHERNET)[1]!.l3Offset).toBe(14 + 20 + 4 + 4);
    expect(decodeLevels(gre({ protocol: 0x883e }, innerIp), ETHERNET)[1]!.l3Offset).toBe(14 + 20 + 4);
  });

  it('keepalives (protocol 0) and GRE-in-GRE', () => {
    const keepalive = B.ipv4Packet({ src: '10.9.9.2', dst: '10.9.9.1' }, 47, T.greHeader({ protocol: 0 }));
    const levels = decodeLevels(gre({ protocol: 0x0800 }, keepalive), ETHERNET);
    expect(levels.map((l) => [l.level, l.ipProto, l.anomaly, l.innerKind])).toEqual([[0, 47, 0, InnerKind.Ipv4], [1, 47, 0, InnerKind.None]]);
  });

  it('version 2+ and unknown protocols: noted on the GRE packet, nothing opened', () => {
    expect(decodeLevels(patch(TUNNEL_FRAMES.greAllFields, 35, 0x02), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.gre_bad_version]);
    expect(decodeLevels(gre({ protocol: 0x894f }), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.gre_unknown_protocol]);
  });

  it('optional fields cut: truncated_gre_header', () => {
    const levels = decodeLevels(TUNNEL_FRAMES.greAllFields, ETHERNET, { capLen: 45 });
    expect(levels.map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.Ok, Anomaly.truncated_gre_header]]);
  });

  it('inner Ethernet with VLAN tags: the tags are the inner flow\'s', () => {
    const f = gre({ protocol: 0x6558, key: 1 }, B.frame(innerIp, { vlan: [30] }));
    const [outer, inner] = decodeLevels(f, ETHERNET);
    expect([outer!.vlanCount, inner!.vlanCount, inner!.vlanOuter]).toEqual([0, 1, 30]);
    expect(hex(INNER_ETH)).toHaveLength(14);
  });
});

describe('ERSPAN in GRE', () => {
  it('type II (0x88be with a sequence number): session id as id and in the flow key', () => {
    const [outer, inner] = decodeLevels(TUNNEL_FRAMES.erspanII, ETHERNET);
    expect([outer!.innerKind, outer!.innerOffset]).toEqual([InnerKind.Ethernet, 50]);
    expect(withoutStack(inner!)).toEqual(innerTcp(64, { tunnelContext: context(TunnelType.ERSPAN, 100) }));
    expect(inner!.stack).toEqual([{ type: 'erspan', id: 100, outer: '192.168.1.1 > 192.168.1.2' }]);
  });

  it('type III (0x22eb) with the optional platform subheader', () => {
    const [, inner] = decodeLevels(TUNNEL_FRAMES.erspanIII, ETHERNET);
    expect(withoutStack(inner!)).toEqual(innerTcp(76, { tunnelContext: context(TunnelType.ERSPAN, 200) }));
    const plain = gre({ protocol: 0x22eb, seq: 1 }, B.concat(T.erspanIIIHeader(5), B.frame(innerIp)));
    expect(decodeLevels(plain, ETHERNET)[1]!.l3Offset).toBe(14 + 20 + 8 + 12 + 14);
  });

  it('type III carrying an IP packet (frame type 2)', () => {
    const f = gre({ protocol: 0x22eb, seq: 1 }, B.concat(T.erspanIIIHeader(6, { frameType: 2 }), innerIp));
    expect(decodeLevels(f, ETHERNET)[1]!.l3Offset).toBe(14 + 20 + 8 + 12);
  });

  it('type I (no sequence number): no ERSPAN header, no session', () => {
    const f = gre({ protocol: 0x88be }, B.frame(innerIp));
    const [, inner] = decodeLevels(f, ETHERNET);
    expect([inner!.l3Offset, inner!.stack[0]]).toEqual([14 + 20 + 4 + 14, { type: 'erspan', id: null, outer: '192.168.1.1 > 192.168.1.2' }]);
  });

  it('a wrong version field or a cut header is noted, nothing opened', () => {
    expect(decodeLevels(patch(TUNNEL_FRAMES.erspanII, 42, 0x20), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.erspan_bad_version]);
    expect(decodeLevels(TUNNEL_FRAMES.erspanIII, ETHERNET, { capLen: 60 }).map((l) => l.anomaly)).toEqual([Anomaly.truncated_erspan_header]);
  });
});
