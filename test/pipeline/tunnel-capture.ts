/**
 * The mixed capture (mixed-capture.ts: handshakes, fragments, ICMP errors from routers and from the
 * destination, port reuse, VLANs, IPv6, snaplen cuts, idle gaps, time stepping back) with each
 * conversation carried through a tunnel between a few "nodes": VXLAN (some conversations twice, in
 * two VNIs: the same inner 5-tuple), Geneve, IP-in-IP, GRE (IP and Ethernet), GTP-U, PPPoE, MPLS, or
 * nothing. Many inner host pairs share few outer pairs, so with worker threads an inner flow usually
 * lives on another worker than its outer flow.
 */
import { concat, frame, ipv4Packet, udpDatagram } from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { mixedCapture, type MixedCapture } from './mixed-capture.js';

const KINDS = ['vxlan', 'geneve', 'ipip', 'gre', 'gre-teb', 'gtpu', 'pppoe', 'mpls', 'plain'] as const;

/** The inner frame's IP datagram (after Ethernet and VLAN tags), or null for non-IP frames. */
function datagramOf(f: Uint8Array): Uint8Array | null {
  let off = 12;
  let type = (f[off]! << 8) | f[off + 1]!;
  while (type === 0x8100 || type === 0x88a8) {
    off += 4;
    type = (f[off]! << 8) | f[off + 1]!;
  }
  return type === 0x0800 || type === 0x86dd ? f.subarray(off + 2) : null;
}

/** A node (tunnel endpoint) for an inner address: a hash of the address bytes, 6 nodes. */
function nodeOf(d: Uint8Array, at: number, len: number): string {
  let h = 2166136261;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ d[at + i]!, 16777619);
  return `192.168.100.${1 + ((h >>> 0) % 6)}`;
}

export function tunnelledCapture(seed: number, conversations: number): MixedCapture {
  return mixedCapture({
    seed,
    conversations,
    wrap: (f, k) => {
      const d = datagramOf(f);
      const kind = d === null ? 'vxlan' : KINDS[k % KINDS.length]!;
      if (kind === 'plain') return [f];
      const v6 = d !== null && d[0]! >> 4 === 6;
      const src = d === null ? '192.168.100.9' : nodeOf(d, v6 ? 8 : 12, v6 ? 16 : 4);
      const dst = d === null ? '192.168.100.10' : nodeOf(d, v6 ? 24 : 16, v6 ? 16 : 4);
      const o = { src, dst, id: k & 0xffff };
      const sport = 32768 + (k % 20000);
      switch (kind) {
        case 'vxlan': {
          const vni = 1 + (k % 3);
          const out = [T.vxlanFrame({ ...o, sport, dport: k % 2 === 0 ? 4789 : 8472, vni }, f)];
          // Every fifth VXLAN conversation also runs, byte for byte, in another VNI (another tenant).
          if (k % 5 === 0) out.push(T.vxlanFrame({ ...o, sport, vni: vni + 1000 }, f));
          return out;
        }
        case 'geneve':
          return [T.geneveFrame({ ...o, sport, vni: 77, options: T.geneveOption(0x0102, 1, [0, 0, 0, k & 255]) }, f)];
        case 'ipip':
          return [T.ipInIpFrame(o, d!)];
        case 'gre':
          return [T.greFrame({ ...o, gre: { protocol: v6 ? 0x86dd : 0x0800, key: k, seq: 1 } }, d!)];
        case 'gre-teb':
          return [T.greFrame({ ...o, gre: { protocol: 0x6558 } }, f)];
        case 'gtpu':
          return [frame(ipv4Packet({ src, dst, id: o.id }, 17, udpDatagram({ sport: 2152, dport: 2152, payload: T.gtpu({ teid: k }, d!) })))];
        case 'pppoe':
          return [frame(T.pppoeSession(k & 0xffff, v6 ? 0x57 : 0x21, d!), { etherType: 0x8864, vlan: [7] })];
        default:
          return [frame(concat(T.mplsStack([16 + (k % 5), 1000]), d!), { etherType: 0x8847 })];
      }
    },
  });
}
