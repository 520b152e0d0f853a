import { describe, expect, it } from 'vitest';
import { MAX_MPLS_LABELS } from '../../src/decode/mpls.js';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { decodeLevels, hex, patch } from './helpers.js';
import { innerTcp, withoutStack } from './tunnel-expect.js';
import { INNER_IP, TUNNEL_FRAMES } from './tunnel-frames.js';

const ETHERNET = 1;
const innerIp = hex(INNER_IP);
const inner6 = B.ipv6Packet({ src: 'fd00::1', dst: 'fd00::2' }, 17, B.udpDatagram({ sport: 7, dport: 8 }));
const mpls = (labels: readonly number[], payload: Uint8Array, o: B.LinkOptions = {}): Uint8Array => B.frame(B.concat(T.mplsStack(labels), payload), { etherType: 0x8847, ...o });

describe('MPLS label stacks (RFC 3032)', () => {
  it('two labels in 802.1Q: one flow packet (level 0) with the VLAN, one mpls entry (bottom label), no flow-key context', () => {
    const levels = decodeLevels(TUNNEL_FRAMES.mpls, ETHERNET);
    expect(levels).toHaveLength(1);
    expect(withoutStack(levels[0]!)).toEqual(innerTcp(26, { level: 0, tunnelDepth: 1, tunnelContext: 0, vlanCount: 1, vlanOuter: 10 }));
    expect(levels[0]!.stack).toEqual([{ type: 'mpls', id: 200, outer: '02:00:00:00:00:01 > 02:00:00:00:00:02' }]);
  });

  it(`stacks of 1 to ${MAX_MPLS_LABELS} labels; deeper: mpls_label_stack_too_deep`, () => {
    for (let n = 1; n <= MAX_MPLS_LABELS; n++) {
      const labels = Array.from({ length: n }, (_, i) => 16 + i);
      const [p] = decodeLevels(mpls(labels, innerIp), ETHERNET);
      expect([n, p!.status, p!.srcPort, p!.stack[0]!.id]).toEqual([n, DecodeStatus.Ok, 40000, 16 + n - 1]);
    }
    const deep = decodeLevels(mpls(Array.from({ length: MAX_MPLS_LABELS + 1 }, () => 16), innerIp), ETHERNET);
    expect(deep.map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.NotIp, Anomaly.mpls_label_stack_too_deep]]);
  });

  it('IPv6 payload by its first nibble, also after the IPv6 explicit-null label (2), and the multicast EtherType', () => {
    expect(decodeLevels(mpls([2], inner6), ETHERNET)[0]!.srcPort).toBe(7);
    expect(decodeLevels(mpls([1000], inner6, { etherType: 0x8848 }), ETHERNET)[0]!.srcPort).toBe(7);
  });

  it('Ethernet pseudowires, with control word and without', () => {
    const [p] = decodeLevels(TUNNEL_FRAMES.mplsPseudowire, ETHERNET);
    expect(withoutStack(p!)).toEqual(innerTcp(36, { level: 0, tunnelDepth: 1, tunnelContext: 0 }));
    const noCw = decodeLevels(mpls([300], B.frame(innerIp, { dstMac: 'a2:00:00:00:00:02', vlan: [5] })), ETHERNET);
    expect([noCw[0]!.srcPort, noCw[0]!.vlanOuter]).toEqual([40000, 5]);
  });

  it('an associated channel (first nibble 1) or an unrecognisable payload: mpls_unknown_payload', () => {
    expect(decodeLevels(mpls([13], hex('10000000 00000000')), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.mpls_unknown_payload]);
    expect(decodeLevels(mpls([13], new Uint8Array(40).fill(0x77)), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.mpls_unknown_payload]);
  });

  it('a cut label: truncated_mpls_header; --decap off: not IP (non_ip_ethertype), as before', () => {
    expect(decodeLevels(TUNNEL_FRAMES.mpls, ETHERNET, { capLen: 20 }).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.Truncated, Anomaly.truncated_mpls_header]]);
    expect(decodeLevels(TUNNEL_FRAMES.mpls.subarray(0, 20), ETHERNET).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.Malformed, Anomaly.truncated_mpls_header]]);
    expect(decodeLevels(TUNNEL_FRAMES.mpls, ETHERNET, { decap: { mode: 'off' } }).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.NotIp, Anomaly.non_ip_ethertype]]);
    // The id is the bottom label: 0x000d8 after this patch.
    expect(decodeLevels(patch(TUNNEL_FRAMES.mpls, 23, 0x0d), ETHERNET)[0]!.stack[0]!.id).toBe(0xd8);
  });
});
