import { describe, expect, it } from 'vitest';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { addrs, decode, expected, hex, patch } from './helpers.js';

const PKTAP = 258;

// PKTAP header: pth_length 108, pth_type_next 1 (packet), pth_dlt 1 (Ethernet), ifname "en0",
// protocol family 2, frame pre-length 14, the rest zero.
const PKTAP_HEADER = '6c000000 01000000 01000000 656e3000' + '00'.repeat(24) + '02000000 0e000000' + '00'.repeat(60);

// IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 0
const ETH_UDP = `
  0200000000020200000000010800
  4500001c00010000401166ce0a0000010a000002
  9c40003500084f66`;

describe('Apple PKTAP', () => {
  it('decodes the inner Ethernet frame', () => {
    expect(decode(hex(PKTAP_HEADER + ETH_UDP), PKTAP)).toEqual(expected({
      ...addrs('10.0.0.1', '10.0.0.2'),
      etherType: 0x0800, l3Offset: 122, ipLength: 28, ipProto: 17, fragId: 1, l4Offset: 142,
      hasPorts: true, srcPort: 40000, dstPort: 53, payloadOffset: 150,
    }));
  });

  it('accepts a big-endian header and maps DLT_RAW (12) to raw IP', () => {
    const be = patch(hex(PKTAP_HEADER + ETH_UDP.slice(ETH_UDP.indexOf('4500'))), 0, 0, 0, 0, 108, 0, 0, 0, 1, 0, 0, 0, 12);
    const d = decode(be, PKTAP);
    expect([d.status, d.l3Offset, d.srcPort]).toEqual([DecodeStatus.Ok, 108, 40000]);
  });

  it('rejects a header length below 108 bytes', () => {
    const f = patch(hex(PKTAP_HEADER + ETH_UDP), 0, 20);
    expect(decode(f, PKTAP)).toEqual(expected({ status: DecodeStatus.Malformed, anomaly: Anomaly.pktap_bad_header }));
  });

  it('rejects a header cut by the capture', () => {
    expect(decode(hex(PKTAP_HEADER).subarray(0, 60), PKTAP, { origLen: 150 })).toEqual(expected({
      status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_pktap_header, truncated: true,
    }));
    expect(decode(hex('6c000000'), PKTAP).anomaly).toBe(Anomaly.truncated_pktap_header);
  });

  it('reports non-packet records, unknown inner DLTs and PKTAP inside PKTAP as unsupported', () => {
    for (const f of [
      patch(hex(PKTAP_HEADER + ETH_UDP), 4, 0), // pth_type_next = 0
      patch(hex(PKTAP_HEADER + ETH_UDP), 8, 147), // inner DLT 147 (user-defined)
      patch(hex(PKTAP_HEADER + PKTAP_HEADER + ETH_UDP), 8, 2, 1), // inner DLT 258
    ]) {
      const d = decode(f, PKTAP);
      expect([d.status, d.anomaly]).toEqual([DecodeStatus.NotIp, Anomaly.unsupported_link_type]);
    }
  });
});
