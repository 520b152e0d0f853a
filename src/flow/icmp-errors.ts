/**
 * ICMP errors and the flows they quote. An error (port unreachable, time exceeded, ...) quotes the
 * packet that caused it (decode/icmp.ts fills the packet's quoted* fields); the flow table credits
 * the quoted flow's `icmpErrors`. Who sent the error decides how: one of the quoted flow's own two
 * hosts (a port unreachable from the destination) is credited instead of counted as a packet; a
 * third host (a router) sends a packet of its own ICMP flow, and the quoted flow is credited besides
 * (FlowTable.creditQuoted), possibly by another worker (pipeline/shard.ts `quoteShard`).
 */
import { DecodedPacket } from '../decode/types.js';

/** True when an ICMP error's quoted packet is between the same two hosts as the error itself. */
export function quotesOwnPair(p: DecodedPacket): boolean {
  const sameDir = p.src0 === p.quotedSrc0 && p.src1 === p.quotedSrc1 && p.src2 === p.quotedSrc2 && p.src3 === p.quotedSrc3 &&
    p.dst0 === p.quotedDst0 && p.dst1 === p.quotedDst1 && p.dst2 === p.quotedDst2 && p.dst3 === p.quotedDst3;
  if (sameDir) return true;
  return p.src0 === p.quotedDst0 && p.src1 === p.quotedDst1 && p.src2 === p.quotedDst2 && p.src3 === p.quotedDst3 &&
    p.dst0 === p.quotedSrc0 && p.dst1 === p.quotedSrc1 && p.dst2 === p.quotedSrc2 && p.dst3 === p.quotedSrc3;
}

/**
 * The packet an ICMP error quotes, as a packet: its addresses, ports and protocol in the fields a
 * flow lookup reads, with the error's VLAN tags and tunnel context. Reused (one per table); valid until the next
 * call. Lets the table find the quoted flow with the same lookup it uses for packets.
 */
export class QuotedPacket {
  private readonly q = new DecodedPacket();

  of(p: DecodedPacket): DecodedPacket {
    const q = this.q;
    q.src0 = p.quotedSrc0; q.src1 = p.quotedSrc1; q.src2 = p.quotedSrc2; q.src3 = p.quotedSrc3;
    q.dst0 = p.quotedDst0; q.dst1 = p.quotedDst1; q.dst2 = p.quotedDst2; q.dst3 = p.quotedDst3;
    q.srcPort = p.quotedSrcPort;
    q.dstPort = p.quotedDstPort;
    q.ipProto = p.quotedProto;
    q.vlanCount = p.vlanCount;
    q.vlanOuter = p.vlanOuter;
    q.vlanInner = p.vlanInner;
    // Inside a tunnel the quoted packet travelled through the same one.
    q.tunnelContext = p.tunnelContext;
    return q;
  }
}
