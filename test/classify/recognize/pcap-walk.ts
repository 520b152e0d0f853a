/**
 * Pulls the first payload bytes of each TCP direction and each UDP datagram out of a capture, so
 * the recognisers can be tried on real captures. Frames come from the project's reader and
 * decoder; the only test-specific part is the in-order TCP reassembly.
 */
import { PacketDecoder } from '../../../src/decode/decoder.js';
import { FragmentKind } from '../../../src/decode/types.js';
import { IpProto } from '../../../src/util/ip-proto.js';
import { formatAddress } from '../../../src/flow/key.js';
import { readFramesSync } from '../../helpers/read-frames.js';

export interface TcpFlow {
  /** "addr:port" of the side that sent the SYN (else the first packet's sender). */
  client: string;
  server: string;
  serverPort: number;
  toServer: Uint8Array;
  toClient: Uint8Array;
}
export interface Datagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

const MAX = 512;

export function walkCapture(path: string): { tcp: TcpFlow[]; udp: Datagram[] } {
  const decoder = new PacketDecoder();
  const flows = new Map<string, { flow: TcpFlow; next: Map<string, number>; data: Map<string, Uint8Array[]> }>();
  const udp: Datagram[] = [];
  for (const fr of readFramesSync(path)) {
    const p = decoder.decode(fr.data, fr.offset, fr.capLen, fr.origLen, fr.linkType);
    if (!p.hasPorts || p.fragment === FragmentKind.Later) continue;
    const payload = fr.data.slice(p.payloadOffset, p.payloadOffset + p.payloadCaptured);
    if (p.ipProto === IpProto.UDP) {
      udp.push({ srcPort: p.srcPort, dstPort: p.dstPort, payload });
      continue;
    }
    if (p.ipProto !== IpProto.TCP) continue;
    const src = formatAddress(p.ipVersion, p.src0, p.src1, p.src2, p.src3);
    const dst = formatAddress(p.ipVersion, p.dst0, p.dst1, p.dst2, p.dst3);
    const a = `${src}:${p.srcPort}`;
    const b = `${dst}:${p.dstPort}`;
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    let st = flows.get(key);
    if (st === undefined) {
      const synAck = (p.tcpFlags & 0x12) === 0x12;
      const [client, server, port] = synAck ? [b, a, p.srcPort] : [a, b, p.dstPort];
      st = { flow: { client, server, serverPort: port, toServer: new Uint8Array(0), toClient: new Uint8Array(0) }, next: new Map(), data: new Map() };
      flows.set(key, st);
    }
    const seq = p.tcpSeq;
    let next = st.next.get(a);
    if (p.tcpFlags & 0x02) {
      st.next.set(a, (seq + 1) >>> 0);
      continue;
    }
    if (payload.length === 0) continue;
    if (next === undefined) next = seq;
    const skip = (next - seq) | 0; // bytes of this segment already seen (retransmission overlap)
    if (skip < 0 || skip >= payload.length) continue; // a gap or a pure retransmission
    const chunks = st.data.get(a) ?? [];
    chunks.push(payload.subarray(skip));
    st.data.set(a, chunks);
    st.next.set(a, (seq + payload.length) >>> 0);
  }
  const tcp: TcpFlow[] = [];
  for (const { flow, data } of flows.values()) {
    flow.toServer = new Uint8Array(Buffer.concat(data.get(flow.client) ?? []).subarray(0, MAX));
    flow.toClient = new Uint8Array(Buffer.concat(data.get(flow.server) ?? []).subarray(0, MAX));
    tcp.push(flow);
  }
  return { tcp, udp };
}
