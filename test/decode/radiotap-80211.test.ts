import { describe, expect, it } from 'vitest';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex, patch } from './helpers.js';

const IEEE802_11 = 105;
const RADIOTAP = 127;

// tshark: 10.0.0.1 → 10.0.0.2 UDP 40000 → 53 Len=1 (radiotap Flags: FCS at end; QoS Data, ToDS; FCS 0xf8e9710c)
const RT_FCS_UDP = hex(`
  00000c00 02000000 10 000000
  8801 0000 0200000000aa 020000000001 020000000002 0000 0000
  aaaa030000000800
  4500001d00010000401166cd0a0000010a000002
  9c4000350009de63
  71
  0c71e9f8`);

describe('radiotap + 802.11', () => {
  it('decodes a QoS data frame and drops the FCS the radiotap flags announce', () => {
    expect(decode(RT_FCS_UDP, RADIOTAP)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 46, ipLength: 29, ipProto: 17, fragId: 1, l4Offset: 66,
      hasPorts: true, srcPort: 40000, dstPort: 53,
      payloadOffset: 74, payloadCaptured: 1, payloadLength: 1,
    }));
  });

  it('decodes a 4-address QoS data frame carrying IPv6', () => {
    // tshark: 2001:db8::1 → 2001:db8::2 TCP 5 → 6 [SYN] (QoS Data, ToDS+FromDS: 4 addresses)
    const f = hex(`
      00000c00 02000000 00 000000
      8803 0000 0200000000aa 020000000001 020000000002 0000 000000000000 0000
      aaaa0300000086dd
      600000000014064020010db800000000000000000000000120010db8000000000000000000000002
      0005000600000000000000005002ffff54630000`);
    expect(decode(f, RADIOTAP)).toEqual(expected({
      ...addrs('2001:db8::1', '2001:db8::2'),
      etherType: 0x86dd, l3Offset: 52, ipLength: 60, ipProto: 6, l4Offset: 92,
      hasPorts: true, srcPort: 5, dstPort: 6, tcpFlags: 0x02,
      payloadOffset: 112, payloadCaptured: 0, payloadLength: 0,
    }));
  });

  it('skips the HT Control field of a +HTC QoS frame (Order bit)', () => {
    // tshark: 2001:db8::1 → 2001:db8::2 TCP 5 → 6 [SYN] (QoS Data +HTC, ToDS+FromDS)
    const f = hex(`
      00000c00 02000000 00 000000
      8883 0000 0200000000aa 020000000001 020000000002 0000 000000000000 0000 00000000
      aaaa0300000086dd
      600000000014064020010db800000000000000000000000120010db8000000000000000000000002
      0005000600000000000000005002ffff54630000`);
    const d = decode(f, RADIOTAP);
    expect([d.status, d.l3Offset, d.srcPort, d.dstPort]).toEqual([DecodeStatus.Ok, 56, 5, 6]);
  });

  it('locates Flags after TSFT (8-byte aligned) and honours the data-pad flag', () => {
    // radiotap len 24: present = TSFT|Flags, TSFT at 8, Flags 0x20 (data pad) at 16; QoS data header
    // 26 bytes padded to 28.
    const f = hex(`
      00001800 03000000 0000000000000000 20 00000000000000
      8801 0000 0200000000aa 020000000001 020000000002 0000 0000 0000
      aaaa030000000800
      4500001c00010000401166ce0a0000010a000002
      9c40003500084f66`);
    const d = decode(f, RADIOTAP);
    expect([d.status, d.l3Offset, d.srcPort, d.dstPort]).toEqual([DecodeStatus.Ok, 24 + 28 + 8, 40000, 53]);
  });

  it('walks chained present words (bit 31) before the fields', () => {
    const f = hex(`
      00001000 02000080 00000000 10 000000
      8801 0000 0200000000aa 020000000001 020000000002 0000 0000
      aaaa030000000800
      4500001c00010000401166ce0a0000010a000002
      9c40003500084f66
      00000000`);
    const d = decode(f, RADIOTAP);
    expect([d.status, d.l3Offset, d.payloadOffset]).toEqual([DecodeStatus.Ok, 16 + 26 + 8, 16 + 26 + 8 + 28]);
  });

  it('rejects a bad radiotap header', () => {
    expect(decode(patch(RT_FCS_UDP, 0, 1), RADIOTAP)).toEqual(expected({
      status: DecodeStatus.Malformed, anomaly: Anomaly.radiotap_bad_header,
    }));
    expect(decode(patch(RT_FCS_UDP, 2, 4), RADIOTAP).anomaly).toBe(Anomaly.radiotap_bad_header);
    // present words chained forever (every word has bit 31): bounded, then rejected
    const chain = hex('0000 4000' + '000000ff'.repeat(15));
    expect(decode(chain, RADIOTAP).anomaly).toBe(Anomaly.radiotap_bad_header);
  });

  it('rejects a radiotap length beyond the captured bytes', () => {
    expect(decode(RT_FCS_UDP.subarray(0, 10), RADIOTAP, { origLen: RT_FCS_UDP.length })).toEqual(expected({
      status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_radiotap_header, truncated: true,
    }));
    expect(decode(RT_FCS_UDP.subarray(0, 6), RADIOTAP).anomaly).toBe(Anomaly.truncated_radiotap_header);
  });

  it('keeps the last 4 bytes when the frame is snaplen-cut (they are not the FCS then)', () => {
    const d = decode(RT_FCS_UDP.subarray(0, 75), RADIOTAP, { origLen: RT_FCS_UDP.length });
    expect([d.status, d.truncated, d.payloadCaptured]).toEqual([DecodeStatus.Ok, true, 1]);
  });
});

describe('802.11 without radiotap', () => {
  // tshark: 10.0.0.1 → 10.0.0.2 UDP 40000 → 53 Len=0 (Data, ToDS, not QoS)
  const WLAN_UDP = hex(`
    0801 0000 0200000000aa 020000000001 020000000002 0000
    aaaa030000000800
    4500001c00010000401166ce0a0000010a000002
    9c40003500084f66`);

  it('decodes a plain data frame', () => {
    expect(decode(WLAN_UDP, IEEE802_11)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 32, ipLength: 28, ipProto: 17, fragId: 1, l4Offset: 52,
      hasPorts: true, srcPort: 40000, dstPort: 53, payloadOffset: 60,
    }));
  });

  it('reports management, control and null-data frames as ieee80211_non_data_frame', () => {
    const beacon = patch(WLAN_UDP, 0, 0x80, 0x00);
    const ack = hex('d400 0000 020000000001'); // control: 10 bytes is the whole frame
    const nullData = patch(WLAN_UDP, 0, 0x48, 0x01);
    const qosNull = patch(WLAN_UDP, 0, 0xc8, 0x01);
    for (const f of [beacon, ack, nullData, qosNull]) {
      expect(decode(f, IEEE802_11)).toEqual(expected({ status: DecodeStatus.NotIp, anomaly: Anomaly.ieee80211_non_data_frame }));
    }
  });

  it('reports protected frames as ieee80211_protected_frame', () => {
    expect(decode(patch(WLAN_UDP, 1, 0x41), IEEE802_11)).toEqual(expected({
      status: DecodeStatus.NotIp, anomaly: Anomaly.ieee80211_protected_frame,
    }));
  });

  it('rejects a cut MAC header and a body that is not LLC/SNAP', () => {
    expect(decode(WLAN_UDP.subarray(0, 20), IEEE802_11).anomaly).toBe(Anomaly.truncated_ieee80211_header);
    expect(decode(WLAN_UDP.subarray(0, 1), IEEE802_11).anomaly).toBe(Anomaly.truncated_ieee80211_header);
    expect(decode(patch(WLAN_UDP, 24, 0xe0, 0xe0), IEEE802_11)).toEqual(expected({
      status: DecodeStatus.NotIp, anomaly: Anomaly.non_ip_ethertype,
    }));
    expect(decode(WLAN_UDP.subarray(0, 29), IEEE802_11, { origLen: 60 })).toEqual(expected({
      status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_link_header, truncated: true,
    }));
  });

  it('decodes the first subframe of an A-MSDU', () => {
    const f = hex(`
      8801 0000 0200000000aa 020000000001 020000000002 0000 8000
      020000000002 020000000001 0024
      aaaa030000000800
      4500001c00010000401166ce0a0000010a000002
      9c40003500084f66`);
    const d = decode(f, IEEE802_11);
    expect([d.status, d.l3Offset, d.srcPort]).toEqual([DecodeStatus.Ok, 26 + 14 + 8, 40000]);
  });
});
