/**
 * One frame per anomaly code of the tunnel decoders, for decoder.test.ts's "one rejection per
 * check branch" (which decodes every level and checks the last one).
 */
import { MAX_GRE_SRES } from '../../src/decode/gre.js';
import { MAX_MPLS_LABELS } from '../../src/decode/mpls.js';
import { DecodeStatus, MAX_TUNNEL_DEPTH } from '../../src/decode/types.js';
import type { AnomalyName } from '../../src/util/anomaly.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { hex, patch } from './helpers.js';
import { INNER_IP, TUNNEL_FRAMES as F } from './tunnel-frames.js';

const { Ok, Truncated, Malformed, NotIp } = DecodeStatus;
const ip = hex(INNER_IP);
const gre = (o: T.GreOptions, inner: Uint8Array = ip) => T.greFrame({ src: '1.1.1.1', dst: '2.2.2.2', gre: o }, inner);
const gtp = (o: T.GtpuOptions, payload: Uint8Array = ip) => T.udpTunnelFrame({ src: '1.1.1.1', dst: '2.2.2.2', sport: 2152, dport: 2152 }, T.gtpu(o, payload), new Uint8Array(0));
const teredo = (pre: Uint8Array, payload: Uint8Array) => T.udpTunnelFrame({ src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 3544 }, pre, payload);
const mpls = (labels: number[], payload: Uint8Array) => B.frame(B.concat(T.mplsStack(labels), payload), { etherType: 0x8847 });

function gpe(next: number): Uint8Array {
  return T.udpTunnelFrame({ src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 4790 }, Uint8Array.of(0x0c, 0, 0, next, 0, 0, 1, 0), ip);
}

function nested(depth: number): Uint8Array {
  let f = B.ipv4Udp({ src: '10.9.9.1', dst: '10.9.9.2', sport: 53, dport: 53 });
  for (let i = 0; i < depth; i++) f = T.vxlanFrame({ src: '1.1.1.1', dst: '1.1.1.2', vni: i }, f);
  return f;
}

export const TUNNEL_REJECTIONS: Array<{ anomaly: AnomalyName; status: number; frame: Uint8Array; linkType: number; capLen?: number }> = [
  { anomaly: 'truncated_vxlan_header', status: Ok, frame: F.vxlan, linkType: 1, capLen: 49 },
  { anomaly: 'vxlan_i_flag_clear', status: Ok, frame: patch(F.vxlan, 42, 0), linkType: 1 },
  { anomaly: 'truncated_geneve_header', status: Ok, frame: F.geneve, linkType: 1, capLen: 55 },
  { anomaly: 'geneve_bad_version', status: Ok, frame: patch(F.geneve, 42, 0x82), linkType: 1 },
  { anomaly: 'geneve_unknown_protocol', status: Ok, frame: patch(F.geneve, 44, 0x08, 0x06), linkType: 1 },
  { anomaly: 'truncated_gre_header', status: Ok, frame: F.greAllFields, linkType: 1, capLen: 49 },
  { anomaly: 'gre_bad_version', status: Ok, frame: patch(F.greAllFields, 35, 7), linkType: 1 },
  { anomaly: 'gre_unknown_protocol', status: Ok, frame: gre({ protocol: 0x894f }), linkType: 1 },
  { anomaly: 'gre_routing_too_long', status: Ok, frame: gre({ protocol: 0x0800, routing: new Array(MAX_GRE_SRES + 1).fill([0]) }), linkType: 1 },
  { anomaly: 'truncated_erspan_header', status: Ok, frame: F.erspanII, linkType: 1, capLen: 49 },
  { anomaly: 'erspan_bad_version', status: Ok, frame: patch(F.erspanIII, 42, 0x10), linkType: 1 },
  { anomaly: 'truncated_mpls_header', status: Truncated, frame: F.mpls, linkType: 1, capLen: 24 },
  { anomaly: 'mpls_label_stack_too_deep', status: NotIp, frame: mpls(new Array(MAX_MPLS_LABELS + 1).fill(16), ip), linkType: 1 },
  { anomaly: 'mpls_unknown_payload', status: NotIp, frame: mpls([16], hex('1000000000000000')), linkType: 1 },
  { anomaly: 'truncated_pppoe_header', status: Malformed, frame: F.pppoe.subarray(0, 27), linkType: 1 },
  { anomaly: 'pppoe_bad_header', status: NotIp, frame: patch(F.pppoe, 23, 0x65), linkType: 1 },
  { anomaly: 'pppoe_discovery', status: NotIp, frame: B.frame(hex('11090000000401010000'), { etherType: 0x8863 }), linkType: 1 },
  { anomaly: 'truncated_ppp_header', status: Malformed, frame: gre({ protocol: 0x880b, version: 1, key: 1 }, hex('ff03')), linkType: 1 },
  { anomaly: 'ppp_non_ip_protocol', status: NotIp, frame: patch(F.pppoe, 28, 0xc0, 0x21), linkType: 1 },
  { anomaly: 'truncated_nflog_header', status: Truncated, frame: F.nflog, linkType: 239, capLen: 2 },
  { anomaly: 'nflog_bad_header', status: Malformed, frame: patch(F.nflog, 1, 9), linkType: 239 },
  { anomaly: 'nflog_no_payload', status: NotIp, frame: F.nflog.subarray(0, 20), linkType: 239 },
  { anomaly: 'truncated_teredo_header', status: Ok, frame: teredo(Uint8Array.of(0, 1, 60, 60), new Uint8Array(8)), linkType: 1 },
  { anomaly: 'teredo_bad_payload', status: Ok, frame: teredo(new Uint8Array(0), ip), linkType: 1 },
  { anomaly: 'truncated_gtpu_header', status: Ok, frame: F.gtpu, linkType: 1, capLen: 47 },
  { anomaly: 'gtpu_bad_version', status: Ok, frame: gtp({ teid: 1, flags: 0x50 }), linkType: 1 },
  { anomaly: 'gtpu_bad_extension', status: Ok, frame: patch(F.gtpu, 54, 0), linkType: 1 },
  { anomaly: 'gtpu_unknown_payload', status: Ok, frame: gtp({ teid: 1 }, hex('0011223344')), linkType: 1 },
  { anomaly: 'tunnel_depth_exceeded', status: Ok, frame: nested(MAX_TUNNEL_DEPTH + 1), linkType: 1 },
  { anomaly: 'truncated_vxlan_gpe_header', status: Ok, frame: gpe(1), linkType: 1, capLen: 48 },
  { anomaly: 'vxlan_gpe_unknown_protocol', status: Ok, frame: gpe(4), linkType: 1 },
  {
    anomaly: 'tunnel_outer_fragmented', status: Ok, linkType: 1,
    frame: B.frame(B.fragmentIpv4(B.ipv4Packet({ src: '1.1.1.1', dst: '2.2.2.2', id: 3 }, 17, B.udpDatagram({ sport: 1, dport: 4789, payload: new Uint8Array(200) })), 96)[0]!),
  },
];
