import { describe, expect, it } from 'vitest';
import { TunnelType } from '../../src/decode/tunnel.js';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { decodeLevels, hex, patch } from './helpers.js';
import { context, innerTcp, withoutStack } from './tunnel-expect.js';
import { INNER_IP, TUNNEL_FRAMES } from './tunnel-frames.js';

const ETHERNET = 1;
const innerIp = hex(INNER_IP);

describe('PPPoE sessions (RFC 2516) and PPP', () => {
  it('over QinQ: VLANs kept, session 0x1234 as id and in the flow key', () => {
    const levels = decodeLevels(TUNNEL_FRAMES.pppoe, ETHERNET);
    expect(levels).toHaveLength(1);
    expect(withoutStack(levels[0]!)).toEqual(innerTcp(30, {
      level: 0, tunnelDepth: 1, tunnelContext: context(TunnelType.PPPOE, 0x1234), vlanCount: 2, vlanOuter: 100, vlanInner: 200,
    }));
    expect(levels[0]!.stack).toEqual([{ type: 'pppoe', id: 0x1234, outer: '02:00:00:00:00:01 > 02:00:00:00:00:02' }]);
  });

  it('plain and 802.1Q Ethernet, IPv6 (PPP 0x0057)', () => {
    const v6 = B.ipv6Packet({ src: 'fd00::1', dst: 'fd00::2' }, 17, B.udpDatagram({ sport: 7, dport: 8 }));
    for (const vlan of [[], [7]]) {
      const f = B.frame(T.pppoeSession(9, 0x0057, v6), { etherType: 0x8864, vlan });
      expect(decodeLevels(f, ETHERNET).map((l) => [l.ipVersion, l.srcPort, l.vlanCount])).toEqual([[6, 7, vlan.length]]);
    }
  });

  it('a compressed one-byte PPP protocol field (as in suricata-verify bug-4810)', () => {
    // PPPoE [ses 0x2d] IP (0x21): 11 00 002d 003d 21
    const f = B.frame(B.concat(hex('1100002d 002f 21'), innerIp), { etherType: 0x8864 });
    const [p] = decodeLevels(f, ETHERNET);
    expect([p!.l3Offset, p!.srcPort, p!.stack[0]!.id]).toEqual([21, 40000, 0x2d]);
  });

  it('PPP control (LCP) is not a flow packet; discovery frames are counted as pppoe_discovery', () => {
    const lcp = B.frame(T.pppoeSession(9, 0xc021, [1, 1, 0, 4]), { etherType: 0x8864 });
    expect(decodeLevels(lcp, ETHERNET).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.NotIp, Anomaly.ppp_non_ip_protocol]]);
    const padi = B.frame(hex('1109 0000 0004 01010000'), { etherType: 0x8863 });
    expect(decodeLevels(padi, ETHERNET).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.NotIp, Anomaly.pppoe_discovery]]);
  });

  it('a bad version/type or code, a cut header', () => {
    expect(decodeLevels(patch(TUNNEL_FRAMES.pppoe, 22, 0x12), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.pppoe_bad_header]);
    expect(decodeLevels(patch(TUNNEL_FRAMES.pppoe, 23, 0x09), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.pppoe_bad_header]);
    expect(decodeLevels(TUNNEL_FRAMES.pppoe, ETHERNET, { capLen: 28, origLen: 76 }).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.Truncated, Anomaly.truncated_pppoe_header]]);
    expect(innerIp).toHaveLength(46);
  });

  it('PPP in GRE: a cut protocol field is truncated_ppp_header', () => {
    const f = T.greFrame({ src: '1.1.1.1', dst: '2.2.2.2', gre: { protocol: 0x880b, version: 1, key: 1 } }, hex('ff03'));
    expect(decodeLevels(f, ETHERNET).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.Ok, 0], [DecodeStatus.Malformed, Anomaly.truncated_ppp_header]]);
  });
});
