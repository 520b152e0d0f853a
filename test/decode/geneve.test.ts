import { describe, expect, it } from 'vitest';
import { InnerKind, TunnelType } from '../../src/decode/tunnel.js';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { decodeLevels, patch } from './helpers.js';
import { context, innerTcp, innerUdp6, withoutStack } from './tunnel-expect.js';
import { TUNNEL_FRAMES } from './tunnel-frames.js';

const ETHERNET = 1;

describe('Geneve (RFC 8926)', () => {
  it('skips an 8-byte option and opens the Ethernet payload (VNI 0x123)', () => {
    const [outer, inner] = decodeLevels(TUNNEL_FRAMES.geneve, ETHERNET);
    expect([outer!.dstPort, outer!.innerKind, outer!.innerOffset]).toEqual([6081, InnerKind.Ethernet, 58]);
    expect(withoutStack(inner!)).toEqual(innerTcp(72, { tunnelContext: context(TunnelType.GENEVE, 0x123) }));
    expect(inner!.stack).toEqual([{ type: 'geneve', id: 0x123, outer: '192.168.1.1 > 192.168.1.2' }]);
  });

  it('carries IPv6 directly (protocol 0x86dd)', () => {
    const [, inner] = decodeLevels(TUNNEL_FRAMES.geneveIpv6, ETHERNET);
    expect(withoutStack(inner!)).toEqual(innerUdp6(50, { tunnelContext: context(TunnelType.GENEVE, 7) }));
  });

  it('options of any length up to the 252-byte maximum are skipped by length', () => {
    const inner = B.ipv4Udp({ src: '10.1.0.1', dst: '10.1.0.2', sport: 1, dport: 2 });
    for (const words of [0, 1, 31, 32, 63]) {
      // Each option is at most 32 words (a 5-bit length of data words): split into several.
      const parts: Uint8Array[] = [];
      for (let left = words; left > 0; left -= Math.min(left, 32)) parts.push(T.geneveOption(0xffff, parts.length, new Uint8Array((Math.min(left, 32) - 1) * 4)));
      const opts = B.concat(...parts);
      const f = T.geneveFrame({ src: '1.1.1.1', dst: '2.2.2.2', vni: 9, options: opts }, inner);
      const levels = decodeLevels(f, ETHERNET);
      expect([words, levels.length, levels[1]?.srcPort, levels[1]?.l3Offset]).toEqual([words, 2, 1, 14 + 20 + 8 + 8 + words * 4 + 14]);
    }
  });

  it('options running past the captured bytes: truncated_geneve_header, nothing opened', () => {
    const f = patch(TUNNEL_FRAMES.geneve, 42, 0x3f); // 63 words of options
    const levels = decodeLevels(f, ETHERNET);
    expect(levels.map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.Ok, Anomaly.truncated_geneve_header]]);
  });

  it('version 1 and unknown protocol types are not opened', () => {
    expect(decodeLevels(patch(TUNNEL_FRAMES.geneve, 42, 0x42), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.geneve_bad_version]);
    expect(decodeLevels(patch(TUNNEL_FRAMES.geneve, 44, 0x89, 0x4f), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.geneve_unknown_protocol]);
  });
});
