import { describe, expect, it } from 'vitest';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex } from './helpers.js';

const NULL = 0;
const LOOP = 108;

// IP6 (hlim 64, next-header UDP (17) payload length: 9) 2001:db8::1.5353 > 2001:db8::2.5353: [udp sum ok] UDP, length 1
const IPV6_UDP = `
  600000000009114020010db800000000000000000000000120010db8000000000000000000000002
  14e914e900090d95
  6d`;

const IPV6_UDP_FIELDS = {
  ...addrs('2001:db8::1', '2001:db8::2'),
  etherType: 0x86dd, l3Offset: 4, ipLength: 49, ipProto: 17, l4Offset: 44,
  hasPorts: true, srcPort: 5353, dstPort: 5353,
  payloadOffset: 52, payloadCaptured: 1, payloadLength: 1,
};

describe('BSD NULL loopback (host byte order)', () => {
  it('decodes AF_INET written little-endian', () => {
    // IP 10.0.0.1.1234 > 10.0.0.2.6379: Flags [S], cksum 0x7e23 (correct), seq 0, win 65535, length 0
    const f = hex(`
      02000000
      4500002800010000400666cd0a0000010a000002
      04d218eb00000000000000005002ffff7e230000`);
    expect(decode(f, NULL)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 4, ipLength: 40, ipProto: 6, fragId: 1, l4Offset: 24,
      hasPorts: true, srcPort: 1234, dstPort: 6379, tcpFlags: 0x02,
      payloadOffset: 44, payloadCaptured: 0, payloadLength: 0,
    }));
  });

  it.each([
    ['AF_INET6 28 (FreeBSD) big-endian', '0000001c'],
    ['AF_INET6 28 (FreeBSD) little-endian', '1c000000'],
    ['AF_INET6 30 (macOS) little-endian', '1e000000'],
    ['AF_INET6 24 (NetBSD/OpenBSD) big-endian', '00000018'],
  ])('decodes IPv6 with %s', (_name, af) => {
    expect(decode(hex(af + IPV6_UDP), NULL)).toEqual(expected(IPV6_UDP_FIELDS));
  });

  it('rejects an unknown family (AF 10 is Linux AF_INET6, never in DLT_NULL)', () => {
    expect(decode(hex('0a000000' + IPV6_UDP), NULL)).toEqual(expected({
      status: DecodeStatus.NotIp, anomaly: Anomaly.unknown_null_family, l3Offset: 4,
    }));
  });

  it('rejects a header shorter than 4 bytes', () => {
    expect(decode(hex('020000'), NULL).anomaly).toBe(Anomaly.truncated_null_header);
  });
});

describe('OpenBSD LOOP (network byte order)', () => {
  it('decodes AF_INET6 24 big-endian', () => {
    expect(decode(hex('00000018' + IPV6_UDP), LOOP)).toEqual(expected(IPV6_UDP_FIELDS));
  });

  it('does not accept little-endian values', () => {
    expect(decode(hex('18000000' + IPV6_UDP), LOOP).anomaly).toBe(Anomaly.unknown_null_family);
  });

  it('rejects a short header', () => {
    expect(decode(hex('0000'), LOOP, { origLen: 60 })).toEqual(expected({
      status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_null_header, truncated: true,
    }));
  });
});
