import { describe, expect, it } from 'vitest';
import { TunnelType } from '../../src/decode/tunnel.js';
import { Anomaly } from '../../src/util/anomaly.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { decodeLevels, hex, patch } from './helpers.js';
import { context, innerTcp, withoutStack } from './tunnel-expect.js';
import { INNER_IP, TUNNEL_FRAMES } from './tunnel-frames.js';

const ETHERNET = 1;
const innerIp = hex(INNER_IP);
const gtp = (o: T.GtpuOptions, payload: Uint8Array = innerIp): Uint8Array =>
  T.udpTunnelFrame({ src: '192.168.1.1', dst: '192.168.1.2', sport: 2152, dport: 2152 }, T.gtpu(o, payload), new Uint8Array(0));

describe('GTP-U (3GPP TS 29.281)', () => {
  it('G-PDU with sequence number and a PDU session container extension: TEID as id, not in the flow key', () => {
    const [outer, inner] = decodeLevels(TUNNEL_FRAMES.gtpu, ETHERNET);
    expect(outer!.innerOffset).toBe(42 + 16);
    expect(withoutStack(inner!)).toEqual(innerTcp(58, { tunnelContext: context(TunnelType.GTP_U) }));
    expect(inner!.stack).toEqual([{ type: 'gtp-u', id: 0xabcdef, outer: '192.168.1.1 > 192.168.1.2' }]);
  });

  it('no optional fields; chains of extension headers of several lengths; IPv6 T-PDUs', () => {
    expect(decodeLevels(gtp({ teid: 1 }), ETHERNET)[1]!.l3Offset).toBe(50);
    const exts: Array<[number, number[]]> = [[0x85, [1, 2]], [0x40, [1, 2, 3, 4, 5, 6]], [0x32, new Array(20).fill(9)]];
    expect(decodeLevels(gtp({ teid: 1, extensions: exts }), ETHERNET)[1]!.l3Offset).toBe(50 + 4 + 4 + 8 + 24);
    const v6 = B.ipv6Packet({ src: 'fd00::1', dst: 'fd00::2' }, 17, B.udpDatagram({ sport: 7, dport: 8 }));
    expect(decodeLevels(gtp({ teid: 2, seq: 1 }, v6), ETHERNET)[1]!.srcPort).toBe(7);
  });

  it('signalling (echo request) carries nothing; GTPv2 and GTP prime are not GTP-U', () => {
    expect(decodeLevels(gtp({ teid: 0, type: 1, seq: 1 }, new Uint8Array(0)), ETHERNET).map((l) => l.anomaly)).toEqual([0]);
    expect(decodeLevels(gtp({ teid: 0, flags: 0x48 }), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.gtpu_bad_version]);
    expect(decodeLevels(gtp({ teid: 0, flags: 0x20 }), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.gtpu_bad_version]);
  });

  it('bad extensions (length 0, beyond the message), non-IP T-PDUs, cut headers', () => {
    expect(decodeLevels(patch(TUNNEL_FRAMES.gtpu, 54, 0), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.gtpu_bad_extension]);
    expect(decodeLevels(patch(TUNNEL_FRAMES.gtpu, 54, 40), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.gtpu_bad_extension]);
    expect(decodeLevels(gtp({ teid: 3 }, B.frame(innerIp)), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.gtpu_unknown_payload]);
    expect(decodeLevels(TUNNEL_FRAMES.gtpu, ETHERNET, { capLen: 56 }).map((l) => l.anomaly)).toEqual([Anomaly.truncated_gtpu_header]);
    expect(decodeLevels(TUNNEL_FRAMES.gtpu, ETHERNET, { capLen: 48 }).map((l) => l.anomaly)).toEqual([Anomaly.truncated_gtpu_header]);
  });
});
