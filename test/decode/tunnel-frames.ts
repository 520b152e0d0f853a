/**
 * Tunnelled test frames as inline hex, one layer per line, each with the tcpdump line that reads
 * it (tcpdump 4.99 -nn -e -v; tcpdump does not decode ERSPAN, Teredo or GTP-U: those lines say what
 * the bytes are). Built with fixtures/gen/tunnel-builder.ts and checked with tcpdump once; the hex is
 * what the tests trust.
 */
import { hex } from './helpers.js';

/** 02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4, 10.0.0.1.40000 > 10.0.0.2.6379: Flags [P.], seq 1:7, ack 2, length 6: RESP "PING" */
export const INNER_ETH = `
  020000000002020000000001 0800`;
export const INNER_IP = `
  4500002e00010000400666c70a0000010a000002
  9c4018eb00000001000000025018ffff3afb0000
  50494e470d0a`;
/** (hlim 64, next-header UDP (17) payload length: 9) fd00::1.5353 > fd00::2.53: UDP, length 1 */
export const INNER_IP6 = `
  6000000000091140fd000000000000000000000000000001fd000000000000000000000000000002
  14e9003500097fb9 71`;

const OUTER_ETH = '020000000002020000000001 0800';

export const TUNNEL_FRAMES = {
  /** 192.168.1.1.51000 > 192.168.1.2.8472: OTV (VXLAN), flags [I] (0x08), overlay 0, instance 1 */
  vxlan: hex(`${OUTER_ETH}
    45000060000100004011f738c0a80101c0a80102
    c7382118004c92d1
    0800000000000100
    ${INNER_ETH} ${INNER_IP}`),
  /**
   * 192.168.1.1.51001 > 192.168.1.2.6081: Geneve, Flags [none], vni 0x123, proto TEB (0x6558),
   * options [class Open Virtual Networking (OVN) (0x102) type 0x80(C) len 8]
   */
  geneve: hex(`${OUTER_ETH}
    45000068000100004011f730c0a80101c0a80102
    c73917c1005495b4
    0200655800012300 0102800101020304
    ${INNER_ETH} ${INNER_IP}`),
  /** 192.168.1.1.51001 > 192.168.1.2.6081: Geneve, Flags [none], vni 0x7, proto IPv6 (0x86dd) */
  geneveIpv6: hex(`${OUTER_ETH}
    45000055000100004011f743c0a80101c0a80102
    c73917c100419e10
    000086dd00000700
    ${INNER_IP6}`),
  /** 192.168.1.1 > 192.168.1.2: proto IPIP (4), then the inner IPv4/TCP */
  ipip: hex(`${OUTER_ETH}
    45000042000100004004f763c0a80101c0a80102
    ${INNER_IP}`),
  /** 192.168.1.1 > 192.168.1.2: proto IPv6 (41), then the inner IPv6/UDP (6in4) */
  sixInFour: hex(`${OUTER_ETH}
    45000045000100004029f73bc0a80101c0a80102
    ${INNER_IP6}`),
  /** 192.168.1.1 > 192.168.1.2: GREv0, Flags [checksum present, key present, sequence# present], key=0x1020304, seq 7, proto IPv4 */
  greAllFields: hex(`${OUTER_ETH}
    4500005200010000402ff728c0a80101c0a80102
    b0000800 00000000 01020304 00000007
    ${INNER_IP}`),
  /** 192.168.1.1 > 192.168.1.2: GREv0, Flags [key present], key=0x1388, proto TEB (0x6558) */
  greTeb: hex(`${OUTER_ETH}
    4500005800010000402ff722c0a80101c0a80102
    20006558 00001388
    ${INNER_ETH} ${INNER_IP}`),
  /** 192.168.1.1 > 192.168.1.2: GREv1, Flags [key present, sequence# present, ack present], call 6016, seq 430001, ack 539254, proto PPP: IP (0x0021) */
  pptp: hex(`${OUTER_ETH}
    4500005600010000402ff724c0a80101c0a80102
    3081880b 00341780 00068fb1 00083a76
    ff030021
    ${INNER_IP}`),
  /** 192.168.1.1 > 192.168.1.2: GREv0, Flags [routing present], sum 0x0, off 0x0, (rtaf=ip *1.2.3.4), proto IPv4 */
  greRouting: hex(`${OUTER_ETH}
    4500005600010000402ff724c0a80101c0a80102
    40000800 00000000 08000004 01020304 00000000
    ${INNER_IP}`),
  /** 192.168.1.1 > 192.168.1.2: GREv0, Flags [sequence# present], seq 1, proto 0x88be: ERSPAN type II, session 100 */
  erspanII: hex(`${OUTER_ETH}
    4500006000010000402ff71ac0a80101c0a80102
    100088be 00000001
    10000064 00000000
    ${INNER_ETH} ${INNER_IP}`),
  /** 192.168.1.1 > 192.168.1.2: GREv0, Flags [sequence# present], seq 1, proto 0x22eb: ERSPAN type III, session 200, O set: 8-byte subheader */
  erspanIII: hex(`${OUTER_ETH}
    4500006c00010000402ff70ec0a80101c0a80102
    100022eb 00000001
    200000c8 00000000 00000001 0000000000000000
    ${INNER_ETH} ${INNER_IP}`),
  /** vlan 10, ethertype MPLS unicast (0x8847), MPLS (label 100, tc 0, ttl 64) (label 200, tc 0, [S], ttl 64), IPv4/TCP */
  mpls: hex(`
    020000000002020000000001 8100000a 8847
    00064040 000c8140
    ${INNER_IP}`),
  /** ethertype MPLS unicast (0x8847), MPLS (label 300, [S]), control word 0, Ethernet pseudowire */
  mplsPseudowire: hex(`
    020000000002020000000001 8847
    0012c140 00000000
    ${INNER_ETH} ${INNER_IP}`),
  /** vlan 100 (802.1ad), vlan 200, ethertype PPPoE S (0x8864), PPPoE [ses 0x1234] IP (0x0021), length 48 */
  pppoe: hex(`
    020000000002020000000001 88a80064 810000c8 8864
    11001234 0030 0021
    ${INNER_IP}`),
  /** LINKTYPE_NFLOG: version 0, resource ID 20, family IPv4 (2): prefix TLV "portsniff", payload TLV (little-endian TLV headers) */
  nflog: hex(`
    02000014
    0e000a00 706f7274736e696666000000
    32000900
    ${INNER_IP} 0000`),
  /**
   * 192.168.1.1.40001 > 192.168.1.2.3544: Teredo: authentication indicator (id "ab", value "c",
   * nonce 0, confirmation 0), origin indicator (port 1234, 1.2.3.4, obfuscated), IPv6/UDP
   */
  teredo: hex(`${OUTER_ETH}
    45000065000100004011f733c0a80101c0a80102
    9c410dd80051a322
    00010201 6162 63 0000000000000000 00
    0000fb2dfefdfcfb
    ${INNER_IP6}`),
  /** 192.168.1.1.2152 > 192.168.1.2.2152: GTPv1-U G-PDU, TEID 0xabcdef, seq 9, extension 0x85 (PDU session container), IPv4/TCP */
  gtpu: hex(`${OUTER_ETH}
    4500005a000100004011f73ec0a80101c0a80102
    08680868004672f3
    36ff0036 00abcdef 00090085
    01100500
    ${INNER_IP}`),
} as const;

export type TunnelFrameName = keyof typeof TUNNEL_FRAMES;
