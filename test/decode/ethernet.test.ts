import { describe, expect, it } from 'vitest';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex } from './helpers.js';

const ETHERNET = 1;

describe('Ethernet II', () => {
  it('decodes IPv4/TCP and excludes nothing but the headers from the payload', () => {
    // IP 10.0.0.1.1234 > 10.0.0.2.80: Flags [S], cksum 0x4eff (correct), seq 1000:1005, win 65535, length 5
    const f = hex(`
      020000000002 020000000001 0800
      4500002d00010000400666c80a0000010a000002
      04d20050000003e8000000005002ffff4eff0000
      68656c6c6f`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 45, ipProto: 6, fragId: 1, l4Offset: 34,
      hasPorts: true, srcPort: 1234, dstPort: 80, tcpFlags: 0x02, tcpSeq: 1000,
      payloadOffset: 54, payloadCaptured: 5, payloadLength: 5,
    }));
  });

  it('keeps Ethernet padding out of the payload (IP total length decides)', () => {
    // IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 4 (frame padded to 60 bytes)
    const f = hex(`
      0200000000020200000000010800
      4500002000010000401166ca0a0000010a000002
      9c400035000c8a97
      61626364
      0000000000000000000000000000`);
    expect(f.length).toBe(60);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 32, ipProto: 17, fragId: 1, l4Offset: 34,
      hasPorts: true, srcPort: 40000, dstPort: 53,
      payloadOffset: 42, payloadCaptured: 4, payloadLength: 4,
    }));
  });

  it('decodes IPv4 carried in 802.3 + LLC/SNAP (length field instead of EtherType)', () => {
    // 802.3 length 36, LLC AA AA 03, SNAP OUI 000000 type 0800, IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 0
    const f = hex(`
      020000000002 020000000001 0024
      aaaa03 000000 0800
      4500001c00010000401166ce0a0000010a000002
      9c40003500084f66`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 22, ipLength: 28, ipProto: 17, fragId: 1, l4Offset: 42,
      hasPorts: true, srcPort: 40000, dstPort: 53,
      payloadOffset: 50, payloadCaptured: 0, payloadLength: 0,
    }));
  });

  it('reports ARP as NotIp / non_ip_ethertype with its EtherType', () => {
    // ARP, Ethernet (len 6), IPv4 (len 4), Request who-has 10.0.0.2 tell 10.0.0.1, length 28
    const f = hex(`
      ffffffffffff0200000000010806
      00010800060400010200000000010a0000010000000000000a000002`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      status: DecodeStatus.NotIp, anomaly: Anomaly.non_ip_ethertype, l3Offset: 14, etherType: 0x0806,
    }));
  });

  it('reports non-SNAP LLC (spanning tree) as NotIp', () => {
    // 802.3 length 38, LLC 42 42 03: STP BPDU
    const f = hex(`0180c2000000 020000000001 0026 424203 0000000000000000000000000000000000000000000000000000000000000000000000`);
    expect(decode(f, ETHERNET)).toEqual(expected({ status: DecodeStatus.NotIp, anomaly: Anomaly.non_ip_ethertype }));
  });

  it('distinguishes a snaplen-cut header (Truncated) from a short complete frame (Malformed)', () => {
    const f = hex('020000000002 020000000001 08');
    expect(decode(f, ETHERNET, { origLen: 60 })).toEqual(expected({
      status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_ethernet_header, truncated: true,
    }));
    expect(decode(f, ETHERNET)).toEqual(expected({
      status: DecodeStatus.Malformed, anomaly: Anomaly.truncated_ethernet_header,
    }));
  });
});
