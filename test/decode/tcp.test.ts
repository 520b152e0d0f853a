import { describe, expect, it } from 'vitest';
import { DecodeStatus, FragmentKind, TcpFlag } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex, patch } from './helpers.js';

const ETHERNET = 1;

// IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto TCP (6), length 49)
//     10.0.0.1.50000 > 10.0.0.2.443: Flags [S.], cksum 0xb306 (correct), seq 4294967280:4294967281,
//     ack 2147483649, win 65535, options [mss 1460,nop,wscale 7], length 1
const SYNACK = hex(`
  0200000000020200000000010800
  4500003100010000400666c40a0000010a000002
  c35001bbfffffff0800000017012ffffb3060000020405b401030307
  78`);

const FIELDS = {
  ...addrs('10.0.0.1', '10.0.0.2'),
  etherType: 0x0800, l3Offset: 14, ipLength: 49, ipProto: 6, fragId: 1, l4Offset: 34,
  hasPorts: true, srcPort: 50000, dstPort: 443,
  tcpFlags: TcpFlag.SYN | TcpFlag.ACK, tcpSeq: 0xfffffff0 | 0, tcpAck: 0x80000001 | 0, // int32, as the decoder keeps them
  payloadOffset: 62, payloadCaptured: 1, payloadLength: 1,
};

describe('TCP', () => {
  it('decodes ports, flags, 32-bit seq/ack (as int32) and skips options by data offset', () => {
    expect(decode(SYNACK, ETHERNET)).toEqual(expected(FIELDS));
  });

  it('reads every flag bit', () => {
    const d = decode(patch(SYNACK, 47, 0xff), ETHERNET);
    expect(d.tcpFlags).toBe(0xff);
  });

  it('options cut by the capture: Ok, payload offset clamped, nothing captured', () => {
    const d = decode(SYNACK.subarray(0, 60), ETHERNET, { origLen: SYNACK.length });
    expect(d).toEqual(expected({ ...FIELDS, truncated: true, payloadOffset: 60, payloadCaptured: 0 }));
  });

  it('the fixed header cut by the capture: Truncated / truncated_tcp_header, IP fields kept', () => {
    const ip = {
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 49, ipProto: 6, fragId: 1, l4Offset: 34,
    };
    expect(decode(SYNACK.subarray(0, 53), ETHERNET, { origLen: SYNACK.length })).toEqual(expected({
      ...ip, status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_tcp_header, truncated: true,
    }));
  });

  it('rejects a segment shorter than 20 bytes per the IP header (Malformed, no ports)', () => {
    const f = patch(SYNACK, 16, 0, 20 + 19); // IP total length 39
    const d = decode(f, ETHERNET);
    expect([d.status, d.anomaly, d.hasPorts, d.srcPort]).toEqual([DecodeStatus.Malformed, Anomaly.truncated_tcp_header, false, 0]);
  });

  it('rejects data offset < 5 (tcp_data_offset_too_small) and > segment (tcp_data_offset_gt_segment)', () => {
    const small = decode(patch(SYNACK, 46, 0x40), ETHERNET);
    expect([small.status, small.anomaly, small.hasPorts, small.ipProto]).toEqual([DecodeStatus.Malformed, Anomaly.tcp_data_offset_too_small, false, 6]);
    const big = decode(patch(SYNACK, 46, 0xf0), ETHERNET);
    expect([big.status, big.anomaly, big.hasPorts]).toEqual([DecodeStatus.Malformed, Anomaly.tcp_data_offset_gt_segment, false]);
  });

  it('a first fragment must hold the whole header with options (RFC 1858 tiny fragments)', () => {
    // MF set, total length 48: 28 bytes of TCP in this fragment, but the data offset says 32
    const f = patch(SYNACK.subarray(0, 62), 16, 0, 48, 0, 1, 0x20, 0, 64, 6, 0, 0);
    const d = decode(patch(f, 46, 0x80), ETHERNET);
    expect([d.status, d.anomaly, d.fragment, d.hasPorts]).toEqual([
      DecodeStatus.Malformed, Anomaly.ip_fragment_too_small_for_ports, FragmentKind.First, false,
    ]);
    // 16 bytes of TCP in a first fragment: not even the fixed header
    const g = decode(patch(SYNACK.subarray(0, 50), 16, 0, 36, 0, 1, 0x20, 0, 64, 6, 0, 0), ETHERNET);
    expect([g.status, g.anomaly, g.hasPorts]).toEqual([DecodeStatus.Malformed, Anomaly.ip_fragment_too_small_for_ports, false]);
    // ... and a whole header in a first fragment is fine
    const h = decode(patch(f, 46, 0x50), ETHERNET);
    expect([h.status, h.fragment, h.srcPort, h.payloadLength]).toEqual([DecodeStatus.Ok, FragmentKind.First, 50000, 8]);
  });
});
