import { describe, expect, it } from 'vitest';
import { InnerKind, TunnelType } from '../../src/decode/tunnel.js';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decodeLevels, expected, hex, patch } from './helpers.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { INNER_IP } from './tunnel-frames.js';
import { context, innerTcp, withoutStack } from './tunnel-expect.js';
import { TUNNEL_FRAMES } from './tunnel-frames.js';

const ETHERNET = 1;
const F = TUNNEL_FRAMES.vxlan;

describe('VXLAN (RFC 7348)', () => {
  it('decodes the outer UDP flow packet, then the inner Ethernet/IPv4/TCP packet with VNI 1', () => {
    const [outer, inner, ...rest] = decodeLevels(F, ETHERNET);
    expect(rest).toEqual([]);
    expect(withoutStack(outer!)).toEqual(expected({
      ...addrs('192.168.1.1', '192.168.1.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 96, ipProto: 17, fragId: 1, l4Offset: 34,
      hasPorts: true, srcPort: 51000, dstPort: 8472,
      payloadOffset: 42, payloadCaptured: 68, payloadLength: 68,
      innerKind: InnerKind.Ethernet, innerOffset: 50, innerEnd: 110, innerDeclEnd: 110,
    }));
    expect(outer!.stack).toEqual([]);
    expect(withoutStack(inner!)).toEqual(innerTcp(64, { tunnelContext: context(TunnelType.VXLAN, 1) }));
    expect(inner!.stack).toEqual([{ type: 'vxlan', id: 1, outer: '192.168.1.1 > 192.168.1.2' }]);
  });

  it('is recognised on the reply too (source port 8472) and on --vxlan-port ports only when given', () => {
    // Swap the UDP ports: 8472 > 51000.
    const reply = patch(F, 34, 0x21, 0x18, 0xc7, 0x38);
    expect(decodeLevels(reply, ETHERNET)).toHaveLength(2);
    // UDP port 9999: only the outer packet, unless configured.
    const other = patch(F, 36, 0x27, 0x0f);
    expect(decodeLevels(other, ETHERNET)).toHaveLength(1);
    const configured = decodeLevels(other, ETHERNET, { decap: { mode: 'auto', vxlanPorts: [9999] } });
    expect(configured.map((l) => l.srcPort)).toEqual([51000, 40000]);
  });

  it('with the I flag clear: opened anyway (as tshark), vxlan_i_flag_clear noted on the outer packet', () => {
    const [outer, inner] = decodeLevels(patch(F, 42, 0x00), ETHERNET);
    expect([outer!.status, outer!.anomaly, outer!.hasPorts]).toEqual([DecodeStatus.Ok, Anomaly.vxlan_i_flag_clear, true]);
    expect(inner!.srcPort).toBe(40000);
  });

  it('a cut VXLAN header: the outer packet stays a flow packet, truncated_vxlan_header, nothing inside', () => {
    const levels = decodeLevels(F, ETHERNET, { capLen: 48 });
    expect(levels).toHaveLength(1);
    expect([levels[0]!.status, levels[0]!.anomaly, levels[0]!.hasPorts]).toEqual([DecodeStatus.Ok, Anomaly.truncated_vxlan_header, true]);
  });

  it('a snaplen cut inside the inner TCP header: Truncated inner packet, the outer one intact', () => {
    const [outer, inner] = decodeLevels(F, ETHERNET, { capLen: 90 });
    expect([outer!.status, outer!.anomaly, outer!.truncated]).toEqual([DecodeStatus.Ok, 0, true]);
    expect([inner!.status, inner!.anomaly, inner!.hasPorts, inner!.truncated]).toEqual([DecodeStatus.Truncated, Anomaly.truncated_tcp_header, false, true]);
  });

  it('VXLAN-GPE on 4790: the next-protocol byte says what follows (IPv4, IPv6, Ethernet, MPLS)', () => {
    const gpe = (next: number, inner: Uint8Array) =>
      T.udpTunnelFrame({ src: '192.168.1.1', dst: '192.168.1.2', sport: 50000, dport: 4790 }, Uint8Array.of(0x0c, 0, 0, next, 0, 0, 0x2a, 0), inner);
    const ip = hex(INNER_IP);
    const [outer, inner] = decodeLevels(gpe(1, ip), ETHERNET);
    expect([outer!.innerKind, inner!.srcPort, inner!.tunnelContext]).toEqual([InnerKind.Ipv4, 40000, context(TunnelType.VXLAN_GPE, 0x2a)]);
    expect(inner!.stack).toEqual([{ type: 'vxlan-gpe', id: 0x2a, outer: '192.168.1.1 > 192.168.1.2' }]);
    expect(decodeLevels(gpe(3, B.frame(ip)), ETHERNET)[1]!.srcPort).toBe(40000);
    expect(decodeLevels(gpe(5, B.concat(T.mplsStack([99]), ip)), ETHERNET)[1]!.stack.map((e) => e.type)).toEqual(['vxlan-gpe', 'mpls']);
    expect(decodeLevels(gpe(4, ip), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.vxlan_gpe_unknown_protocol]);
    expect(decodeLevels(gpe(1, ip), ETHERNET, { capLen: 48 }).map((l) => l.anomaly)).toEqual([Anomaly.truncated_vxlan_gpe_header]);
  });

  it('--decap off: the outer view only (no inner level, no tunnel context)', () => {
    const levels = decodeLevels(F, ETHERNET, { decap: { mode: 'off' } });
    expect(levels).toHaveLength(1);
    expect([levels[0]!.innerKind, levels[0]!.anomaly]).toEqual([InnerKind.None, 0]);
  });
});
