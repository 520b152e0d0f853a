import { describe, expect, it } from 'vitest';
import { InnerKind, TunnelType } from '../../src/decode/tunnel.js';
import { DecodeStatus, FragmentKind } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { decodeLevels } from './helpers.js';
import { context, innerTcp, innerUdp6, withoutStack } from './tunnel-expect.js';
import { TUNNEL_FRAMES } from './tunnel-frames.js';

const ETHERNET = 1;
const tcp4 = B.ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2' }, 6, B.tcpSegment({ sport: 1, dport: 2 }));
const udp6 = B.ipv6Packet({ src: 'fd00::1', dst: 'fd00::2' }, 17, B.udpDatagram({ sport: 3, dport: 4 }));

describe('IP in IP (RFC 2003, RFC 4213): 4in4, 6in4, 4in6, 6in6', () => {
  it('4in4: the outer ip-proto-4 packet, then the inner TCP packet', () => {
    const [outer, inner] = decodeLevels(TUNNEL_FRAMES.ipip, ETHERNET);
    expect([outer!.ipProto, outer!.status, outer!.anomaly, outer!.hasPorts, outer!.innerKind, outer!.innerOffset]).toEqual([4, DecodeStatus.Ok, 0, false, InnerKind.Ipv4, 34]);
    expect(withoutStack(inner!)).toEqual(innerTcp(34, { tunnelContext: context(TunnelType.IP_IN_IP) }));
    expect(inner!.stack).toEqual([{ type: 'ip-in-ip', id: null, outer: '192.168.1.1 > 192.168.1.2' }]);
  });

  it('6in4 (protocol 41)', () => {
    const [outer, inner] = decodeLevels(TUNNEL_FRAMES.sixInFour, ETHERNET);
    expect([outer!.ipProto, outer!.innerKind]).toEqual([41, InnerKind.Ipv6]);
    expect(withoutStack(inner!)).toEqual(innerUdp6(34, { tunnelContext: context(TunnelType.IP_IN_IP) }));
  });

  it.each([
    ['4in6', 'fd00:aa::1', tcp4, 4],
    ['6in6', 'fd00:aa::1', udp6, 6],
    ['4in4', '172.16.0.1', tcp4, 4],
    ['6in4', '172.16.0.1', udp6, 6],
  ] as const)('%s', (_n, outerAddr, packet, version) => {
    const f = T.ipInIpFrame({ src: outerAddr, dst: outerAddr.replace(/1$/, '2') }, packet);
    const levels = decodeLevels(f, ETHERNET);
    expect(levels.map((l) => [l.level, l.ipVersion, l.status])).toEqual([[0, outerAddr.includes(':') ? 6 : 4, 0], [1, version, 0]]);
    expect(levels[1]!.stack[0]!.outer).toBe(`${outerAddr} > ${outerAddr.replace(/1$/, '2')}`);
  });

  it('a fragmented outer datagram is not opened: its first fragment notes tunnel_outer_fragmented', () => {
    const outer = B.ipv4Packet({ src: '192.168.1.1', dst: '192.168.1.2', id: 5 }, 4, B.ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2' }, 17, B.udpDatagram({ sport: 1, dport: 2, payload: new Uint8Array(200) })));
    const [first, second] = B.fragmentIpv4(outer, 96).map((d) => decodeLevels(B.frame(d), ETHERNET));
    expect(first!.map((l) => [l.fragment, l.anomaly, l.innerKind])).toEqual([[FragmentKind.First, Anomaly.tunnel_outer_fragmented, InnerKind.None]]);
    expect(second!.map((l) => [l.fragment, l.anomaly])).toEqual([[FragmentKind.Later, 0]]);
  });

  it('an inner packet cut by the outer datagram: the inner IP header is malformed, not read past the outer end', () => {
    // Outer total length says 30: the inner header's 20 bytes are there, its TCP header is not.
    const f = B.frame(B.ipv4Packet({ src: '192.168.1.1', dst: '192.168.1.2', totalLength: 50 }, 4, tcp4));
    const [, inner] = decodeLevels(f, ETHERNET);
    expect([inner!.status, inner!.hasPorts]).toEqual([DecodeStatus.Malformed, false]);
    expect(inner!.anomaly).toBe(Anomaly.ipv4_total_len_gt_captured);
  });
});
