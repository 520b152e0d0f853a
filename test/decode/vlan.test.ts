import { describe, expect, it } from 'vitest';
import { DecodeStatus, MAX_VLAN_DEPTH } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex } from './helpers.js';

const ETHERNET = 1;

describe('802.1Q / 802.1ad VLAN tags', () => {
  it('decodes one 802.1Q tag', () => {
    // ethertype 802.1Q (0x8100), length 50: vlan 100, p 0, ethertype IPv4 (0x0800), 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 4
    const f = hex(`
      020000000002020000000001
      81000064
      0800
      4500002000010000401166ca0a0000010a000002
      9c400035000c8a97
      61626364`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      vlanCount: 1, vlanOuter: 100,
      etherType: 0x0800, l3Offset: 18, ipLength: 32, ipProto: 17, fragId: 1, l4Offset: 38,
      hasPorts: true, srcPort: 40000, dstPort: 53,
      payloadOffset: 46, payloadCaptured: 4, payloadLength: 4,
    }));
  });

  it('decodes QinQ (802.1ad outer, 802.1Q inner) and ignores PCP bits', () => {
    // ethertype 802.1Q-QinQ (0x88a8), length 64: vlan 100, p 5, ethertype 802.1Q (0x8100), vlan 200, p 5,
    // ethertype IPv4 (0x0800), 10.0.0.1.1234 > 10.0.0.2.80: Flags [P.], seq 1:3, ack 2, win 65535, length 2
    const f = hex(`
      020000000002020000000001
      88a8a064
      8100a0c8
      0800
      4500002a00010000400666cb0a0000010a000002
      04d2005000000001000000025018ffff2e3a0000
      6869`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      vlanCount: 2, vlanOuter: 100, vlanInner: 200,
      etherType: 0x0800, l3Offset: 22, ipLength: 42, ipProto: 6, fragId: 1, l4Offset: 42,
      hasPorts: true, srcPort: 1234, dstPort: 80, tcpFlags: 0x18, tcpSeq: 1, tcpAck: 2,
      payloadOffset: 62, payloadCaptured: 2, payloadLength: 2,
    }));
  });

  it('accepts the pre-standard 0x9100 outer TPID and VLAN id 0 (priority tag)', () => {
    const f = hex(`
      020000000002020000000001
      9100 0fff
      8100 2000
      0800
      4500001c00010000401166ce0a0000010a000002
      9c40003500084f66`);
    const d = decode(f, ETHERNET);
    expect([d.status, d.vlanCount, d.vlanOuter, d.vlanInner, d.srcPort]).toEqual([DecodeStatus.Ok, 2, 4095, 0, 40000]);
  });

  it(`stops after ${MAX_VLAN_DEPTH} tags: vlan_depth_exceeded, NotIp, the decoded tags kept`, () => {
    const f = hex(`
      020000000002020000000001
      88a8 0001 8100 0002 8100 0003
      0800
      4500001c00010000401166ce0a0000010a000002
      9c40003500084f66`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      status: DecodeStatus.NotIp, anomaly: Anomaly.vlan_depth_exceeded,
      vlanCount: 2, vlanOuter: 1, vlanInner: 2, l3Offset: 14,
    }));
  });

  it('a cut tag: Truncated when snaplen-cut, Malformed when the frame is complete', () => {
    const f = hex('020000000002020000000001 8100 00');
    expect(decode(f, ETHERNET, { origLen: 64 })).toEqual(expected({
      status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_vlan_header, truncated: true, l3Offset: 14,
    }));
    expect(decode(f, ETHERNET).status).toBe(DecodeStatus.Malformed);
  });
});
