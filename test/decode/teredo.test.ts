import { describe, expect, it } from 'vitest';
import { TunnelType } from '../../src/decode/tunnel.js';
import { DecodeStatus } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';
import { decodeLevels, hex } from './helpers.js';
import { context, innerUdp6, withoutStack } from './tunnel-expect.js';
import { INNER_IP6, TUNNEL_FRAMES } from './tunnel-frames.js';

const ETHERNET = 1;
const inner6 = hex(INNER_IP6);
const teredo = (indicators: Uint8Array, payload: Uint8Array = inner6, sport = 40001, dport = 3544): Uint8Array =>
  T.udpTunnelFrame({ src: '192.168.1.1', dst: '192.168.1.2', sport, dport }, indicators, payload);

describe('Teredo (RFC 4380)', () => {
  it('authentication and origin indicators, then IPv6', () => {
    const [outer, inner] = decodeLevels(TUNNEL_FRAMES.teredo, ETHERNET);
    expect([outer!.dstPort, outer!.innerOffset]).toEqual([3544, 42 + 16 + 8]);
    expect(withoutStack(inner!)).toEqual(innerUdp6(66, { tunnelContext: context(TunnelType.TEREDO) }));
    expect(inner!.stack).toEqual([{ type: 'teredo', id: null, outer: '192.168.1.1 > 192.168.1.2' }]);
  });

  it('bare IPv6, origin only, authentication only; from the server port too', () => {
    expect(decodeLevels(teredo(new Uint8Array(0)), ETHERNET)[1]!.l3Offset).toBe(42);
    expect(decodeLevels(teredo(T.teredoIndicators({ origin: { port: 1, ip: [1, 1, 1, 1] } })), ETHERNET)[1]!.l3Offset).toBe(50);
    expect(decodeLevels(teredo(T.teredoIndicators({ auth: { id: '', value: '' } })), ETHERNET)[1]!.l3Offset).toBe(55);
    expect(decodeLevels(teredo(new Uint8Array(0), inner6, 3544, 50000), ETHERNET)).toHaveLength(2);
  });

  it('not IPv6 after the indicators: teredo_bad_payload; a cut indicator: truncated_teredo_header', () => {
    const v4 = B.ipv4Packet({ src: '1.1.1.1', dst: '2.2.2.2' }, 17, B.udpDatagram({ sport: 1, dport: 2, payload: new Uint8Array(30) }));
    expect(decodeLevels(teredo(new Uint8Array(0), v4), ETHERNET).map((l) => l.anomaly)).toEqual([Anomaly.teredo_bad_payload]);
    const cut = teredo(B.concat(Uint8Array.of(0, 1, 200, 0)), new Uint8Array(20));
    expect(decodeLevels(cut, ETHERNET).map((l) => [l.status, l.anomaly])).toEqual([[DecodeStatus.Ok, Anomaly.truncated_teredo_header]]);
  });
});
