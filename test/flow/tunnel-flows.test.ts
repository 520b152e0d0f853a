/**
 * Flows inside tunnels (flow/table.ts, tunnel-store.ts): real frames through the decoder's levels
 * into one FlowTable. The same inner 5-tuple in two VNIs is two flows, the two directions of one
 * tunnelled conversation are one (even when per-direction ids differ), ids tell levels apart, the
 * record's `tunnel` list is oriented client -> server, inner fragments find their flow, and a packet
 * inside a tunnel is never counted as an unattributed frame.
 */
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/decode/decoder.js';
import type { DecodedPacket } from '../../src/decode/types.js';
import { describeFlow, type FlowRecord } from '../../src/flow/record.js';
import { FlowTable } from '../../src/flow/table.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import * as T from '../../fixtures/gen/tunnel-builder.js';

interface Run {
  table: FlowTable;
  flows: FlowRecord[];
}

/** Every level of every frame into a table (records by end order; the whole frame length as bytes). */
function run(frames: Uint8Array[], maxFlows = 1024): Run {
  const table = new FlowTable({ maxFlows, idleTimeout: 60, activeTimeout: 0 });
  const flows: FlowRecord[] = [];
  table.setObserver({ flowStarted: () => {}, payload: () => {}, flowEnded: (slot, reason) => flows.push(describeFlow(table, slot, reason)) });
  const dec = new PacketDecoder();
  frames.forEach((f, i) => {
    for (let p: DecodedPacket | null = dec.decode(f, 0, f.length, f.length, 1); p !== null; p = dec.next()) {
      if (p.ipVersion !== 0 && p.status !== 3) table.process(p, i, 1_700_000_000 + i, 0, f.length, f);
    }
  });
  table.flush();
  return { table, flows: flows.sort((a, b) => a.id - b.id) };
}

const tcp = (src: string, dst: string, sport: number, dport: number, flags: string) => B.ipv4Tcp({ src, dst, sport, dport, flags });
const vx = (vni: number, src: string, dst: string, inner: Uint8Array, sport = 50000) => T.vxlanFrame({ src, dst, sport, vni }, inner);

describe('flows inside tunnels', () => {
  it('outer and inner flow per VXLAN conversation; the same inner 5-tuple in another VNI is another flow (the outer flow is the same)', () => {
    const syn = tcp('10.0.0.1', '10.0.0.2', 40000, 6379, 'S');
    const synAck = tcp('10.0.0.2', '10.0.0.1', 6379, 40000, 'SA');
    const { flows } = run([
      vx(1, '192.168.0.1', '192.168.0.2', syn),
      vx(1, '192.168.0.2', '192.168.0.1', synAck, 50001),
      vx(2, '192.168.0.1', '192.168.0.2', syn),
    ]);
    expect(flows.map((f) => [f.id, f.transport, f.client.port, f.server.port, f.packets!.toServer, f.packets!.toClient, f.tunnel?.[0]?.id ?? null])).toEqual([
      [0, 'udp', 50000, 4789, 2, 0, null],
      [0.1, 'tcp', 40000, 6379, 1, 1, 1],
      [1, 'udp', 50001, 4789, 1, 0, null],
      [2.1, 'tcp', 40000, 6379, 1, 0, 2],
    ]);
    // The frame, whole, in every flow it contains (as tshark's conversation tables).
    const len = vx(1, '192.168.0.1', '192.168.0.2', syn).length;
    expect(flows.filter((f) => f.id === 0 || f.id === 0.1).map((f) => f.bytes!.toServer)).toEqual([2 * len, len]);
  });

  it('PPTP call ids and GTP-U TEIDs differ per direction: still one inner flow', () => {
    const q = B.ipv4Packet({ src: '172.16.44.3', dst: '8.8.8.8' }, 17, B.udpDatagram({ sport: 40768, dport: 53, payload: 'q' }));
    const r = B.ipv4Packet({ src: '8.8.8.8', dst: '172.16.44.3' }, 17, B.udpDatagram({ sport: 53, dport: 40768, payload: 'r' }));
    const gre = (src: string, dst: string, call: number, p: Uint8Array) => T.greFrame({ src, dst, gre: { protocol: 0x880b, version: 1, key: call } }, T.pppFrame(0x21, p));
    const gtp = (src: string, dst: string, teid: number, p: Uint8Array) => T.udpTunnelFrame({ src, dst, sport: 2152, dport: 2152 }, T.gtpu({ teid }, p), new Uint8Array(0));
    for (const [a, b] of [[gre('16.0.0.200', '192.52.166.154', 6016, q), gre('192.52.166.154', '16.0.0.200', 17, r)], [gtp('1.1.1.1', '2.2.2.2', 5, q), gtp('2.2.2.2', '1.1.1.1', 9, r)]] as const) {
      const inner = run([a, b]).flows.filter((f) => f.transport === 'udp' && f.server.port === 53);
      expect(inner.map((f) => [f.packets!.toServer, f.packets!.toClient])).toEqual([[1, 1]]);
    }
  });

  it('the tunnel list is oriented client -> server when the first packet came from the server', () => {
    const synAck = tcp('10.0.0.2', '10.0.0.1', 6379, 40000, 'SA');
    const { flows } = run([vx(7, '192.168.0.2', '192.168.0.1', synAck)]);
    const inner = flows.find((f) => f.transport === 'tcp')!;
    expect([inner.client.ip, inner.server.ip]).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(inner.tunnel).toEqual([{ type: 'vxlan', id: 7, outer: { src: '192.168.0.1', dst: '192.168.0.2' } }]);
  });

  it('MPLS and PPPoE flows (no outer flow): MAC endpoints; plain packets of the same 5-tuple join the MPLS flow', () => {
    const d = B.ipv4Packet({ src: '65.65.65.65', dst: '65.65.65.66' }, 6, B.tcpSegment({ sport: 1000, dport: 80, flags: 'S' }));
    const back = B.ipv4Packet({ src: '65.65.65.66', dst: '65.65.65.65' }, 6, B.tcpSegment({ sport: 80, dport: 1000, flags: 'SA' }));
    const { flows } = run([
      B.frame(B.concat(T.mplsStack([16, 99]), d), { etherType: 0x8847, srcMac: '02:00:00:00:00:0a', dstMac: '02:00:00:00:00:0b' }),
      B.frame(back), // penultimate-hop popping: the other direction arrives unlabelled
    ]);
    expect(flows.map((f) => [f.id, f.packets!.toServer, f.packets!.toClient, f.tunnel])).toEqual([
      [0, 1, 1, [{ type: 'mpls', id: 99, outer: { src: '02:00:00:00:00:0a', dst: '02:00:00:00:00:0b' } }]],
    ]);
    const pppoe = run([B.frame(T.pppoeSession(0x2d, 0x21, d), { etherType: 0x8864 }), B.frame(T.pppoeSession(0x2e, 0x21, d), { etherType: 0x8864 })]).flows;
    expect(pppoe.map((f) => f.tunnel?.[0]?.id)).toEqual([0x2d, 0x2e]);
  });

  it('IP fragments inside a tunnel reach their flow; the same fragment id outside the tunnel does not', () => {
    const big = B.ipv4Packet({ src: '10.1.0.1', dst: '10.1.0.2', id: 77 }, 17, B.udpDatagram({ sport: 53, dport: 5000, payload: new Uint8Array(300) }));
    const [first, second] = B.fragmentIpv4(big, 200);
    const { flows, table } = run([
      T.ipInIpFrame({ src: '192.168.0.1', dst: '192.168.0.2' }, first!),
      B.frame(second!), // plain: no first fragment seen outside the tunnel
      T.ipInIpFrame({ src: '192.168.0.1', dst: '192.168.0.2' }, second!),
    ]);
    const inner = flows.find((f) => f.transport === 'udp')!;
    expect([inner.id, inner.packets!.toServer + inner.packets!.toClient]).toEqual([0.1, 2]);
    expect(table.unattributed).toBe(1);
  });

  it('a packet inside a tunnel whose transport header is cut is not an unattributed frame', () => {
    const f = vx(1, '192.168.0.1', '192.168.0.2', tcp('10.0.0.1', '10.0.0.2', 1, 2, 'S'));
    const { flows, table } = run([f.subarray(0, f.length - 10)]);
    expect(flows.map((x) => x.transport)).toEqual(['udp']);
    expect(table.unattributed).toBe(0);
  });

  it('encapsulation records are recycled with their flows (a small table, many tunnelled flows)', () => {
    const frames = Array.from({ length: 3000 }, (_, i) => vx(i % 50, '192.168.0.1', '192.168.0.2', tcp(`10.0.${i >> 8}.${i & 255}`, '10.9.9.9', 1000 + i, 80, 'S')));
    const { flows } = run(frames, 64);
    const inner = flows.filter((f) => f.transport === 'tcp');
    expect(inner).toHaveLength(3000);
    expect(inner.every((f) => f.tunnel!.length === 1 && f.tunnel![0]!.id === (f.client.port - 1000) % 50)).toBe(true);
  });
});
