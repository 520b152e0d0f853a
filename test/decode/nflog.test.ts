import { describe, expect, it } from 'vitest';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { decodeLevels, hex, patch } from './helpers.js';
import { innerTcp, withoutStack } from './tunnel-expect.js';
import { INNER_IP, TUNNEL_FRAMES } from './tunnel-frames.js';

const NFLOG = 239;
const innerIp = hex(INNER_IP);

describe('NFLOG (LINKTYPE_NFLOG 239)', () => {
  it('walks the TLVs (with padding) to the payload: a plain level-0 packet, no encapsulation entry', () => {
    const levels = decodeLevels(TUNNEL_FRAMES.nflog, NFLOG);
    expect(levels.map(withoutStack)).toEqual([innerTcp(24, { level: 0, tunnelDepth: 0 })]);
  });

  it('big-endian TLV headers, IPv6, and a family that is neither: the version nibble decides', () => {
    const v6 = B.ipv6Packet({ src: 'fd00::1', dst: 'fd00::2' }, 17, B.udpDatagram({ sport: 7, dport: 8 }));
    expect(decodeLevels(T.nflogMessage(innerIp, { bigEndian: true }), NFLOG)[0]!.srcPort).toBe(40000);
    expect(decodeLevels(T.nflogMessage(v6), NFLOG)[0]!.srcPort).toBe(7);
    expect(decodeLevels(T.nflogMessage(v6, { family: 0 }), NFLOG)[0]!.srcPort).toBe(7);
  });

  it('prefix TLVs of every length (padding 0-3 bytes) before the payload', () => {
    for (const prefix of ['', 'a', 'ab', 'abc', 'abcd', 'x'.repeat(61)]) {
      expect([prefix, decodeLevels(T.nflogMessage(innerIp, { prefix }), NFLOG)[0]!.srcPort]).toEqual([prefix, 40000]);
    }
  });

  it('rejections: version, a TLV shorter than 4, no payload TLV, a cut header', () => {
    expect(decodeLevels(patch(TUNNEL_FRAMES.nflog, 1, 1), NFLOG).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.Malformed, Anomaly.nflog_bad_header]]);
    expect(decodeLevels(patch(TUNNEL_FRAMES.nflog, 4, 2), NFLOG).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.Malformed, Anomaly.nflog_bad_header]]);
    expect(decodeLevels(TUNNEL_FRAMES.nflog.subarray(0, 20), NFLOG).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.NotIp, Anomaly.nflog_no_payload]]);
    expect(decodeLevels(TUNNEL_FRAMES.nflog, NFLOG, { capLen: 3 }).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.Truncated, Anomaly.truncated_nflog_header]]);
  });
});
