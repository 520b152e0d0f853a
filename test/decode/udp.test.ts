import { describe, expect, it } from 'vitest';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex, patch } from './helpers.js';

const RAW = 101;

// IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 4
const UDP = hex(`
  4500002000010000401166ca0a0000010a000002
  9c400035000c8a97
  61626364`);
const FIELDS = {
  ...addrs('10.0.0.1', '10.0.0.2'),
  etherType: 0x0800, ipLength: 32, ipProto: 17, fragId: 1, l4Offset: 20,
  hasPorts: true, srcPort: 40000, dstPort: 53,
  payloadOffset: 28, payloadCaptured: 4, payloadLength: 4,
};

describe('UDP', () => {
  it('decodes ports and payload', () => {
    expect(decode(UDP, RAW)).toEqual(expected(FIELDS));
  });

  it('a length shorter than the IP payload bounds the payload', () => {
    expect(decode(patch(UDP, 24, 0, 10), RAW)).toEqual(expected({ ...FIELDS, payloadCaptured: 2, payloadLength: 2 }));
  });

  it('length > IP payload: udp_length_gt_ip_payload, ports kept (tshark counts the conversation too)', () => {
    expect(decode(patch(UDP, 24, 0, 40), RAW)).toEqual(expected({
      ...FIELDS, anomaly: Anomaly.udp_length_gt_ip_payload, payloadCaptured: 4, payloadLength: 32,
    }));
  });

  it('length < 8: udp_length_too_small, Malformed, no ports (tshark stops there too)', () => {
    const d = decode(patch(UDP, 24, 0, 4), RAW);
    expect(d).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      status: DecodeStatus.Malformed, anomaly: Anomaly.udp_length_too_small,
      etherType: 0x0800, ipLength: 32, ipProto: 17, fragId: 1, l4Offset: 20,
    }));
  });

  it('a header cut by the capture is Truncated; an IP payload under 8 bytes is Malformed', () => {
    expect(decode(UDP.subarray(0, 25), RAW, { origLen: 32 }).anomaly).toBe(Anomaly.truncated_udp_header);
    expect(decode(UDP.subarray(0, 25), RAW, { origLen: 32 }).status).toBe(DecodeStatus.Truncated);
    const short = decode(patch(UDP.subarray(0, 27), 2, 0, 27), RAW);
    expect([short.status, short.anomaly]).toEqual([DecodeStatus.Malformed, Anomaly.truncated_udp_header]);
  });

  it('length 0 over IPv6 is a jumbogram: the IP payload length counts', () => {
    // IP6 2001:db8::1.5353 > 2001:db8::2.5353: UDP, length 1 (length field 0)
    const f = hex(`
      600000000009114020010db800000000000000000000000120010db8000000000000000000000002
      14e914e900000d95
      6d`);
    const d = decode(f, RAW);
    expect([d.status, d.anomaly, d.srcPort, d.payloadLength, d.payloadCaptured]).toEqual([DecodeStatus.Ok, 0, 5353, 1, 1]);
    // ... over IPv4 it is simply too small
    expect(decode(patch(UDP, 24, 0, 0), RAW).anomaly).toBe(Anomaly.udp_length_too_small);
  });
});
