/**
 * A deterministic capture that exercises everything the worker pipeline must keep identical across
 * worker counts: many host pairs talking at once (TCP with handshakes and payloads on documented
 * ports, UDP, ICMP echo), VLAN and QinQ tags, IPv6, IPv4 and IPv6 fragments (and an orphan later
 * fragment), ICMP errors from the destination and from a router, port reuse after a close, non-IP
 * frames, snaplen-cut frames, quiet gaps longer than the idle timeout and timestamps that step back.
 */
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import {
  PROTO,
  fragmentIpv4,
  fragmentIpv6,
  frame,
  ipv4IcmpEcho,
  ipv4IcmpError,
  ipv4Packet,
  ipv4Tcp,
  ipv4Udp,
  ipv6IcmpError,
  ipv6Packet,
  ipv6Tcp,
  ipv6Udp,
  tcpSegment,
  udpDatagram,
  type LinkOptions,
} from '../../fixtures/gen/packet-builder.js';
import { prng } from '../../fixtures/gen/scenario.js';

export interface MixedCaptureOptions {
  seed?: number;
  /** Conversations to run (each 1..12 packets). */
  conversations?: number;
  /** Conversations open at once. */
  concurrency?: number;
  /**
   * Rewrites every frame of conversation `k` (before the snaplen cut), e.g. into a tunnel; may
   * return several frames (a copy in another tunnel).
   */
  wrap?: (frame: Uint8Array, k: number) => Uint8Array[];
}

export interface MixedCapture {
  pcap: Uint8Array;
  packets: number;
}

const TCP_PORTS = [6379, 8443, 9443, 26500, 80, 22, 5432, 12000, 40000];
const HTTP_GET = 'GET /metrics HTTP/1.1\r\nHost: example\r\nUser-Agent: test\r\n\r\n';
const RESP_PING = '*1\r\n$4\r\nPING\r\n';

type Step = (t: number) => Uint8Array[];

export function mixedCapture(o: MixedCaptureOptions = {}): MixedCapture {
  const rnd = prng(o.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter(chunks, { linkType: 1, snaplen: 65535, nano: true });
  let packets = 0;
  let sec = 1_700_000_000;
  let nsec = 0;
  const write = (f: Uint8Array, cut = false): void => {
    if (cut) w.writePacket(sec, nsec, f.subarray(0, Math.min(f.length, 54)), f.length);
    else w.writePacket(sec, nsec, f);
    packets++;
  };

  const host4 = (i: number): string => `10.${(i >> 8) & 255}.${i & 255}.${1 + (i % 200)}`;
  const host6 = (i: number): string => `fd00::${(i & 0xffff).toString(16)}:1`;
  let nextPort = 20000;
  let fragId = 1;

  /** One conversation: a list of steps, each giving the frames of one moment. */
  const conversation = (k: number): Step[] => {
    const v6 = rnd() < 0.25;
    const link: LinkOptions = rnd() < 0.15 ? { vlan: [100 + (k % 7)] } : rnd() < 0.05 ? { vlan: [200, 300 + (k % 3)] } : {};
    const c = v6 ? host6(k * 7 + 1) : host4(k * 7 + 1);
    const s = v6 ? host6(k % 50) : host4(1000 + (k % 50));
    const sport = nextPort++;
    if (nextPort > 60000) nextPort = 20000;
    const kind = rnd();
    const ip = { src: c, dst: s, ...link };
    const back = { src: s, dst: c, ...link };
    if (kind < 0.45) {
      const dport = pick(TCP_PORTS);
      const payload = dport === 6379 || dport === 12000 ? RESP_PING : HTTP_GET;
      const tcp = v6 ? ipv6Tcp : ipv4Tcp;
      const steps: Step[] = [
        () => [tcp({ ...ip, sport, dport, flags: 'S', seq: 1 })],
        () => [tcp({ ...back, sport: dport, dport: sport, flags: 'SA', seq: 100, ack: 2 })],
        () => [tcp({ ...ip, sport, dport, flags: 'A', seq: 2, ack: 101 })],
        () => [tcp({ ...ip, sport, dport, flags: 'PA', seq: 2, ack: 101, payload })],
        () => [tcp({ ...back, sport: dport, dport: sport, flags: 'PA', seq: 101, ack: 2 + payload.length, payload: '+PONG\r\n' })],
      ];
      const end = rnd();
      if (end < 0.6) {
        steps.push(() => [tcp({ ...ip, sport, dport, flags: 'FA', seq: 50, ack: 120 })]);
        steps.push(() => [tcp({ ...back, sport: dport, dport: sport, flags: 'FA', seq: 120, ack: 51 })]);
        if (rnd() < 0.3) {
          // Port reuse: a new connection on the same 5-tuple after the close.
          steps.push(() => [tcp({ ...ip, sport, dport, flags: 'S', seq: 9000 })]);
          steps.push(() => [tcp({ ...back, sport: dport, dport: sport, flags: 'R', seq: 0, ack: 9001 })]);
        }
      } else if (end < 0.75) {
        steps.push(() => [tcp({ ...back, sport: dport, dport: sport, flags: 'R', seq: 120 })]);
      }
      if (rnd() < 0.05) {
        // A router on the path says time exceeded, quoting the client's packet (a third host).
        const quoted = v6
          ? ipv6Packet({ src: c, dst: s }, PROTO.TCP, tcpSegment({ sport, dport, flags: 'A' }))
          : ipv4Packet({ src: c, dst: s }, PROTO.TCP, tcpSegment({ sport, dport, flags: 'A' }));
        const router = v6 ? 'fd00::ffff:1' : '192.0.2.254';
        steps.splice(3, 0, () => [
          v6 ? ipv6IcmpError({ src: router, dst: c, type: 3, quoted, ...link }) : ipv4IcmpError({ src: router, dst: c, type: 11, quoted, ...link }),
        ]);
      }
      return steps;
    }
    if (kind < 0.7) {
      const dport = pick([53, 53, 123, 5353, 33000]);
      const udp = v6 ? ipv6Udp : ipv4Udp;
      const steps: Step[] = [
        () => [udp({ ...ip, sport, dport, payload: 'q'.repeat(20 + Math.floor(rnd() * 40)) })],
        () => [udp({ ...back, sport: dport, dport: sport, payload: 'a'.repeat(60 + Math.floor(rnd() * 200)) })],
      ];
      if (rnd() < 0.1) {
        // Port unreachable from the destination itself (same host pair as the flow).
        const quoted = v6
          ? ipv6Packet({ src: c, dst: s }, PROTO.UDP, udpDatagram({ sport, dport, payload: 'x' }))
          : ipv4Packet({ src: c, dst: s }, PROTO.UDP, udpDatagram({ sport, dport, payload: 'x' }));
        steps.push(() => [v6 ? ipv6IcmpError({ ...back, type: 1, code: 4, quoted }) : ipv4IcmpError({ ...back, type: 3, code: 3, quoted })]);
      }
      return steps;
    }
    if (kind < 0.82) {
      // A fragmented UDP datagram (fragments in order), then the answer.
      const big = 'F'.repeat(1800 + Math.floor(rnd() * 1500));
      const id = fragId++;
      const frags = v6
        ? fragmentIpv6(ipv6Packet({ src: c, dst: s }, PROTO.UDP, udpDatagram({ sport, dport: 2049, payload: big })), 600, id)
        : fragmentIpv4(ipv4Packet({ src: c, dst: s, id }, PROTO.UDP, udpDatagram({ sport, dport: 2049, payload: big })), 600);
      const steps: Step[] = frags.map((f) => () => [frame(f, link)]);
      steps.push(() => [(v6 ? ipv6Udp : ipv4Udp)({ ...back, sport: 2049, dport: sport, payload: 'ok' })]);
      if (rnd() < 0.2) {
        // A later fragment whose first fragment never came.
        const orphan = fragmentIpv4(ipv4Packet({ src: host4(5000 + k), dst: host4(k), id: 0xfff0 }, PROTO.UDP, udpDatagram({ sport: 1, dport: 2, payload: big })), 600);
        steps.push(() => [frame(orphan[1]!, link)]);
      }
      return steps;
    }
    if (kind < 0.92) {
      const ident = 1 + (k % 1000);
      return [
        () => [ipv4IcmpEcho({ src: host4(k), dst: host4(2000 + (k % 30)), ident, ...link })],
        () => [ipv4IcmpEcho({ src: host4(2000 + (k % 30)), dst: host4(k), ident, request: false, ...link })],
      ];
    }
    if (kind < 0.96) {
      // ARP: not IP.
      const arp = new Uint8Array(28);
      arp.set([0, 1, 8, 0, 6, 4, 0, 1]);
      return [() => [frame(arp, { etherType: 0x0806, ...link })]];
    }
    // A data packet whose capture was cut by the snaplen (and one cut before the TCP header).
    const tcp = v6 ? ipv6Tcp : ipv4Tcp;
    return [
      () => [tcp({ ...ip, sport, dport: 80, flags: 'PA', payload: HTTP_GET })],
      () => [tcp({ ...ip, sport, dport: 80, flags: 'PA', payload: HTTP_GET }).subarray(0, 30)],
    ];
  };

  const total = o.conversations ?? 2000;
  const concurrency = o.concurrency ?? 64;
  const open: Step[][] = [];
  let started = 0;
  let n = 0;
  const cutAt = new Set([7, 29, 101]);
  while (started < total || open.length > 0) {
    while (open.length < concurrency && started < total) {
      const k = started++;
      const steps = conversation(k);
      const wrap = o.wrap;
      open.push(wrap === undefined ? steps : steps.map((step) => (t: number) => step(t).flatMap((f) => wrap(f, k))));
    }
    const i = Math.floor(rnd() * open.length);
    const conv = open[i]!;
    const step = conv.shift()!;
    for (const f of step(sec)) write(f, cutAt.has(n++ % 211));
    if (conv.length === 0) open.splice(i, 1);
    // Time: mostly small steps; now and then a quiet gap longer than the idle timeout, or a
    // record that steps back in time (merged multi-interface captures do this).
    const r = rnd();
    if (r < 0.002) sec += 45;
    else if (r < 0.006 && sec > 1_700_000_010) sec -= 3;
    else {
      nsec += Math.floor(rnd() * 40_000_000);
      if (nsec >= 1e9) {
        sec += Math.floor(nsec / 1e9);
        nsec %= 1e9;
      }
    }
  }
  w.close();
  let size = 0;
  for (const c of chunks) size += c.length;
  const pcap = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    pcap.set(c, off);
    off += c.length;
  }
  return { pcap, packets };
}

function toPcap(write: (w: PcapWriter) => void): MixedCapture {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter(chunks, { linkType: 1, snaplen: 65535, nano: true });
  write(w);
  w.close();
  const pcap = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    pcap.set(c, off);
    off += c.length;
  }
  return { pcap, packets: w.packets };
}

/**
 * Floods the two bounded per-flow pools that flows share: the IP fragment table (5000 datagrams'
 * first fragments, then all their later fragments) and the classifier's reassembly buffers (2600
 * TCP connections open at once, each sending an HTTP request split over two segments, which only a
 * reassembly buffer recognises whole). Both pools are split by host-pair bucket, so which flows win
 * and lose does not depend on the number of workers.
 */
export function stormCapture(): MixedCapture {
  return toPcap((w) => {
    let t = 1_700_000_000;
    const at = (): [number, number] => [t, 0];
    const host = (i: number, side: number): string => `10.${side}.${(i >> 8) & 255}.${i & 255}`;
    const datagrams = Array.from({ length: 5000 }, (_, i) =>
      fragmentIpv4(ipv4Packet({ src: host(i, 1), dst: host(i, 2), id: 1 + (i % 60000) }, PROTO.UDP, udpDatagram({ sport: 4000, dport: 2049, payload: 'D'.repeat(1200) })), 600),
    );
    for (const f of datagrams) w.writePacket(...at(), frame(f[0]!));
    t++;
    for (const f of datagrams) for (const later of f.slice(1)) w.writePacket(...at(), frame(later));
    t++;
    const conns = Array.from({ length: 2600 }, (_, i) => ({ src: host(i, 3), dst: host(i % 900, 4), sport: 30000 + (i % 20000), dport: 9600 }));
    for (const c of conns) w.writePacket(...at(), ipv4Tcp({ ...c, flags: 'S', seq: 1 }));
    for (const c of conns) w.writePacket(...at(), ipv4Tcp({ src: c.dst, dst: c.src, sport: c.dport, dport: c.sport, flags: 'SA', seq: 50, ack: 2 }));
    t++;
    for (const c of conns) w.writePacket(...at(), ipv4Tcp({ ...c, flags: 'PA', seq: 2, ack: 51, payload: 'GET /metr' }));
    for (const c of conns) w.writePacket(...at(), ipv4Tcp({ ...c, flags: 'PA', seq: 11, ack: 51, payload: 'ics HTTP/1.1\r\nHost: node\r\n\r\n' }));
  });
}

/**
 * Timestamps that step back: flow G is seen at t = 100, then the clock steps back and flow H is
 * seen at t = 97, then only ARP frames carry time forward. From t = 128 on, H is idle for longer
 * than a 30 s timeout while G (ahead of it in last-packet order) is not yet: H must end then, in a
 * single table as in a table that holds H alone. `pairs` gives two host pairs (IPv4 address words)
 * that the caller picked on different workers.
 */
export function backstepCapture(g: [string, string], h: [string, string]): MixedCapture {
  return toPcap((w) => {
    const base = 1_700_000_000;
    const arp = frame(Uint8Array.from([0, 1, 8, 0, 6, 4, 0, 1, ...new Array<number>(20).fill(0)]), { etherType: 0x0806 });
    w.writePacket(base + 100, 0, ipv4Udp({ src: g[0], dst: g[1], sport: 1000, dport: 53, payload: 'g' }));
    w.writePacket(base + 97, 0, ipv4Udp({ src: h[0], dst: h[1], sport: 2000, dport: 53, payload: 'h' }));
    for (let s = 98; s <= 140; s++) w.writePacket(base + s, 500_000_000, arp);
  });
}
