import { describe, expect, it } from 'vitest';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex } from './helpers.js';

const LINUX_SLL = 113;

describe('Linux cooked capture v1 (SLL)', () => {
  it('decodes IPv4/UDP', () => {
    // In 02:00:00:00:00:01 ethertype IPv4 (0x0800), IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 4
    const f = hex(`
      0000 0001 0006 0200000000010000 0800
      4500002000010000401166ca0a0000010a000002
      9c400035000c8a97
      61626364`);
    expect(decode(f, LINUX_SLL)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 16, ipLength: 32, ipProto: 17, fragId: 1, l4Offset: 36,
      hasPorts: true, srcPort: 40000, dstPort: 53,
      payloadOffset: 44, payloadCaptured: 4, payloadLength: 4,
    }));
  });

  it('follows a re-inserted VLAN tag (protocol 0x8100)', () => {
    const f = hex(`
      0000 0001 0006 0200000000010000 8100
      002a 0800
      4500001c00010000401166ce0a0000010a000002
      9c40003500084f66`);
    const d = decode(f, LINUX_SLL);
    expect([d.status, d.vlanCount, d.vlanOuter, d.l3Offset, d.srcPort]).toEqual([DecodeStatus.Ok, 1, 42, 20, 40000]);
  });

  it('follows ETH_P_802_2 (0x0004) into LLC/SNAP', () => {
    const f = hex(`
      0000 0001 0006 0200000000010000 0004
      aaaa03 000000 0800
      4500001c00010000401166ce0a0000010a000002
      9c40003500084f66`);
    const d = decode(f, LINUX_SLL);
    expect([d.status, d.etherType, d.l3Offset, d.dstPort]).toEqual([DecodeStatus.Ok, 0x0800, 24, 53]);
  });

  it('rejects a short header', () => {
    expect(decode(hex('0000 0001 0006 0200000000010000'), LINUX_SLL)).toEqual(expected({
      status: DecodeStatus.Malformed, anomaly: Anomaly.truncated_sll_header,
    }));
  });
});
