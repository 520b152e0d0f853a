import { describe, expect, it } from 'vitest';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex } from './helpers.js';

const RAW = 101;
const IPV4 = 228;
const IPV6 = 229;

// IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 0
const V4_UDP = hex(`
  4500001c00010000401166ce0a0000010a000002
  9c40003500084f66`);
const V4_FIELDS = expected({
  ...addrs('10.0.0.1', '10.0.0.2'),
  etherType: 0x0800, l3Offset: 0, ipLength: 28, ipProto: 17, fragId: 1, l4Offset: 20,
  hasPorts: true, srcPort: 40000, dstPort: 53, payloadOffset: 28,
});

// IP6 2001:db8::1.443 > 2001:db8::2.50000: Flags [S.], cksum 0x8b62 (correct), seq 7, ack 1001, win 65535, length 0
const V6_TCP = hex(`
  600000000014064020010db800000000000000000000000120010db8000000000000000000000002
  01bbc35000000007000003e95012ffff8b620000`);
const V6_FIELDS = expected({
  ...addrs('2001:db8::1', '2001:db8::2'),
  etherType: 0x86dd, l3Offset: 0, ipLength: 60, ipProto: 6, l4Offset: 40,
  hasPorts: true, srcPort: 443, dstPort: 50000, tcpFlags: 0x12, tcpSeq: 7, tcpAck: 1001, payloadOffset: 60,
});

describe('raw IP link types', () => {
  it('LINKTYPE_RAW picks IPv4 or IPv6 by the version nibble', () => {
    expect(decode(V4_UDP, RAW)).toEqual(V4_FIELDS);
    expect(decode(V6_TCP, RAW)).toEqual(V6_FIELDS);
  });

  it('LINKTYPE_IPV4 / LINKTYPE_IPV6 fix the version', () => {
    expect(decode(V4_UDP, IPV4)).toEqual(V4_FIELDS);
    expect(decode(V6_TCP, IPV6)).toEqual(V6_FIELDS);
    expect(decode(V6_TCP, IPV4)).toEqual(expected({
      status: DecodeStatus.Malformed, anomaly: Anomaly.ipv4_bad_version, etherType: 0x0800,
    }));
    // (padded to 40 bytes so that the version, not the length, is what fails)
    expect(decode(new Uint8Array([...V4_UDP, ...new Uint8Array(12)]), IPV6)).toEqual(expected({
      status: DecodeStatus.Malformed, anomaly: Anomaly.ipv6_bad_version, etherType: 0x86dd,
    }));
  });

  it('LINKTYPE_RAW with another version nibble is raw_ip_bad_version', () => {
    const f = Uint8Array.from(V4_UDP);
    f[0] = 0x55;
    expect(decode(f, RAW)).toEqual(expected({ status: DecodeStatus.Malformed, anomaly: Anomaly.raw_ip_bad_version }));
  });

  it('an empty raw frame is truncated_link_header', () => {
    expect(decode(new Uint8Array(0), RAW, { origLen: 40 })).toEqual(expected({
      status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_link_header, truncated: true,
    }));
  });

  it('masks the pcap link-type field to its low 16 bits (FCS bits above)', () => {
    expect(decode(V4_UDP, 0x30000000 | RAW)).toEqual(V4_FIELDS);
  });

  it('reports an unknown link type as NotIp / unsupported_link_type', () => {
    expect(decode(V4_UDP, 147)).toEqual(expected({ status: DecodeStatus.NotIp, anomaly: Anomaly.unsupported_link_type }));
  });
});
