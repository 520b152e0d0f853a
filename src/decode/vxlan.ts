/**
 * VXLAN (RFC 7348 section 5): flags (1: R R R R I R R R), reserved (3), VNI (3), reserved (1) = 8
 * bytes, then the inner Ethernet frame. Carried in UDP to port 4789 (IANA) or 8472 (the Linux
 * kernel's default, used by flannel and Cilium), or any port given with --vxlan-port.
 *
 * The I flag says the VNI is valid; a header without it is still opened (tshark does too) and
 * noted as vxlan_i_flag_clear. Reserved bits are ignored on receipt as the RFC asks, so VXLAN-GBP
 * (group policy in the reserved bits) decodes as well.
 *
 * VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe, UDP 4790, where tshark decodes it by default) reuses the
 * header with a next-protocol byte (4th): 1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS; NSH (4) and others
 * are vxlan_gpe_unknown_protocol.
 */
import { Anomaly } from '../util/anomaly.js';
import { u32be } from '../util/bytes.js';
import { note } from './status.js';
import { InnerKind, openTunnel, TunnelType } from './tunnel.js';

const VXLAN_GPE_NEXT_PROTOCOL = 3;
const GPE_IPV4 = 1;
const GPE_IPV6 = 2;
const GPE_ETHERNET = 3;
const GPE_MPLS = 5;
import type { DecodedPacket } from './types.js';

export const VXLAN_HEADER_LEN = 8;
const VXLAN_FLAGS = 0;
const VXLAN_VNI = 4;
const VXLAN_FLAG_I = 0x08;

/** The VXLAN header at `off` (the UDP payload), readable up to `capEnd`, ending at `declEnd`. */
export function decodeVxlan(out: DecodedPacket, buf: Uint8Array, off: number, capEnd: number, declEnd: number): void {
  if (capEnd - off < VXLAN_HEADER_LEN) {
    note(out, Anomaly.truncated_vxlan_header);
    return;
  }
  if ((buf[off + VXLAN_FLAGS]! & VXLAN_FLAG_I) === 0) note(out, Anomaly.vxlan_i_flag_clear);
  const vni = u32be(buf, off + VXLAN_VNI) >>> 8;
  openTunnel(out, TunnelType.VXLAN, vni, true, InnerKind.Ethernet, off + VXLAN_HEADER_LEN, capEnd, declEnd);
}

/** The VXLAN-GPE header at `off` (arguments as decodeVxlan). */
export function decodeVxlanGpe(out: DecodedPacket, buf: Uint8Array, off: number, capEnd: number, declEnd: number): void {
  if (capEnd - off < VXLAN_HEADER_LEN) {
    note(out, Anomaly.truncated_vxlan_gpe_header);
    return;
  }
  let kind: number;
  switch (buf[off + VXLAN_GPE_NEXT_PROTOCOL]) {
    case GPE_IPV4:
      kind = InnerKind.Ipv4;
      break;
    case GPE_IPV6:
      kind = InnerKind.Ipv6;
      break;
    case GPE_ETHERNET:
      kind = InnerKind.Ethernet;
      break;
    case GPE_MPLS:
      kind = InnerKind.Mpls;
      break;
    default:
      note(out, Anomaly.vxlan_gpe_unknown_protocol);
      return;
  }
  openTunnel(out, TunnelType.VXLAN_GPE, u32be(buf, off + VXLAN_VNI) >>> 8, true, kind, off + VXLAN_HEADER_LEN, capEnd, declEnd);
}
