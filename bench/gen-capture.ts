/**
 * Deterministic generator of realistic classic-pcap captures for the benchmark suite.
 *
 *   tsx bench/gen-capture.ts --out /tmp/ref.pcap                       # the reference file
 *   tsx bench/gen-capture.ts --packets 1000000 --flows 1000000 --size mixed --out /tmp/f.pcap
 *
 * Options: --packets N (default 5,000,000; the suite uses 100k..5M), --flows N (default 50,000;
 * 1k..1M), --size small|mixed|large (mean frame ~320 / ~600 / ~1000 bytes), --seed N (default 1),
 * --concurrency N (flows open at once, default min(flows, 2048)), --pps N (capture-clock packet
 * rate, default 100,000/s), --tunnel none|vxlan (default none: vxlan carries every frame in VXLAN
 * on UDP 4789 between 16 node addresses, VNI 1-8 per flow, as an overlay network's node interface
 * shows it; the inner frames are those of `none`), --out PATH (required). The same options give a
 * byte-identical file.
 *
 * What is in it (see bench/README.md "The generated capture"):
 * - Ethernet, ~10% of flows 802.1Q-tagged; ~20% IPv6; correct IPv4/TCP/UDP/ICMP checksums.
 * - TCP flows with a 3-way handshake (SYN with MSS/SACK/timestamps/window-scale options), a first
 *   request and reply carrying the real protocol bytes of the port's documented service (RESP on
 *   Redis ports, HTTP/2 + HPACK gRPC on 9977/26500, `GET /metrics` on 9600/10079, a TLS ClientHello
 *   with SNI on 8443/9443, Zeebe framing on 26501/26502, ...), data and ACKs with consistent
 *   seq/ack numbers, and a FIN close (a few end with RST; a few start mid-stream without a SYN;
 *   a few are refused with SYN + RST). Flows still open when the packet budget runs out are cut,
 *   as in any capture.
 * - UDP: DNS query/answer pairs on 53 (A, and A+AAAA on the same socket), NTP-like pairs, and
 *   longer opaque UDP streams; ICMP/ICMPv6 echo flows; TCP services on undocumented ports (SSH,
 *   databases, random high ports) and a few documented ports carrying the wrong protocol.
 * - Many distinct host pairs: thousands of clients talking to a few servers per service port, and
 *   every (client address, client port) pair is unique, so each planned flow is one flow and a
 *   hash-sharded pipeline gets an even spread.
 * - Flow sizes are heavy-tailed (Lomax, alpha 1.5) around the mean packets/flow; flows interleave
 *   (a pool of `concurrency` open flows, one picked at random per packet).
 *
 * Streaming: frames are encoded one at a time into one reused buffer and appended to a PcapWriter
 * (1 MiB write buffer); memory stays flat whatever --packets is.
 */
import { closeSync, openSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PcapWriter } from '../src/capture/pcap-writer.js';
import {
  DNS_NAMES,
  XDS_PATHS,
  ZEEBE_GATEWAY_PATHS,
  dnsExchange,
  grpcExchange,
  httpExchange,
  metricsExchange,
  opaqueExchange,
  respExchange,
  sshExchange,
  tlsExchange,
  zeebeCommandExchange,
  zeebeInternalExchange,
  type Exchange,
} from './payloads.js';
import { Prng } from './prng.js';

export type PacketSizeProfile = 'small' | 'mixed' | 'large';

export interface GenOptions {
  packets: number;
  flows: number;
  size: PacketSizeProfile;
  out: string;
  seed?: number;
  /** Flows open at the same time (default min(flows, 2048)). */
  concurrency?: number;
  /** Packets per second of capture time (default 100,000). */
  pps?: number;
  /** Carry every frame in a tunnel (default 'none'). */
  tunnel?: TunnelProfile;
}

export type TunnelProfile = 'none' | 'vxlan';

export interface GenResult {
  packets: number;
  /** Flows that got at least one packet (fewer than asked when the packet budget is too small). */
  flows: number;
  /** Sum of frame lengths. */
  frameBytes: number;
  /** Size of the file written. */
  fileBytes: number;
  meanFrame: number;
  ipv6Flows: number;
  vlanFlows: number;
  /** Flows per generator kind. */
  kinds: Record<string, number>;
  /** Capture time spanned, seconds. */
  captureSeconds: number;
  /** Wall time of the generation, seconds. */
  elapsed: number;
}

export const DEFAULT_GEN = { packets: 5_000_000, flows: 50_000, size: 'small' as PacketSizeProfile, seed: 1, pps: 100_000 };
/** Capture clock origin: 2024-01-01T00:00:00Z. */
const EPOCH = 1_704_067_200;
const MSS = 1448;

const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP = 1;
const PROTO_ICMPV6 = 58;

const F_FIN = 0x01;
const F_SYN = 0x02;
const F_RST = 0x04;
const F_PSH = 0x08;
const F_ACK = 0x10;

// ---------------------------------------------------------------------------------------------
// Flow kinds

type Builder = (r: Prng, host: string, port: number, dnsNames: string[]) => Exchange | Exchange[];

interface Kind {
  name: string;
  proto: 6 | 17 | 1;
  ports: readonly number[];
  /** Share of flows (relative). */
  weight: number;
  /** Packets per flow for fixed-size kinds (DNS, refused, NTP); undefined = variable. */
  fixed?: (r: Prng) => number;
  /** Builds one variant of the first exchange(s); null = no payload exchange (filler only). */
  build: Builder | null;
  /** Random port in [lo, hi] instead of `ports` (services on undocumented high ports). */
  randomPort?: [number, number];
  /** Server host label in HTTP Host / gRPC :authority / SNI. */
  host: string;
}

const KINDS: readonly Kind[] = [
  { name: 'dns', proto: PROTO_UDP, ports: [53], weight: 22, fixed: (r) => (r.chance(0.35) ? 4 : 2), build: (r, _h, _p, names) => [dnsExchange(r, r.pick(names), false), dnsExchange(r, r.pick(names), true)], host: 'kube-dns' },
  { name: 'tls', proto: PROTO_TCP, ports: [8443, 9443, 443], weight: 14, build: (r, h) => tlsExchange(r, h, r.chance(0.6) ? ['h2', 'http/1.1'] : ['http/1.1']), host: 'gateway-proxy.gloo-system.svc.cluster.local' },
  { name: 'redis', proto: PROTO_TCP, ports: [6379, 12000, 16379, 10001, 23456], weight: 12, build: (r) => respExchange(r), host: 'redis' },
  { name: 'metrics', proto: PROTO_TCP, ports: [9600, 10079, 10089, 10099], weight: 8, build: (r, h, p) => metricsExchange(r, h, p), host: 'metrics.monitoring.svc' },
  { name: 'http', proto: PROTO_TCP, ports: [8080, 10070, 10090, 80, 3000, 9090], weight: 8, build: (r, h, p) => httpExchange(r, h, p), host: 'edge-gateway.edgecomet.svc' },
  { name: 'grpc-xds', proto: PROTO_TCP, ports: [9977], weight: 5, build: (r, h) => grpcExchange(r, r.pick(XDS_PATHS), `${h}:9977`, r.pick(['grpc-go/1.62.1', 'envoy/1.29.4'])), host: 'gloo.gloo-system.svc.cluster.local' },
  { name: 'grpc-zeebe', proto: PROTO_TCP, ports: [26500], weight: 5, build: (r, h) => grpcExchange(r, r.pick(ZEEBE_GATEWAY_PATHS), `${h}:26500`, r.pick(['zeebe-client-java/8.4.5 grpc-java-netty/1.61.1', 'grpc-go/1.62.1'])), host: 'zeebe-gateway.camunda.svc' },
  { name: 'zeebe-command', proto: PROTO_TCP, ports: [26501], weight: 2, build: (r) => zeebeCommandExchange(r), host: 'zeebe' },
  { name: 'zeebe-internal', proto: PROTO_TCP, ports: [26502], weight: 2, build: (r) => zeebeInternalExchange(r), host: 'zeebe' },
  { name: 'ssh', proto: PROTO_TCP, ports: [22], weight: 3, build: (r) => sshExchange(r), host: 'bastion' },
  { name: 'opaque-tcp', proto: PROTO_TCP, ports: [5432, 3306, 9092, 27017, 4222], weight: 6, build: (r) => opaqueExchange(r), host: 'db' },
  { name: 'opaque-tcp-high', proto: PROTO_TCP, ports: [], randomPort: [40000, 49999], weight: 3, build: (r) => opaqueExchange(r), host: 'app' },
  // Documented ports carrying another protocol: HTTP/1 on a Redis port, TLS on the xDS port.
  { name: 'mismatch', proto: PROTO_TCP, ports: [6379, 9977], weight: 2, build: (r, h, p) => (p === 6379 ? httpExchange(r, h, p) : tlsExchange(r, h, ['h2'])), host: 'misconfigured' },
  { name: 'tcp-refused', proto: PROTO_TCP, ports: [], randomPort: [1, 65535], weight: 2, fixed: () => 2, build: null, host: 'scan' },
  { name: 'ntp', proto: PROTO_UDP, ports: [123], weight: 2, fixed: () => 2, build: null, host: 'ntp' },
  { name: 'udp-stream', proto: PROTO_UDP, ports: [51820, 3478], randomPort: [30000, 32767], weight: 4, build: null, host: 'media' },
  { name: 'icmp-echo', proto: PROTO_ICMP, ports: [0], weight: 1, build: null, host: 'ping' },
];

const VARIANTS_PER_PORT = 24;
const SERVERS_PER_PORT = 8;
/** Share of TCP flows starting mid-stream (no handshake seen: the capture began after it). */
const MID_STREAM = 0.03;
/** Share of TCP flows ending with RST instead of FIN. */
const RST_CLOSE = 0.03;
const IPV6_SHARE = 0.2;
const VLAN_SHARE = 0.1;

// ---------------------------------------------------------------------------------------------
// Packet sizes

/** TCP/UDP payload length of a data packet for the profile. */
function dataLen(r: Prng, size: PacketSizeProfile): number {
  const u = r.float();
  switch (size) {
    case 'small':
      if (u < 0.61) return r.range(20, 200);
      if (u < 0.91) return r.range(200, 800);
      return MSS;
    case 'mixed':
      if (u < 0.35) return r.range(20, 200);
      if (u < 0.6) return r.range(200, 1000);
      return MSS;
    case 'large':
      if (u < 0.1) return r.range(20, 400);
      return MSS;
  }
}

/** Lomax (Pareto II) with alpha 1.5 scaled to mean 1: heavy-tailed flow sizes. */
function lomax1(r: Prng): number {
  const alpha = 1.5;
  return (Math.pow(1 - r.float(), -1 / alpha) - 1) * (alpha - 1);
}

// ---------------------------------------------------------------------------------------------
// Flow state

interface Flow {
  kind: Kind;
  v6: boolean;
  vlan: number;
  proto: number;
  client: Uint8Array;
  server: Uint8Array;
  /** Ones'-complement sum of both addresses (the pseudo-header part common to both directions). */
  addrSum: number;
  cPort: number;
  sPort: number;
  /** Planned packets; emitted so far. */
  plan: number;
  sent: number;
  /** TCP: 0 SYN, 1 SYN-ACK, 2 ACK, 3 first payload, 4 reply, 5 data, 6 FIN c, 7 FIN s, 8 last ACK, 9 RST, 10 refused RST, 99 done. */
  phase: number;
  rstClose: boolean;
  cSeq: number;
  sSeq: number;
  cIpId: number;
  sIpId: number;
  cLabel: number;
  sLabel: number;
  tsBase: number;
  lastDataFromClient: boolean;
  /** Data was sent since the last pure ACK (a pure ACK only follows unacknowledged data). */
  unacked: boolean;
  exchanges: Exchange[];
  /** Index into `exchanges` (DNS A then AAAA). */
  step: number;
  icmpId: number;
}

// ---------------------------------------------------------------------------------------------
// Frame encoding (one reused buffer)

const CLIENT_MAC = Uint8Array.of(0x02, 0x42, 0xac, 0x11, 0x00, 0x02);
const ROUTER_MAC = Uint8Array.of(0x00, 0x1c, 0x73, 0x00, 0x00, 0x99);
const TCP_OPTS_SYN_LEN = 20;
const TCP_OPTS_DATA_LEN = 12;

/** Sum of 16-bit big-endian words of b[start, end), not folded. */
function sum16(b: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function put16(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 8) & 0xff;
  b[i + 1] = v & 0xff;
}

function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 24) & 0xff;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}

/** Outer Ethernet (14) + IPv4 (20) + UDP (8) + VXLAN (8) before a tunnelled frame. */
const VXLAN_OUTER_LEN = 50;
const NODE_MAC_A = Uint8Array.of(0x02, 0x00, 0x0a, 0xff, 0x00, 0x01);
const NODE_MAC_B = Uint8Array.of(0x02, 0x00, 0x0a, 0xff, 0x00, 0x02);

/** A small deterministic hash of a flow (its client address and ports): node, VNI, source port. */
function flowHash(f: Flow): number {
  let h = Math.imul(f.cPort ^ (f.sPort << 16), 0x9e3779b1);
  for (let i = 0; i < f.client.length; i++) h = Math.imul(h ^ f.client[i]!, 0x85ebca6b);
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * Moves the frame in b[0, len) behind outer Ethernet/IPv4/UDP/VXLAN headers: the client side's node
 * (10.255.N.1) sends to the server side's node, VXLAN to UDP 4789 with a source port per flow and
 * direction, VNI 1-8 per flow. Returns the new length.
 */
function wrapVxlan(b: Buffer, len: number, f: Flow, fromClient: boolean): number {
  b.copyWithin(VXLAN_OUTER_LEN, 0, len);
  const h = flowHash(f);
  const nodeC = h & 15;
  let nodeS = (h >>> 4) & 15;
  if (nodeS === nodeC) nodeS ^= 1; // two different nodes
  b.set(fromClient ? NODE_MAC_B : NODE_MAC_A, 0);
  b.set(fromClient ? NODE_MAC_A : NODE_MAC_B, 6);
  put16(b, 12, 0x0800);
  const ip = 14;
  const total = len + VXLAN_OUTER_LEN - 14;
  b[ip] = 0x45;
  b[ip + 1] = 0;
  put16(b, ip + 2, total);
  put16(b, ip + 4, (h ^ f.sent) & 0xffff);
  put16(b, ip + 6, 0);
  b[ip + 8] = 64;
  b[ip + 9] = PROTO_UDP;
  put16(b, ip + 10, 0);
  put32(b, ip + 12, (0x0aff0001 | ((fromClient ? nodeC : nodeS) << 8)) >>> 0);
  put32(b, ip + 16, (0x0aff0001 | ((fromClient ? nodeS : nodeC) << 8)) >>> 0);
  put16(b, ip + 10, fold(sum16(b, ip, ip + 20, 0)));
  const udp = ip + 20;
  put16(b, udp, 32768 + (((h >>> 8) ^ (fromClient ? 0 : 0x5555)) % 28232));
  put16(b, udp + 2, 4789);
  put16(b, udp + 4, total - 20);
  put16(b, udp + 6, 0); // zero checksum: allowed over IPv4 (RFC 768), as Linux sends VXLAN
  const vx = udp + 8;
  b[vx] = 0x08;
  b[vx + 1] = 0; b[vx + 2] = 0; b[vx + 3] = 0;
  put32(b, vx + 4, (1 + (h % 8)) << 8);
  return len + VXLAN_OUTER_LEN;
}

class FrameEncoder {
  readonly buf = Buffer.alloc(2048);
  /** Direction of the frame encode() wrote last. */
  lastFromClient = true;

  /**
   * Encodes one frame of `f` and returns its length. `payload` is copied from `src[off, off+len)`
   * (src may be the filler Buffer or an exchange's bytes). For ICMP, `flags` is the ICMP type and
   * `seqOrIcmp` the echo sequence.
   */
  encode(f: Flow, fromClient: boolean, flags: number, src: Uint8Array | null, off: number, len: number, tsMs: number): number {
    const b = this.buf;
    this.lastFromClient = fromClient;
    b.set(fromClient ? ROUTER_MAC : CLIENT_MAC, 0);
    b.set(fromClient ? CLIENT_MAC : ROUTER_MAC, 6);
    let p = 12;
    if (f.vlan !== 0) {
      put16(b, p, 0x8100);
      put16(b, p + 2, f.vlan);
      p += 4;
    }
    put16(b, p, f.v6 ? 0x86dd : 0x0800);
    p += 2;
    const ip = p;
    const src_ = fromClient ? f.client : f.server;
    const dst = fromClient ? f.server : f.client;
    const proto = f.proto === PROTO_ICMP && f.v6 ? PROTO_ICMPV6 : f.proto;
    const l4 = ip + (f.v6 ? 40 : 20);
    // Transport header
    let hl: number;
    if (proto === PROTO_TCP) {
      const optLen = flags & F_SYN ? TCP_OPTS_SYN_LEN : TCP_OPTS_DATA_LEN;
      hl = 20 + optLen;
      put16(b, l4, fromClient ? f.cPort : f.sPort);
      put16(b, l4 + 2, fromClient ? f.sPort : f.cPort);
      put32(b, l4 + 4, fromClient ? f.cSeq : f.sSeq);
      put32(b, l4 + 8, flags & F_ACK ? (fromClient ? f.sSeq : f.cSeq) : 0);
      b[l4 + 12] = (hl >>> 2) << 4;
      b[l4 + 13] = flags;
      put16(b, l4 + 14, flags & F_SYN ? 64240 : 502);
      put16(b, l4 + 16, 0);
      put16(b, l4 + 18, 0);
      const o = l4 + 20;
      const tsval = (f.tsBase + tsMs + (fromClient ? 0 : 0x01000000)) >>> 0;
      if (flags & F_SYN) {
        // MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (Linux order)
        b[o] = 2; b[o + 1] = 4; put16(b, o + 2, 1460);
        b[o + 4] = 4; b[o + 5] = 2;
        b[o + 6] = 8; b[o + 7] = 10; put32(b, o + 8, tsval); put32(b, o + 12, fromClient ? 0 : f.tsBase + tsMs);
        b[o + 16] = 1; b[o + 17] = 3; b[o + 18] = 3; b[o + 19] = 7;
      } else {
        b[o] = 1; b[o + 1] = 1; b[o + 2] = 8; b[o + 3] = 10;
        put32(b, o + 4, tsval);
        put32(b, o + 8, (f.tsBase + tsMs - 1 + (fromClient ? 0x01000000 : 0)) >>> 0);
      }
    } else if (proto === PROTO_UDP) {
      hl = 8;
      put16(b, l4, fromClient ? f.cPort : f.sPort);
      put16(b, l4 + 2, fromClient ? f.sPort : f.cPort);
      put16(b, l4 + 4, 8 + len);
      put16(b, l4 + 6, 0);
    } else {
      hl = 8;
      b[l4] = flags; // type
      b[l4 + 1] = 0;
      put16(b, l4 + 2, 0);
      put16(b, l4 + 4, f.icmpId);
      put16(b, l4 + 6, f.sent >>> 1);
    }
    const pay = l4 + hl;
    if (len > 0 && src !== null) {
      if (src instanceof Buffer) src.copy(b, pay, off, off + len);
      else b.set(off === 0 && len === src.length ? src : src.subarray(off, off + len), pay);
    }
    const end = pay + len;
    const l4Len = end - l4;
    // IP header
    if (f.v6) {
      const label = fromClient ? f.cLabel : f.sLabel;
      b[ip] = 0x60;
      b[ip + 1] = (label >>> 16) & 0x0f;
      put16(b, ip + 2, label & 0xffff);
      put16(b, ip + 4, l4Len);
      b[ip + 6] = proto;
      b[ip + 7] = 64;
      b.set(src_, ip + 8);
      b.set(dst, ip + 24);
    } else {
      b[ip] = 0x45;
      b[ip + 1] = 0;
      put16(b, ip + 2, 20 + l4Len);
      const id = fromClient ? f.cIpId++ : f.sIpId++;
      put16(b, ip + 4, id & 0xffff);
      put16(b, ip + 6, 0x4000);
      b[ip + 8] = fromClient ? 64 : 63;
      b[ip + 9] = proto;
      put16(b, ip + 10, 0);
      b.set(src_, ip + 12);
      b.set(dst, ip + 16);
      put16(b, ip + 10, fold(sum16(b, ip, ip + 20, 0)));
    }
    // Transport checksum (ICMPv4 has no pseudo-header)
    const pseudo = proto === PROTO_ICMP ? 0 : f.addrSum + proto + l4Len;
    const ck = fold(sum16(b, l4, end, pseudo));
    if (proto === PROTO_TCP) put16(b, l4 + 16, ck);
    else if (proto === PROTO_UDP) put16(b, l4 + 6, ck === 0 ? 0xffff : ck);
    else put16(b, l4 + 2, ck);
    return end;
  }
}

// ---------------------------------------------------------------------------------------------
// Generator

interface PortSlot {
  kind: Kind;
  port: number;
  servers4: Uint8Array[];
  servers6: Uint8Array[];
  variants: Exchange[][];
}

function v4(a: number, b: number, c: number, d: number): Uint8Array {
  return Uint8Array.of(a & 0xff, b & 0xff, c & 0xff, d & 0xff);
}

function v6(prefix: number, group: number, hi: number, lo: number): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0xfd;
  out[1] = 0x00;
  put16(out, 2, prefix);
  put16(out, 10, group);
  put32(out, 12, ((hi & 0xffff) << 16 | (lo & 0xffff)) >>> 0);
  return out;
}

function addrSumOf(a: Uint8Array, b: Uint8Array): number {
  return sum16(a, 0, a.length, 0) + sum16(b, 0, b.length, 0);
}

/** Generates the capture described by `o` into o.out. Synchronous; memory use is flat. */
export function generateCapture(o: GenOptions): GenResult {
  const t0 = process.hrtime.bigint();
  const P = Math.floor(o.packets);
  const F = Math.max(1, Math.floor(o.flows));
  if (!(P >= 1)) throw new RangeError(`--packets must be >= 1 (got ${o.packets})`);
  const r = new Prng(o.seed ?? DEFAULT_GEN.seed);
  const size = o.size;
  const pps = o.pps ?? DEFAULT_GEN.pps;
  const A = Math.max(1, Math.min(F, o.concurrency ?? 2048));

  // Filler: 1 MiB of random bytes; data payloads are slices of it at random offsets.
  const FILL = Buffer.alloc(1 << 20);
  r.fill(FILL);
  const dnsNames = DNS_NAMES(r, 512);

  // Port slots: each kind's ports with their servers and payload variants.
  const kindSlots = new Map<Kind, PortSlot[]>();
  let portIndex = 0;
  for (const kind of KINDS) {
    const list: PortSlot[] = [];
    const ports = kind.ports.length > 0 ? kind.ports : [0];
    for (const port of ports) {
      portIndex++;
      const servers4: Uint8Array[] = [];
      const servers6: Uint8Array[] = [];
      for (let s = 0; s < SERVERS_PER_PORT; s++) {
        servers4.push(v4(10, 96, portIndex, 10 + s));
        servers6.push(v6(0x96, portIndex, 0, 0x10 + s));
      }
      const variants: Exchange[][] = [];
      if (kind.build !== null) {
        for (let v = 0; v < VARIANTS_PER_PORT; v++) {
          const e = kind.build(r, kind.host, port, dnsNames);
          variants.push(Array.isArray(e) ? e : [e]);
        }
      }
      list.push({ kind, port, servers4, servers6, variants });
    }
    kindSlots.set(kind, list);
  }
  const totalWeight = KINDS.reduce((s, k) => s + k.weight, 0);
  const fixedWeight = KINDS.reduce((s, k) => s + (k.fixed ? k.weight : 0), 0);
  // Mean packets of the fixed kinds, weighted (DNS 2.7, refused 2, NTP 2).
  const fixedMean = 2.6;
  const variableKinds = KINDS.filter((k) => k.fixed === undefined);
  const variableWeight = variableKinds.reduce((s, k) => s + k.weight, 0);
  const fixedKinds = KINDS.filter((k) => k.fixed !== undefined);

  // Clients: unique (address, port) per flow; enough addresses for many host pairs.
  const clientCount = Math.min(65_536, Math.max(512, Math.round(F / 6)));
  let n4 = 0;
  let n6 = 0;

  let started = 0;
  let assigned = 0;
  let ipv6Flows = 0;
  let vlanFlows = 0;
  const kindCounts: Record<string, number> = {};

  const pickKind = (list: readonly Kind[], weight: number): Kind => {
    let x = r.float() * weight;
    for (const k of list) {
      x -= k.weight;
      if (x < 0) return k;
    }
    return list[list.length - 1]!;
  };

  const newFlow = (): Flow => {
    const remainingFlows = F - started;
    const remainingPackets = Math.max(0, P - assigned);
    const meanAll = remainingPackets / remainingFlows;
    const last = remainingFlows === 1;
    // Fixed-size kinds keep their share unless the budget is too small for longer flows.
    let fixedShare = fixedWeight / totalWeight;
    const minVariableMean = 10;
    if (meanAll < minVariableMean) fixedShare = Math.max(fixedShare, Math.min(1, (minVariableMean - meanAll) / (minVariableMean - fixedMean)));
    const useFixed = !last && r.chance(fixedShare);
    const kind = useFixed ? pickKind(fixedKinds, fixedWeight) : pickKind(variableKinds, variableWeight);
    const slotList = kindSlots.get(kind)!;
    const slot = slotList[r.int(slotList.length)]!;
    const isV6 = r.chance(IPV6_SHARE);
    const idx = isV6 ? n6++ : n4++;
    const c = idx % clientCount;
    const k = Math.floor(idx / clientCount);
    // (address c, port) is unique for k < 28232: k -> (k*7919 + c*31) mod 28232 is a bijection.
    const cPort = 32768 + ((k * 7919 + c * 31) % 28232);
    const client = isV6 ? v6(0xc0, 0, c >>> 8, c) : v4(10, 16 + (c >>> 16), (c >>> 8) & 0xff, c & 0xff);
    const server = isV6 ? slot.servers6[r.int(SERVERS_PER_PORT)]! : slot.servers4[r.int(SERVERS_PER_PORT)]!;
    const sPort = kind.randomPort ? r.range(kind.randomPort[0], kind.randomPort[1]) : slot.port;
    const vlan = r.chance(VLAN_SHARE) ? 100 + (slot.port % 8) * 10 : 0;
    const proto = kind.proto;
    const midStream = proto === PROTO_TCP && kind.fixed === undefined && r.chance(MID_STREAM);
    let plan: number;
    if (kind.fixed) plan = kind.fixed(r);
    else {
      const fixedShareNow = last ? 0 : fixedShare;
      const variableMean = Math.max(minVariableMean, (meanAll - fixedShareNow * fixedMean) / Math.max(1e-9, 1 - fixedShareNow));
      const min = proto === PROTO_TCP ? (midStream ? 4 : 8) : 2;
      plan = Math.max(min, Math.round(min + (variableMean - min) * Math.min(lomax1(r), 40)));
      if (last) plan = Math.max(plan, remainingPackets);
    }
    started++;
    assigned += plan;
    kindCounts[kind.name] = (kindCounts[kind.name] ?? 0) + 1;
    if (isV6) ipv6Flows++;
    if (vlan !== 0) vlanFlows++;
    const variants = slot.variants;
    return {
      kind,
      v6: isV6,
      vlan,
      proto,
      client,
      server,
      addrSum: addrSumOf(client, server),
      cPort: proto === PROTO_ICMP ? 0 : cPort,
      sPort: proto === PROTO_ICMP ? 0 : sPort,
      plan,
      sent: 0,
      phase: kind.name === 'tcp-refused' ? 0 : midStream ? 5 : 0,
      rstClose: r.chance(RST_CLOSE),
      cSeq: r.u32(),
      sSeq: r.u32(),
      cIpId: r.int(0x10000),
      sIpId: r.int(0x10000),
      cLabel: r.int(0x100000),
      sLabel: r.int(0x100000),
      tsBase: r.u32() & 0x3fffffff,
      lastDataFromClient: false,
      unacked: false,
      exchanges: variants.length > 0 ? variants[r.int(variants.length)]! : [],
      step: 0,
      icmpId: r.int(0x10000),
    };
  };

  const enc = new FrameEncoder();
  const tunnel = o.tunnel ?? 'none';
  const fd = openSync(o.out, 'w');
  const writer = new PcapWriter(fd, { linkType: 1, bufferSize: 1 << 20 });
  let frameBytes = 0;
  let clockUs = 0;
  const gapMean = 1e6 / pps;
  let flowsWithPackets = 0;

  const pool: Flow[] = [];
  while (pool.length < A && started < F) pool.push(newFlow());

  let written = 0;
  try {
    while (written < P && pool.length > 0) {
      const i = r.int(pool.length);
      const f = pool[i]!;
      clockUs += r.exp(gapMean);
      const us = Math.floor(clockUs);
      let len = emit(f, enc, r, FILL, size, Math.floor(us / 1000));
      if (tunnel === 'vxlan') len = wrapVxlan(enc.buf, len, f, enc.lastFromClient);
      if (f.sent === 0) flowsWithPackets++;
      f.sent++;
      writer.writePacket(EPOCH + Math.floor(us / 1e6), (us % 1e6) * 1000, enc.buf.subarray(0, len));
      frameBytes += len;
      written++;
      if (f.sent >= f.plan || f.phase === 99) {
        if (started < F) pool[i] = newFlow();
        else {
          pool[i] = pool[pool.length - 1]!;
          pool.pop();
        }
      }
    }
    writer.close();
  } finally {
    closeSync(fd);
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    packets: written,
    flows: flowsWithPackets,
    frameBytes,
    fileBytes: 24 + 16 * written + frameBytes,
    meanFrame: written > 0 ? frameBytes / written : 0,
    ipv6Flows,
    vlanFlows,
    kinds: kindCounts,
    captureSeconds: clockUs / 1e6,
    elapsed,
  };
}

/** Emits the next packet of `f` into enc.buf; returns the frame length. */
function emit(f: Flow, enc: FrameEncoder, r: Prng, FILL: Buffer, size: PacketSizeProfile, tsMs: number): number {
  if (f.proto === PROTO_UDP) return emitUdp(f, enc, r, FILL, size, tsMs);
  if (f.proto === PROTO_ICMP) {
    const request = (f.sent & 1) === 0;
    const type = f.v6 ? (request ? 128 : 129) : request ? 8 : 0;
    return enc.encode(f, request, type, FILL, (f.icmpId * 56) % (FILL.length - 56), 56, tsMs);
  }
  // TCP. The packets left decide when the close starts.
  const left = f.plan - f.sent;
  const closeLen = f.rstClose ? 1 : 3;
  if (f.kind.name === 'tcp-refused') {
    if (f.phase === 0) {
      f.phase = 10;
      const n = enc.encode(f, true, F_SYN, null, 0, 0, tsMs);
      f.cSeq = (f.cSeq + 1) >>> 0;
      return n;
    }
    f.phase = 99;
    return enc.encode(f, false, F_RST | F_ACK, null, 0, 0, tsMs);
  }
  if (f.phase === 5 && left <= closeLen) f.phase = f.rstClose ? 9 : 6;
  switch (f.phase) {
    case 0: {
      f.phase = 1;
      const n = enc.encode(f, true, F_SYN, null, 0, 0, tsMs);
      f.cSeq = (f.cSeq + 1) >>> 0;
      return n;
    }
    case 1: {
      f.phase = 2;
      const n = enc.encode(f, false, F_SYN | F_ACK, null, 0, 0, tsMs);
      f.sSeq = (f.sSeq + 1) >>> 0;
      return n;
    }
    case 2:
      f.phase = f.exchanges.length > 0 ? 3 : 5;
      return enc.encode(f, true, F_ACK, null, 0, 0, tsMs);
    case 3:
    case 4: {
      const ex = f.exchanges[0]!;
      const serverFirst = ex.serverFirst === true;
      const fromClient = (f.phase === 3) !== serverFirst;
      const bytes = fromClient ? ex.toServer : ex.toClient;
      const len = Math.min(bytes.length, MSS);
      f.phase = f.phase === 3 ? 4 : 5;
      return tcpData(f, enc, fromClient, bytes, 0, len, tsMs);
    }
    case 5: {
      const u = r.float();
      if (f.unacked && u < 0.35) {
        // Pure ACK from the side that received the last data.
        f.unacked = false;
        return enc.encode(f, !f.lastDataFromClient, F_ACK, null, 0, 0, tsMs);
      }
      const fromClient = r.float() < 0.3;
      const len = dataLen(r, size);
      return tcpData(f, enc, fromClient, FILL, r.int(FILL.length - MSS), len, tsMs);
    }
    case 6: {
      f.phase = 7;
      const n = enc.encode(f, true, F_FIN | F_ACK, null, 0, 0, tsMs);
      f.cSeq = (f.cSeq + 1) >>> 0;
      return n;
    }
    case 7: {
      f.phase = 8;
      const n = enc.encode(f, false, F_FIN | F_ACK, null, 0, 0, tsMs);
      f.sSeq = (f.sSeq + 1) >>> 0;
      return n;
    }
    case 8:
      f.phase = 99;
      return enc.encode(f, true, F_ACK, null, 0, 0, tsMs);
    case 9:
      f.phase = 99;
      return enc.encode(f, true, F_RST | F_ACK, null, 0, 0, tsMs);
    default:
      // A flow past its close (only if plan and phases disagree): a keep-alive ACK.
      return enc.encode(f, true, F_ACK, null, 0, 0, tsMs);
  }
}

function tcpData(f: Flow, enc: FrameEncoder, fromClient: boolean, src: Uint8Array, off: number, len: number, tsMs: number): number {
  const n = enc.encode(f, fromClient, F_PSH | F_ACK, src, off, len, tsMs);
  if (fromClient) f.cSeq = (f.cSeq + len) >>> 0;
  else f.sSeq = (f.sSeq + len) >>> 0;
  f.lastDataFromClient = fromClient;
  f.unacked = true;
  return n;
}

function emitUdp(f: Flow, enc: FrameEncoder, r: Prng, FILL: Buffer, size: PacketSizeProfile, tsMs: number): number {
  if (f.exchanges.length > 0) {
    // DNS: query, answer, (query, answer) with the next exchange.
    const ex = f.exchanges[Math.min(f.exchanges.length - 1, f.sent >>> 1)]!;
    const q = (f.sent & 1) === 0;
    const bytes = q ? ex.toServer : ex.toClient;
    return enc.encode(f, q, 0, bytes, 0, bytes.length, tsMs);
  }
  if (f.kind.name === 'ntp') {
    // NTPv4 client (mode 3) and server (mode 4) packets: 48 bytes.
    const q = f.sent === 0;
    const n = enc.encode(f, q, 0, FILL, r.int(FILL.length - 48), 48, tsMs);
    const pay = n - 48;
    enc.buf[pay] = q ? 0x23 : 0x24;
    // Re-checksum after patching the first byte.
    const l4 = pay - 8;
    enc.buf[l4 + 6] = 0;
    enc.buf[l4 + 7] = 0;
    const ck = fold(sum16(enc.buf, l4, n, f.addrSum + PROTO_UDP + (n - l4)));
    put16(enc.buf, l4 + 6, ck === 0 ? 0xffff : ck);
    return n;
  }
  const fromClient = r.chance(0.6);
  return enc.encode(f, fromClient, 0, FILL, r.int(FILL.length - MSS), dataLen(r, size), tsMs);
}

// ---------------------------------------------------------------------------------------------
// CLI

function intOpt(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer (got ${v})`);
  return n;
}

export function parseGenArgs(argv: string[]): GenOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      packets: { type: 'string' },
      flows: { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      pps: { type: 'string' },
      tunnel: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const size = (values.size ?? DEFAULT_GEN.size) as PacketSizeProfile;
  if (!['small', 'mixed', 'large'].includes(size)) throw new RangeError(`--size must be small, mixed or large (got ${values.size})`);
  if (values.out === undefined) throw new RangeError('--out PATH is required');
  const o: GenOptions = {
    packets: intOpt(values.packets, '--packets', DEFAULT_GEN.packets),
    flows: intOpt(values.flows, '--flows', DEFAULT_GEN.flows),
    size,
    out: values.out,
    seed: intOpt(values.seed, '--seed', DEFAULT_GEN.seed),
    pps: intOpt(values.pps, '--pps', DEFAULT_GEN.pps),
  };
  if (values.concurrency !== undefined) o.concurrency = intOpt(values.concurrency, '--concurrency', 2048);
  if (values.tunnel !== undefined) {
    if (values.tunnel !== 'none' && values.tunnel !== 'vxlan') throw new RangeError(`--tunnel must be none or vxlan (got ${values.tunnel})`);
    o.tunnel = values.tunnel;
  }
  return o;
}

export function describeGen(g: GenResult): string {
  const kinds = Object.entries(g.kinds).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  return (
    `${g.packets} packets, ${g.flows} flows, ${(g.fileBytes / 1e6).toFixed(1)} MB file, mean frame ${g.meanFrame.toFixed(0)} B, ` +
    `${g.ipv6Flows} IPv6 flows, ${g.vlanFlows} VLAN flows, ${g.captureSeconds.toFixed(1)} s of capture time, generated in ${g.elapsed.toFixed(1)} s\n` +
    `  kinds: ${kinds}`
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const o = parseGenArgs(process.argv.slice(2));
    const g = generateCapture(o);
    process.stdout.write(`${o.out}: ${describeGen(g)}\n`);
  } catch (err) {
    process.stderr.write(`gen-capture: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
