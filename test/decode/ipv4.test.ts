import { describe, expect, it } from 'vitest';
import { DecodeStatus, FragmentKind } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex, patch } from './helpers.js';

const ETHERNET = 1;
const RAW = 101;
const LINKTYPE_IPV4 = 228;

// IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 28)
//     10.0.0.1.40000 > 10.0.0.2.53: UDP, length 0
const UDP = hex(`
  4500001c00010000401166ce0a0000010a000002
  9c40003500084f66`);

describe('IPv4', () => {
  it('skips options by IHL', () => {
    // IP (tos 0x0, ttl 1, id 1, offset 0, flags [none], proto TCP (6), length 44, options (RA))
    //     10.0.0.1.1234 > 10.0.0.2.80: Flags [S], cksum 0x96be (correct), seq 0, win 65535, length 0
    const f = hex(`
      0200000000020200000000010800
      4600002c00010000010610c50a0000010a00000294040000
      04d2005000000000000000005002ffff96be0000`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 44, ipProto: 6, fragId: 1, l4Offset: 38,
      hasPorts: true, srcPort: 1234, dstPort: 80, tcpFlags: 0x02,
      payloadOffset: 58, payloadCaptured: 0, payloadLength: 0,
    }));
  });

  it('decodes the transport header of a first fragment (MF set, offset 0)', () => {
    // IP (tos 0x0, ttl 64, id 16962, offset 0, flags [+], proto UDP (17), length 44)
    //     10.0.0.1.40000 > 10.0.0.2.53: UDP, length 40 (first 16 bytes of data in this fragment)
    const f = hex(`
      0200000000020200000000010800
      4500002c424220004011047d0a0000010a000002
      9c4000350030e5ac
      78787878787878787878787878787878`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 44, ipProto: 17, l4Offset: 34,
      fragment: FragmentKind.First, fragId: 0x4242, fragOffset: 0,
      hasPorts: true, srcPort: 40000, dstPort: 53,
      payloadOffset: 42, payloadCaptured: 16, payloadLength: 16, // the fragment's own data
    }));
  });

  it('does not look for ports in a later fragment', () => {
    // IP (tos 0x0, ttl 64, id 16962, offset 24, flags [none], proto UDP (17), length 44)
    //     10.0.0.1 > 10.0.0.2: ip-proto-17
    const f = hex(`
      0200000000020200000000010800
      4500002c424200034011247a0a0000010a000002
      787878787878787878787878787878787878787878787878`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 44, ipProto: 17, l4Offset: 34,
      fragment: FragmentKind.Later, fragId: 0x4242, fragOffset: 24,
      payloadOffset: 34, payloadCaptured: 24, payloadLength: 24,
    }));
  });

  it('rejects a first fragment too short for the transport header (as tshark: no ports)', () => {
    // 4-byte first fragment of a UDP datagram (fragments carry multiples of 8 bytes: never legitimate)
    const f = hex('4500001800072000401166ca0a0000010a000002 9c400035');
    expect(decode(f, RAW)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      status: DecodeStatus.Malformed, anomaly: Anomaly.ip_fragment_too_small_for_ports,
      etherType: 0x0800, ipLength: 24, ipProto: 17, l4Offset: 20, fragment: FragmentKind.First, fragId: 7,
    }));
  });

  it('takes a total length of 0 (TCP segmentation offload) as "fills the frame"', () => {
    const f = patch(UDP, 2, 0, 0);
    const d = decode(f, RAW);
    expect([d.status, d.anomaly, d.ipLength, d.srcPort]).toEqual([DecodeStatus.Ok, 0, 28, 40000]);
    // ... the frame's original length when the capture cut it (UDP's own length still bounds its payload)
    const g = decode(new Uint8Array([...f, 1, 2, 3, 4]), RAW, { capLen: 30, origLen: 1500 });
    expect([g.status, g.anomaly, g.ipLength, g.payloadLength, g.payloadCaptured]).toEqual([DecodeStatus.Ok, 0, 1500, 0, 0]);
  });

  it('a snaplen-cut datagram is not malformed: ports read, payload partly captured', () => {
    const f = hex(`
      0200000000020200000000010800
      4500002c424220004011047d0a0000010a000002
      9c4000350030e5ac
      787878`);
    const d = decode(f, ETHERNET, { origLen: 58 });
    expect(d).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      truncated: true,
      etherType: 0x0800, l3Offset: 14, ipLength: 44, ipProto: 17, l4Offset: 34,
      fragment: FragmentKind.First, fragId: 0x4242,
      hasPorts: true, srcPort: 40000, dstPort: 53,
      payloadOffset: 42, payloadCaptured: 3, payloadLength: 16, // the first fragment's data, 3 bytes captured
    }));
  });

  it('total length beyond a complete frame: ipv4_total_len_gt_captured, decoding goes on (as tshark)', () => {
    const f = patch(UDP, 2, 0, 100);
    expect(decode(f, RAW)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      anomaly: Anomaly.ipv4_total_len_gt_captured,
      etherType: 0x0800, ipLength: 100, ipProto: 17, fragId: 1, l4Offset: 20,
      hasPorts: true, srcPort: 40000, dstPort: 53, payloadOffset: 28,
    }));
  });

  it.each([
    ['version 5', patch(UDP, 0, 0x55), Anomaly.ipv4_bad_version],
    ['IHL 4', patch(UDP, 0, 0x44), Anomaly.ipv4_ihl_too_small],
    ['total length 19', patch(UDP, 2, 0, 19), Anomaly.ipv4_total_len_too_small],
    ['total length 20 < IHL*4 24', patch(new Uint8Array([...UDP, 0, 0, 0, 0]), 0, 0x46, 0, 0, 20), Anomaly.ipv4_ihl_gt_total_len],
    ['a 19-byte frame', UDP.subarray(0, 19), Anomaly.truncated_ipv4_header],
    ['IHL 15 with a complete 28-byte frame', patch(UDP, 0, 0x4f), Anomaly.ipv4_ihl_gt_total_len],
  ])('rejects %s as Malformed', (_name, f, anomaly) => {
    expect(decode(f, LINKTYPE_IPV4)).toEqual(expected({ status: DecodeStatus.Malformed, anomaly, etherType: 0x0800 }));
  });

  it('options cut by the capture: Truncated / truncated_ipv4_header', () => {
    const f = hex('4f00003c00010000401166ce0a0000010a000002 0101');
    expect(decode(f, RAW, { origLen: 60 })).toEqual(expected({
      status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_ipv4_header, truncated: true, etherType: 0x0800,
    }));
    // ... and the same bytes as a complete frame: the total length is the first lie
    expect(decode(f, RAW)).toEqual(expected({
      status: DecodeStatus.Malformed, anomaly: Anomaly.ipv4_total_len_gt_captured, etherType: 0x0800,
    }));
  });

  it('reports protocols without ports as Ok with unknown_ip_protocol, payload = IP payload', () => {
    // IP 10.0.0.1 > 10.0.0.2: ESP(spi=0x00000800,seq=0x0), length 4 (tunnels such as GRE are opened: tunnel tests)
    const f = hex('4500001800010000403266b90a0000010a000002 00000800');
    expect(decode(f, RAW)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      anomaly: Anomaly.unknown_ip_protocol,
      etherType: 0x0800, ipLength: 24, ipProto: 50, fragId: 1, l4Offset: 20,
      payloadOffset: 20, payloadCaptured: 4, payloadLength: 4,
    }));
  });
});
