import { describe, expect, it } from 'vitest';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex } from './helpers.js';

const LINUX_SLL2 = 276;

describe('Linux cooked capture v2 (SLL2)', () => {
  it('decodes IPv6/UDP', () => {
    // ifb0 In IP6 (hlim 64, next-header UDP (17) payload length: 12) 2001:db8::1.40000 > 2001:db8::2.53: [udp sum ok] UDP, length 4
    const f = hex(`
      86dd 0000 00000002 0001 00 06 0200000000010000
      60000000000c114020010db800000000000000000000000120010db8000000000000000000000002
      9c400035000c4325
      61626364`);
    expect(decode(f, LINUX_SLL2)).toEqual(expected({
      ...addrs('2001:db8::1', '2001:db8::2'),
      etherType: 0x86dd, l3Offset: 20, ipLength: 52, ipProto: 17, l4Offset: 60,
      hasPorts: true, srcPort: 40000, dstPort: 53,
      payloadOffset: 68, payloadCaptured: 4, payloadLength: 4,
    }));
  });

  it('rejects a short header, Truncated when snaplen-cut', () => {
    expect(decode(hex('86dd 0000 00000002 0001 00 06 02000000'), LINUX_SLL2, { origLen: 100 })).toEqual(expected({
      status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_sll2_header, truncated: true,
    }));
  });
});
