/**
 * A tiny, test-only pcap/pcapng walker: just enough to pull the first payload bytes of each TCP
 * direction and each UDP datagram out of the third-party corpus in /work/shared/corpus, so the
 * recognisers can be tried on real captures. Not the project's reader (src/capture): it trusts
 * the files, handles only the link types the corpus uses (NULL, Ethernet+VLAN, Linux SLL/SLL2,
 * raw IP), ignores IP fragments after the first, and reassembles TCP only in sequence order.
 */
import { readFileSync } from 'node:fs';

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
  const f = readFileSync(path);
  const frames: [linkType: number, data: Buffer][] = [];
  const m = f.readUInt32LE(0);
  if (m === 0x0a0d0d0a) readPcapng(f, frames);
  else readPcap(f, frames);
  const flows = new Map<string, { flow: TcpFlow; next: Map<string, number>; data: Map<string, Buffer[]> }>();
  const udp: Datagram[] = [];
  for (const [lt, d] of frames) {
    const ip = linkToIp(lt, d);
    if (ip === null) continue;
    const t = ipToTransport(d, ip);
    if (t === null) continue;
    const [proto, src, dst, off, end] = t;
    if (proto === 17 && end - off >= 8) {
      udp.push({ srcPort: d.readUInt16BE(off), dstPort: d.readUInt16BE(off + 2), payload: new Uint8Array(d.subarray(off + 8, end)) });
    } else if (proto === 6 && end - off >= 20) {
      const sp = d.readUInt16BE(off);
      const dp = d.readUInt16BE(off + 2);
      const seq = d.readUInt32BE(off + 4);
      const flags = d[off + 13]!;
      const payload = d.subarray(off + (d[off + 12]! >> 4) * 4, end);
      const a = `${src}:${sp}`;
      const b = `${dst}:${dp}`;
      const key = a < b ? `${a}|${b}` : `${b}|${a}`;
      let st = flows.get(key);
      if (st === undefined) {
        const synAck = (flags & 0x12) === 0x12;
        const [client, server, port] = synAck ? [b, a, sp] : [a, b, dp];
        st = { flow: { client, server, serverPort: port, toServer: new Uint8Array(0), toClient: new Uint8Array(0) }, next: new Map(), data: new Map() };
        flows.set(key, st);
      }
      let next = st.next.get(a);
      if (flags & 0x02) {
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
  }
  const tcp: TcpFlow[] = [];
  for (const { flow, data } of flows.values()) {
    flow.toServer = new Uint8Array(Buffer.concat(data.get(flow.client) ?? []).subarray(0, MAX));
    flow.toClient = new Uint8Array(Buffer.concat(data.get(flow.server) ?? []).subarray(0, MAX));
    tcp.push(flow);
  }
  return { tcp, udp };
}

function readPcap(f: Buffer, out: [number, Buffer][]): void {
  const magic = f.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const u32 = (o: number) => (le ? f.readUInt32LE(o) : f.readUInt32BE(o));
  const lt = u32(20) & 0xffff;
  for (let p = 24; p + 16 <= f.length; ) {
    const cap = u32(p + 8);
    out.push([lt, f.subarray(p + 16, Math.min(f.length, p + 16 + cap))]);
    p += 16 + cap;
  }
}

function readPcapng(f: Buffer, out: [number, Buffer][]): void {
  let le = true;
  let ifaces: number[] = [];
  for (let p = 0; p + 12 <= f.length; ) {
    const typeLE = f.readUInt32LE(p);
    if (typeLE === 0x0a0d0d0a) {
      le = f.readUInt32LE(p + 8) === 0x1a2b3c4d;
      ifaces = [];
    }
    const u32 = (o: number) => (le ? f.readUInt32LE(o) : f.readUInt32BE(o));
    const u16 = (o: number) => (le ? f.readUInt16LE(o) : f.readUInt16BE(o));
    const type = u32(p);
    const len = u32(p + 4);
    if (len < 12) break;
    if (type === 1) ifaces.push(u16(p + 8));
    else if (type === 6) {
      const cap = u32(p + 20);
      out.push([ifaces[u32(p + 8)] ?? 1, f.subarray(p + 28, p + 28 + cap)]);
    } else if (type === 3) {
      out.push([ifaces[0] ?? 1, f.subarray(p + 12, p + len - 4)]);
    }
    p += len;
  }
}

/** Offset of the IP header and its version, or null. */
function linkToIp(lt: number, d: Buffer): [number, 4 | 6] | null {
  let et = -1;
  let p = 0;
  switch (lt) {
    case 0: {
      // BSD loopback: 4-byte address family in the capturing host's order
      const fam = d.readUInt32LE(0) > 0xffff ? d.readUInt32BE(0) : d.readUInt32LE(0);
      return fam === 2 ? [4, 4] : fam === 24 || fam === 28 || fam === 30 ? [4, 6] : null;
    }
    case 1:
      p = 12;
      et = d.readUInt16BE(p);
      while (et === 0x8100 || et === 0x88a8) {
        p += 4;
        et = d.readUInt16BE(p);
      }
      p += 2;
      break;
    case 113:
      et = d.readUInt16BE(14);
      p = 16;
      break;
    case 276:
      et = d.readUInt16BE(0);
      p = 20;
      break;
    case 101:
    case 228:
    case 229:
      return [0, (d[0]! >> 4) === 6 ? 6 : 4];
    default:
      return null;
  }
  return et === 0x0800 ? [p, 4] : et === 0x86dd ? [p, 6] : null;
}

function ipToTransport(d: Buffer, [p, v]: [number, 4 | 6]): [number, string, string, number, number] | null {
  if (v === 4) {
    if (d.length < p + 20) return null;
    const ihl = (d[p]! & 0xf) * 4;
    const total = d.readUInt16BE(p + 2);
    if ((d.readUInt16BE(p + 6) & 0x1fff) !== 0) return null; // later fragment
    const src = [...d.subarray(p + 12, p + 16)].join('.');
    const dst = [...d.subarray(p + 16, p + 20)].join('.');
    return [d[p + 9]!, src, dst, p + ihl, Math.min(d.length, p + (total || d.length - p))];
  }
  if (d.length < p + 40) return null;
  let nh = d[p + 6]!;
  const end = Math.min(d.length, p + 40 + d.readUInt16BE(p + 4));
  const src = d.subarray(p + 8, p + 24).toString('hex');
  const dst = d.subarray(p + 24, p + 40).toString('hex');
  let q = p + 40;
  for (let i = 0; i < 8 && (nh === 0 || nh === 43 || nh === 60 || nh === 44); i++) {
    if (nh === 44 && (d.readUInt16BE(q + 2) & 0xfff8) !== 0) return null;
    const len = nh === 44 ? 8 : (d[q + 1]! + 1) * 8;
    nh = d[q]!;
    q += len;
  }
  return [nh, src, dst, q, end];
}
