import { describe, expect, it } from 'vitest';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex, patch, quotedAddrs } from './helpers.js';

const ETHERNET = 1;

describe('ICMP', () => {
  it('echo request: the identifier stands in for both ports', () => {
    // IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 4660, seq 7, length 12
    const f = hex(`
      0200000000020200000000010800
      4500002000010000400166da0a0000010a000002
      080006f412340007
      70696e67`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 32, ipProto: 1, fragId: 1, l4Offset: 34,
      hasPorts: true, srcPort: 0x1234, dstPort: 0x1234, icmpType: 8, icmpCode: 0,
      payloadOffset: 42, payloadCaptured: 4, payloadLength: 4,
    }));
  });

  it('timestamp request (issue 10): a query like echo, the identifier stands in for both ports', () => {
    // IP 10.0.0.1 > 10.0.0.2: ICMP time stamp query id 1 seq 1, length 20
    const f = hex(`
      0200000000020200000000010800
      4500002800010000400166d20a0000010a000002
      0d00f2fd00010001
      000000000000000000000000`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 40, ipProto: 1, fragId: 1, l4Offset: 34,
      hasPorts: true, srcPort: 1, dstPort: 1, icmpType: 13, icmpCode: 0,
      payloadOffset: 42, payloadCaptured: 12, payloadLength: 12,
    }));
  });

  it('address mask reply (issue 10): keyed by its identifier like the request it answers', () => {
    // IP 10.0.0.2 > 10.0.0.1: ICMP address mask is 0xffffff00, length 12
    const f = hex(`
      0200000000010200000000020800
      4500002000010000400166da0a0000020a000001
      1200ecfa02030001
      ffffff00`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.2', '10.0.0.1'),
      etherType: 0x0800, l3Offset: 14, ipLength: 32, ipProto: 1, fragId: 1, l4Offset: 34,
      hasPorts: true, srcPort: 0x0203, dstPort: 0x0203, icmpType: 18, icmpCode: 0,
      payloadOffset: 42, payloadCaptured: 4, payloadLength: 4,
    }));
  });

  it('other types: type and code stand in for the ports', () => {
    // IP 10.0.0.1 > 10.0.0.2: ICMP router solicitation, length 8
    const f = hex(`
      0200000000020200000000010800
      4500001c00010000400166de0a0000010a000002
      0a00f5ff00000000`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 28, ipProto: 1, fragId: 1, l4Offset: 34,
      hasPorts: true, srcPort: 10, dstPort: 0, icmpType: 10, icmpCode: 0,
      payloadOffset: 42, payloadCaptured: 0, payloadLength: 0,
    }));
  });

  it('port unreachable: decodes the quoted IPv4/UDP header as the original packet had it', () => {
    // IP 192.0.2.9 > 10.0.0.2: ICMP 192.0.2.9 udp port 33434 unreachable, length 36
    //   IP (tos 0x0, ttl 64, id 9, offset 0, flags [none], proto UDP (17), length 33)
    //   10.0.0.2.40000 > 192.0.2.9.33434: UDP, length 5
    const f = hex(`
      0200000000020200000000010800
      45000038000100004001aeb9c00002090a000002
      03030dfc00000000
      45000021000900004011aeb80a000002c0000209
      9c40829a000dd018`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('192.0.2.9', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 56, ipProto: 1, fragId: 1, l4Offset: 34,
      hasPorts: true, srcPort: 3, dstPort: 3, icmpType: 3, icmpCode: 3,
      quotedValid: true, quotedProto: 17, ...quotedAddrs('10.0.0.2', '192.0.2.9'), quotedSrcPort: 40000, quotedDstPort: 33434,
      payloadOffset: 42, payloadCaptured: 28, payloadLength: 28,
    }));
  });

  it('time exceeded quoting TCP', () => {
    // IP 198.51.100.1 > 10.0.0.2: ICMP time exceeded in-transit, length 36
    //   IP (tos 0x0, ttl 1, id 9, offset 0, flags [none], proto TCP (6), length 40)
    //   10.0.0.2.40001 > 192.0.2.9.443:  [|tcp]
    const f = hex(`
      0200000000020200000000010800
      45000038000100004001468ec63364010a000002
      0b0056fe00000000
      45000028000900000106edbc0a000002c0000209
      9c4101bb00000005`);
    const d = decode(f, ETHERNET);
    expect(d).toEqual(expected({
      ...addrs('198.51.100.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 56, ipProto: 1, fragId: 1, l4Offset: 34,
      hasPorts: true, srcPort: 11, dstPort: 0, icmpType: 11, icmpCode: 0,
      quotedValid: true, quotedProto: 6, ...quotedAddrs('10.0.0.2', '192.0.2.9'), quotedSrcPort: 40001, quotedDstPort: 443,
      payloadOffset: 42, payloadCaptured: 28, payloadLength: 28,
    }));
  });

  it('quote edge cases: too short for ports, a later fragment, an echo request, not IPv4', () => {
    const base = hex(`
      0200000000020200000000010800
      45000038000100004001aeb9c00002090a000002
      03030dfc00000000
      45000021000900004011aeb80a000002c0000209
      9c40829a000dd018`);
    // cut after 2 bytes of UDP: addresses known, ports not
    const short = decode(patch(base.subarray(0, 64), 16, 0, 50), ETHERNET);
    expect([short.status, short.quotedValid, short.quotedProto, short.quotedSrc3, short.quotedSrcPort]).toEqual([
      DecodeStatus.Ok, false, 17, 0x0a000002, 0,
    ]);
    // quoted packet is a later fragment (offset 8): no ports
    const later = decode(patch(base, 48, 0x00, 0x01), ETHERNET);
    expect([later.quotedValid, later.quotedProto, later.quotedSrcPort]).toEqual([false, 17, 0]);
    // quoted ICMP echo request: its identifier
    const echo = decode(patch(base, 51, 1, 0, 0, 0x0a, 0, 0, 2, 0xc0, 0, 2, 9, 8, 0, 0, 0, 0x12, 0x34, 0, 1), ETHERNET);
    expect([echo.quotedValid, echo.quotedProto, echo.quotedSrcPort, echo.quotedDstPort]).toEqual([true, 1, 0x1234, 0x1234]);
    // quoted bytes that are not IPv4
    const junk = decode(patch(base, 42, 0x60), ETHERNET);
    expect([junk.status, junk.quotedValid, junk.quotedProto, junk.quotedSrc3]).toEqual([DecodeStatus.Ok, false, 0, 0]);
  });

  it('rejects a header shorter than 8 bytes', () => {
    // IP total length 27: a 7-byte ICMP message
    const d = decode(hex('4500001b00010000400166da0a0000010a000002 08000000123400'), 101);
    expect([d.status, d.anomaly, d.hasPorts]).toEqual([DecodeStatus.Malformed, Anomaly.truncated_icmp_header, false]);
    const f = hex('4500002000010000400166da0a0000010a000002 080006f412340007 70696e67');
    const t = decode(f.subarray(0, 24), 101, { origLen: 32 });
    expect([t.status, t.anomaly]).toEqual([DecodeStatus.Truncated, Anomaly.truncated_icmp_header]);
  });
});

describe('ICMPv6', () => {
  it('echo reply', () => {
    // IP6 (hlim 64, next-header ICMPv6 (58) payload length: 8) 2001:db8::1 > 2001:db8::2: [icmp6 sum ok] ICMP6, echo reply, id 48879, seq 1
    const f = hex(`
      02000000000202000000000186dd
      6000000000083a4020010db800000000000000000000000120010db8000000000000000000000002
      81006457beef0001`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('2001:db8::1', '2001:db8::2'),
      etherType: 0x86dd, l3Offset: 14, ipLength: 48, ipProto: 58, l4Offset: 54,
      hasPorts: true, srcPort: 0xbeef, dstPort: 0xbeef, icmpType: 129, icmpCode: 0,
      payloadOffset: 62, payloadCaptured: 0, payloadLength: 0,
    }));
  });

  it('port unreachable quoting IPv6 + Destination Options + TCP', () => {
    // IP6 (hlim 64, next-header ICMPv6 (58) payload length: 76) 2001:db8::9 > 2001:db8::2: [icmp6 sum ok]
    // ICMP6, destination unreachable, unreachable port, 2001:db8::9 tcp port 443
    const f = hex(`
      02000000000202000000000186dd
      60000000004c3a4020010db800000000000000000000000920010db8000000000000000000000002
      0104ffb100000000
      60000000001c3c4020010db800000000000000000000000220010db8000000000000000000000009
      0600010400000000
      9c4201bb00000000000000005002ffffb6680000`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('2001:db8::9', '2001:db8::2'),
      etherType: 0x86dd, l3Offset: 14, ipLength: 116, ipProto: 58, l4Offset: 54,
      hasPorts: true, srcPort: 1, dstPort: 4, icmpType: 1, icmpCode: 4,
      quotedValid: true, quotedProto: 6, ...quotedAddrs('2001:db8::2', '2001:db8::9'), quotedSrcPort: 40002, quotedDstPort: 443,
      payloadOffset: 62, payloadCaptured: 68, payloadLength: 68,
    }));
  });

  it('other types use type/code as ports (router solicitation); a short header is truncated_icmpv6_header', () => {
    const rs = hex(`
      6000000000083aff fe800000000000000000000000000001 ff020000000000000000000000000002
      85007bb800000000`);
    const d = decode(rs, 229);
    expect([d.status, d.srcPort, d.dstPort, d.icmpType, d.quotedValid]).toEqual([DecodeStatus.Ok, 133, 0, 133, false]);
    const short = decode(patch(rs, 4, 0, 4), 229);
    expect([short.status, short.anomaly]).toEqual([DecodeStatus.Malformed, Anomaly.truncated_icmpv6_header]);
  });
});
