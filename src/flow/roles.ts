/**
 * Who is client and who is server, decided once from a flow's first packet and recorded with its
 * basis: a TCP SYN (or SYN-ACK) says it outright; an ICMP query says who asked (decode/icmp.ts);
 * otherwise the port more likely to be a server's wins (documented in the loaded port map, then
 * below 1024, then below 49152); when both rank the same, the sender of the first packet is the
 * client.
 */
import { TcpFlag, type DecodedPacket } from '../decode/types.js';
import { IcmpQuery, icmpQueryKind } from '../decode/icmp.js';
import { IpProto, isIcmpProto } from '../util/ip-proto.js';
import { ROW } from './row-layout.js';

// Module-local copies (row-layout.ts says why).
const { BYTES: ROW_BYTES, B_BASIS } = ROW;

/** How the client/server roles were decided (recorded per flow). */
export const DirectionBasis = {
  Syn: 0,
  SynAck: 1,
  IcmpEcho: 2,
  PortMap: 3,
  WellKnownPort: 4,
  FirstPacket: 5,
} as const;
/** Output names of DirectionBasis values, by value. */
export const DIRECTION_BASIS_NAMES = ['syn', 'syn-ack', 'icmp-echo', 'port-map', 'well-known-port', 'first-packet'] as const;

/** Server-likeness of a port, higher is more likely the server side. */
export const PortRank = {
  Ephemeral: 0, // >= 49152
  Registered: 1, // 1024..49151
  WellKnown: 2, // < 1024
  PortMap: 3, // documented in the loaded port map
} as const;

/** Per-transport 65536-entry maps of documented server ports (value 1 = documented, else 0). */
export interface DocumentedPorts {
  tcp?: Uint8Array;
  udp?: Uint8Array;
  sctp?: Uint8Array;
}

/** Ranks by port number alone: well-known, registered, ephemeral. */
let baseRanks: Uint8Array | null = null;

function rankTable(documented: Uint8Array | undefined): Uint8Array {
  // Native fills and searches: a loop over 65,536 ports runs cold (interpreted) once per table.
  if (baseRanks === null) {
    baseRanks = new Uint8Array(65536);
    baseRanks.fill(PortRank.WellKnown, 0, 1024);
    baseRanks.fill(PortRank.Registered, 1024, 49152);
    baseRanks.fill(PortRank.Ephemeral, 49152);
  }
  const r = baseRanks.slice();
  if (documented !== undefined) for (let p = documented.indexOf(1); p >= 0; p = documented.indexOf(1, p + 1)) r[p] = PortRank.PortMap;
  return r;
}

/** Decides the roles of new flows, recording the basis in the flow's row (`rowBytes`: the rows' byte view). */
export class RoleDecider {
  private readonly rankTcp: Uint8Array;
  private readonly rankUdp: Uint8Array;
  private readonly rankSctp: Uint8Array;
  private readonly rankOther: Uint8Array;

  constructor(private readonly rowBytes: Uint8Array, documented: DocumentedPorts | undefined) {
    this.rankOther = rankTable(undefined);
    this.rankTcp = rankTable(documented?.tcp);
    this.rankUdp = rankTable(documented?.udp);
    this.rankSctp = rankTable(documented?.sctp);
  }

  /** True when the packet's source is the client of the new flow in `slot`; records the basis. */
  decide(slot: number, p: DecodedPacket, proto: number, sPort: number, dPort: number): boolean {
    if (proto === IpProto.TCP) {
      const f = p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK);
      if (f === TcpFlag.SYN) {
        this.rowBytes[slot * ROW_BYTES + B_BASIS] = DirectionBasis.Syn;
        return true;
      }
      if (f === (TcpFlag.SYN | TcpFlag.ACK)) {
        this.rowBytes[slot * ROW_BYTES + B_BASIS] = DirectionBasis.SynAck;
        return false;
      }
    } else if (isIcmpProto(proto)) {
      // A query pair (echo, timestamp, ...) shares one flow keyed by its identifier (decode/icmp.ts).
      const q = icmpQueryKind(proto === IpProto.ICMPV6, p.icmpType);
      this.rowBytes[slot * ROW_BYTES + B_BASIS] = q === IcmpQuery.None ? DirectionBasis.FirstPacket : DirectionBasis.IcmpEcho;
      return q !== IcmpQuery.Reply;
    }
    const ranks = proto === IpProto.TCP ? this.rankTcp : proto === IpProto.UDP ? this.rankUdp : proto === IpProto.SCTP ? this.rankSctp : this.rankOther;
    const rs = ranks[sPort]!;
    const rd = ranks[dPort]!;
    if (rs === rd) {
      this.rowBytes[slot * ROW_BYTES + B_BASIS] = DirectionBasis.FirstPacket;
      return true;
    }
    this.rowBytes[slot * ROW_BYTES + B_BASIS] = rs === PortRank.PortMap || rd === PortRank.PortMap ? DirectionBasis.PortMap : DirectionBasis.WellKnownPort;
    return rd > rs;
  }
}
