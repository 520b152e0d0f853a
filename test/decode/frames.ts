/** Known-good frames covering every framing and protocol the decoder handles (built, not captured). */
import * as B from '../../fixtures/gen/packet-builder.js';

export interface TestFrame {
  name: string;
  frame: Uint8Array;
  linkType: number;
}

const a = { src: '10.0.0.1', dst: '10.0.0.2' };
const s6 = { src: '2001:db8::1', dst: '2001:db8::2' };
const tcp = { sport: 40000, dport: 443, flags: 'PA', seq: 1, ack: 2, payload: 'GET / HTTP/1.1\r\n\r\n' };
const udp = { sport: 5353, dport: 53, payload: 'query' };

function f(name: string, frame: Uint8Array, link: B.LinkFraming = 'ethernet'): TestFrame {
  return { name, frame, linkType: B.linkTypeOf(link) };
}

function build(): TestFrame[] {
  const out: TestFrame[] = [];
  const links: B.LinkFraming[] = ['ethernet', 'sll', 'sll2', 'null', 'loop', 'raw', 'radiotap', 'ieee80211', 'pktap'];
  for (const link of links) {
    out.push(f(`${link} ipv4 tcp`, B.ipv4Tcp({ ...a, ...tcp, link }), link));
    out.push(f(`${link} ipv6 udp`, B.ipv6Udp({ ...s6, ...udp, link }), link));
  }
  out.push(f('linktype ipv4', B.ipv4Udp({ ...a, ...udp, link: 'ipv4' }), 'ipv4'));
  out.push(f('linktype ipv6', B.ipv6Tcp({ ...s6, ...tcp, link: 'ipv6' }), 'ipv6'));
  out.push(f('null big-endian ipv4', B.ipv4Udp({ ...a, ...udp, link: 'null', nullByteOrder: 'be' }), 'null'));
  out.push(f('radiotap fcs', B.ipv4Udp({ ...a, ...udp, link: 'radiotap', fcs: true }), 'radiotap'));
  out.push(f('radiotap 4addr htc', B.ipv6Tcp({ ...s6, ...tcp, link: 'radiotap', wlan: { fourAddress: true, htc: true } }), 'radiotap'));
  out.push(f('vlan', B.ipv4Tcp({ ...a, ...tcp, vlan: [10] })));
  out.push(f('qinq', B.ipv6Udp({ ...s6, ...udp, vlan: [10, 20] })));
  out.push(f('padded', B.ipv4Udp({ ...a, sport: 1, dport: 2, minLength: 60 })));
  out.push(f('ipv4 options', B.ipv4Tcp({ ...a, ...tcp, ipOptions: [0x94, 4, 0, 0, 1, 1, 1, 0] })));
  out.push(f('tcp options', B.ipv4Tcp({ ...a, ...tcp, flags: 'S', tcpOptions: [2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7] })));
  out.push(f('sctp v4', B.ipv4Sctp({ ...a, sport: 2905, dport: 2905 })));
  out.push(f('sctp v6', B.ipv6Sctp({ ...s6, sport: 36412, dport: 36412 })));
  out.push(f('icmp echo', B.ipv4IcmpEcho({ ...a, ident: 77, payload: 'abcdefgh' })));
  out.push(f('icmpv6 echo', B.ipv6IcmpEcho({ ...s6, ident: 78, request: false })));
  const q4 = B.ipv4Packet({ src: '10.0.0.2', dst: '192.0.2.1', ipOptions: [1, 1, 1, 1] }, 17, B.udpDatagram({ sport: 9, dport: 10, payload: 'x' }));
  out.push(f('icmp error', B.ipv4IcmpError({ src: '192.0.2.254', dst: '10.0.0.2', type: 3, code: 3, quoted: q4 })));
  const q6 = B.ipv6Packet({ src: '2001:db8::2', dst: '2001:db8::5', ext: [{ type: 0 }, { type: 60 }] }, 6, B.tcpSegment({ sport: 9, dport: 10 }));
  out.push(f('icmpv6 error', B.ipv6IcmpError({ src: '2001:db8::5', dst: '2001:db8::2', type: 3, quoted: q6 })));
  const big4 = B.ipv4Packet({ ...a, id: 99 }, 6, B.tcpSegment({ ...tcp, payload: 'z'.repeat(100) }));
  B.fragmentIpv4(big4, 48).forEach((p, i) => out.push(f(`ipv4 fragment ${i}`, B.frame(p))));
  const big6 = B.ipv6Packet({ ...s6, ext: [{ type: 0 }] }, 17, B.udpDatagram({ ...udp, payload: 'z'.repeat(100) }));
  B.fragmentIpv6(big6, 48, 0x1234).forEach((p, i) => out.push(f(`ipv6 fragment ${i}`, B.frame(p))));
  out.push(f('ipv6 ext chain', B.ipv6Udp({ ...s6, ...udp, ext: [{ type: 0 }, { type: 43 }, { type: 44, id: 1 }, { type: 60 }, { type: 51 }, { type: 135 }] })));
  out.push(f('gre', B.frame(B.ipv4Packet(a, 47, B.fromHex('00000800')))));
  out.push(f('esp v6', B.frame(B.ipv6Packet(s6, 50, B.fromHex('0000100000000001 0011223344556677')))));
  out.push(f('arp', B.frame(B.fromHex('0001080006040001020000000001 0a000001 000000000000 0a000002'), { etherType: 0x0806 })));
  return out;
}

export const TEST_FRAMES: readonly TestFrame[] = build();
