import { describe, expect, it } from 'vitest';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex, patch } from './helpers.js';

const ETHERNET = 1;

// IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto SCTP (132), length 52)
//     10.0.0.1.2905 > 10.0.0.2.2906: sctp (1) [INIT] [init tag: 1] [rwnd: 65536] [OS: 10] [MIS: 65535] [init TSN: 1]
const INIT = hex(`
  0200000000020200000000010800
  4500003400010000408466430a0000010a000002
  0b590b5a000000008ae83a86
  010000140000000100010000000affff00000001`);

describe('SCTP', () => {
  it('decodes the common header ports; the chunks are the payload', () => {
    expect(decode(INIT, ETHERNET)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 14, ipLength: 52, ipProto: 132, fragId: 1, l4Offset: 34,
      hasPorts: true, srcPort: 2905, dstPort: 2906,
      payloadOffset: 46, payloadCaptured: 20, payloadLength: 20,
    }));
  });

  it('rejects a common header cut by the capture or by the IP length', () => {
    const cut = decode(INIT.subarray(0, 45), ETHERNET, { origLen: INIT.length });
    expect([cut.status, cut.anomaly, cut.hasPorts]).toEqual([DecodeStatus.Truncated, Anomaly.truncated_sctp_header, false]);
    const short = decode(patch(INIT, 16, 0, 31), ETHERNET);
    expect([short.status, short.anomaly, short.hasPorts]).toEqual([DecodeStatus.Malformed, Anomaly.truncated_sctp_header, false]);
  });
});
