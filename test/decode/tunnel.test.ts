import { describe, expect, it } from 'vitest';
import { udpTunnelOf, udpTunnelPorts, UdpTunnel } from '../../src/decode/decap-options.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { nextContext, TunnelType } from '../../src/decode/tunnel.js';
import { MAX_TUNNEL_DEPTH } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { decodeLevels, fields, hex } from './helpers.js';
import { INNER_IP, TUNNEL_FRAMES } from './tunnel-frames.js';

const ETHERNET = 1;
const innerIp = hex(INNER_IP);

/** `depth` VXLAN headers around an Ethernet/IPv4/UDP packet, VNIs 1..depth from the outside. */
function nestedVxlan(depth: number): Uint8Array {
  let f = B.ipv4Udp({ src: '10.9.9.1', dst: '10.9.9.2', sport: 53, dport: 53, payload: 'dns?' });
  for (let i = depth; i >= 1; i--) f = T.vxlanFrame({ src: `${i}.${i}.${i}.${i}`, dst: `${i}.${i}.${i}.9`, sport: 4789, vni: i }, f);
  return f;
}

describe('nesting', () => {
  it(`follows ${MAX_TUNNEL_DEPTH} nested VXLAN headers: one level per IP packet, the stack growing outside in`, () => {
    const levels = decodeLevels(nestedVxlan(MAX_TUNNEL_DEPTH), ETHERNET);
    expect(levels.map((l) => [l.level, l.tunnelDepth, l.srcPort, l.anomaly])).toEqual([
      [0, 0, 4789, 0], [1, 1, 4789, 0], [2, 2, 4789, 0], [3, 3, 4789, 0], [4, 4, 53, 0],
    ]);
    expect(levels[4]!.stack.map((e) => [e.id, e.outer])).toEqual([[1, '1.1.1.1 > 1.1.1.9'], [2, '2.2.2.2 > 2.2.2.9'], [3, '3.3.3.3 > 3.3.3.9'], [4, '4.4.4.4 > 4.4.4.9']]);
    // Every level has its own context (a flow in VNI 3 inside VNI 1 is not one in VNI 3 inside VNI 2).
    expect(new Set(levels.map((l) => l.tunnelContext)).size).toBe(5);
  });

  it('one more is tunnel_depth_exceeded on the packet that would open it, which stays a flow packet', () => {
    const levels = decodeLevels(nestedVxlan(MAX_TUNNEL_DEPTH + 1), ETHERNET);
    expect(levels).toHaveLength(MAX_TUNNEL_DEPTH + 1);
    expect(levels.map((l) => l.anomaly).at(-1)).toBe(Anomaly.tunnel_depth_exceeded);
    expect(levels.at(-1)!.hasPorts).toBe(true);
  });

  it('link-level encapsulations count toward the depth: MPLS at the limit is not IP', () => {
    let f = B.frame(B.concat(T.mplsStack([99]), innerIp), { etherType: 0x8847 });
    for (let i = 0; i < MAX_TUNNEL_DEPTH; i++) f = T.vxlanFrame({ src: '1.1.1.1', dst: '2.2.2.2', vni: i }, f);
    const last = decodeLevels(f, ETHERNET).at(-1)!;
    expect([last.level, last.status, last.anomaly]).toEqual([MAX_TUNNEL_DEPTH, 3, Anomaly.tunnel_depth_exceeded]);
  });

  it('GRE, ERSPAN, MPLS, PPPoE and VXLAN mixed: each entry in order', () => {
    const pppoe = B.frame(T.pppoeSession(7, 0x21, innerIp), { etherType: 0x8864, vlan: [3] });
    const erspan = T.greFrame({ src: '10.1.1.1', dst: '10.1.1.2', gre: { protocol: 0x88be, seq: 1 } }, B.concat(T.erspanIIHeader(12), pppoe));
    const vx = T.vxlanFrame({ src: '172.16.0.1', dst: '172.16.0.2', vni: 42 }, erspan);
    const mpls = B.frame(B.concat(T.mplsStack([500]), vx.subarray(14)), { etherType: 0x8847 });
    const levels = decodeLevels(mpls, ETHERNET);
    expect(levels.at(-1)!.stack.map((e) => `${e.type}:${e.id}`)).toEqual(['mpls:500', 'vxlan:42', 'erspan:12', 'pppoe:7']);
    expect(levels.map((l) => l.srcPort)).toEqual([49152, 0, 40000]);
  });

  it('a decoder reused after a tunnelled frame decodes a plain frame exactly as a fresh one', () => {
    const dec = new PacketDecoder();
    const plain = B.ipv4Udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2 });
    const fresh = fields(new PacketDecoder().decode(plain, 0, plain.length, plain.length, ETHERNET));
    dec.decode(nestedVxlan(3), 0, nestedVxlan(3).length, nestedVxlan(3).length, ETHERNET);
    while (dec.next() !== null);
    expect(fields(dec.decode(plain, 0, plain.length, plain.length, ETHERNET))).toEqual(fresh);
    expect(dec.next()).toBeNull();
  });
});

describe('the flow key context', () => {
  it('the same inner 5-tuple in two VNIs: two contexts; both directions of one VNI: one', () => {
    const inner = B.ipv4Udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2 });
    const back = B.ipv4Udp({ src: '10.0.0.2', dst: '10.0.0.1', sport: 2, dport: 1 });
    const ctx = (vni: number, f: Uint8Array, src: string, dst: string) => decodeLevels(T.vxlanFrame({ src, dst, vni }, f), ETHERNET)[1]!.tunnelContext;
    expect(ctx(1, inner, '192.0.2.1', '192.0.2.2')).toBe(ctx(1, back, '192.0.2.2', '192.0.2.1'));
    expect(ctx(1, inner, '192.0.2.1', '192.0.2.2')).not.toBe(ctx(2, inner, '192.0.2.1', '192.0.2.2'));
  });

  it('per-direction ids stay out: PPTP call ids, GTP-U TEIDs, GRE keys, MPLS labels', () => {
    const pptp = (call: number) => decodeLevels(T.greFrame({ src: '1.1.1.1', dst: '2.2.2.2', gre: { protocol: 0x880b, version: 1, key: call } }, T.pppFrame(0x21, innerIp)), ETHERNET)[1]!.tunnelContext;
    expect(pptp(6016)).toBe(pptp(17));
    const gtp = (teid: number) => decodeLevels(T.udpTunnelFrame({ src: '1.1.1.1', dst: '2.2.2.2', sport: 2152, dport: 2152 }, T.gtpu({ teid }, innerIp), new Uint8Array(0)), ETHERNET)[1]!.tunnelContext;
    expect(gtp(1)).toBe(gtp(2));
    expect(nextContext(0, TunnelType.GRE, 5)).toBe(nextContext(0, TunnelType.GRE, 6));
    expect(nextContext(0, TunnelType.MPLS, 5)).toBe(0);
    expect(decodeLevels(TUNNEL_FRAMES.mpls, ETHERNET)[0]!.tunnelContext).toBe(0);
  });

  it('deeper stacks hash to a non-zero word', () => {
    let ctx = 0;
    for (let i = 0; i < 4; i++) {
      ctx = nextContext(ctx, TunnelType.VXLAN, 0);
      expect(ctx).not.toBe(0);
    }
  });
});

describe('decap options', () => {
  it('default ports; --vxlan-port adds (and wins over another tunnel\'s port); off builds no table', () => {
    const t = udpTunnelPorts()!;
    expect([t[4789], t[8472], t[4790], t[6081], t[2152], t[3544], t[53]]).toEqual([UdpTunnel.VXLAN, UdpTunnel.VXLAN, UdpTunnel.VXLAN_GPE, UdpTunnel.GENEVE, UdpTunnel.GTP_U, UdpTunnel.TEREDO, 0]);
    const custom = udpTunnelPorts({ mode: 'auto', vxlanPorts: [10000, 6081] })!;
    expect([custom[10000], custom[6081], custom[4789]]).toEqual([UdpTunnel.VXLAN, UdpTunnel.VXLAN, UdpTunnel.VXLAN]);
    expect(udpTunnelPorts({ mode: 'off', vxlanPorts: [1] })).toBeNull();
    expect(() => udpTunnelPorts({ mode: 'auto', vxlanPorts: [0] })).toThrow(/1-65535/);
  });

  it('either port may be the tunnel\'s; with two tunnel ports the lower one decides (as tshark)', () => {
    const t = udpTunnelPorts()!;
    expect(udpTunnelOf(t, 50000, 4789)).toBe(UdpTunnel.VXLAN);
    expect(udpTunnelOf(t, 4789, 50000)).toBe(UdpTunnel.VXLAN);
    expect(udpTunnelOf(t, 3544, 2152)).toBe(UdpTunnel.GTP_U);
    expect(udpTunnelOf(t, 53, 50000)).toBe(UdpTunnel.None);
  });
});
