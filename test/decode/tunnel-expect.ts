/** Expected records shared by the tunnel decoder tests. */
import { DecodeStatus } from '../../src/decode/types.js';
import { addrs, expected, type Fields } from './helpers.js';

/** The inner IPv4/TCP packet of tunnel-frames.ts (INNER_IP) with its IP header at `l3`. */
export function innerTcp(l3: number, o: Partial<Fields> = {}): Fields {
  return expected({
    ...addrs('10.0.0.1', '10.0.0.2'),
    status: DecodeStatus.Ok,
    etherType: 0x0800, l3Offset: l3, ipLength: 46, ipProto: 6, fragId: 1, l4Offset: l3 + 20,
    hasPorts: true, srcPort: 40000, dstPort: 6379, tcpFlags: 0x18, tcpSeq: 1, tcpAck: 2,
    payloadOffset: l3 + 40, payloadCaptured: 6, payloadLength: 6,
    level: 1, tunnelDepth: 1,
    ...o,
  });
}

/** The inner IPv6/UDP packet (INNER_IP6) at `l3`. */
export function innerUdp6(l3: number, o: Partial<Fields> = {}): Fields {
  return expected({
    ...addrs('fd00::1', 'fd00::2'),
    etherType: 0x86dd, l3Offset: l3, ipLength: 49, ipProto: 17, l4Offset: l3 + 40,
    hasPorts: true, srcPort: 5353, dstPort: 53,
    payloadOffset: l3 + 48, payloadCaptured: 1, payloadLength: 1,
    level: 1, tunnelDepth: 1,
    ...o,
  });
}

/** Tunnel context words as tunnel.ts builds them for one IP-carried tunnel. */
export function context(type: number, id = 0): number {
  return ((type << 24) | id) >>> 0;
}

/** A Level without its stack (the stack is compared on its own). */
export function withoutStack<T extends { stack: unknown }>(l: T): Omit<T, 'stack'> {
  const { stack: _s, ...rest } = l;
  return rest;
}
