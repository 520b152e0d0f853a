/**
 * Port accounting for the coverage report: exact per unknown server port (flows, packets, bytes,
 * payload kinds) against the flow log, documented ports seen by the port the rules matched on, and
 * the same data whatever the number of worker threads.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mergePortStats } from '../../src/pipeline/port-stats.js';
import type { ClassifiedFlow } from '../../src/pipeline/results.js';
import { options, runPipeline } from './helpers.js';

const FLEET = fileURLToPath(new URL('../../fixtures/captures/fleet.pcap', import.meta.url));
const DEMO = fileURLToPath(new URL('../../fixtures/captures/demo.pcap', import.meta.url));

describe('PortStats', () => {
  it('unknown server ports agree with the flow log, and worker counts do not matter', async () => {
    const runs = [];
    for (const w of [0, 1, 3]) runs.push(await runPipeline(FLEET, options(w)));
    expect(runs[1]!.result.ports).toEqual(runs[0]!.result.ports);
    expect(runs[2]!.result.ports).toEqual(runs[0]!.result.ports);
    const flows = runs[0]!.flows.map((l) => JSON.parse(l) as ClassifiedFlow);
    const unknown = flows.filter((f) => f.verdict === 'unknown' && f.candidates!.length === 0);
    const byPort = new Map<string, { flows: number; packets: number; bytes: number }>();
    for (const f of unknown) {
      const k = `${f.transport}/${f.server.port}`;
      const e = byPort.get(k) ?? { flows: 0, packets: 0, bytes: 0 };
      e.flows++;
      e.packets += f.packets!.toServer + f.packets!.toClient;
      e.bytes += f.bytes!.toServer + f.bytes!.toClient;
      byPort.set(k, e);
    }
    const ports = runs[0]!.result.ports;
    expect(new Map(ports.unknown.map((u) => [`${u.transport}/${u.port}`, { flows: u.flows, packets: u.packets, bytes: u.bytes }]))).toEqual(byPort);
    const payload = Object.fromEntries(ports.unknown.map((u) => [`${u.transport}/${u.port}`, u.payload]));
    expect(payload['tcp/7000']).toEqual({ resp: 22 });
    expect(payload['tcp/9000']).toEqual({ grpc: 1 });
    expect(payload['tcp/22']).toEqual({ unrecognised: 1 });
    expect(payload['udp/8125']).toEqual({ unrecognised: 3 });
    // Documented ports: the matched (server) ports of classified flows, nothing else.
    const classified = new Set(flows.filter((f) => f.candidates!.length > 0 && f.transport === 'tcp').map((f) => (f.basis === 'client-port' ? f.client.port : f.server.port)));
    expect(ports.seenPorts.tcp).toEqual([...classified].sort((a, b) => a - b));
  });

  it('ICMP rules are seen by id; --no-rules accounts nothing', async () => {
    const demo = await runPipeline(DEMO, options(0));
    expect(demo.result.ports.seenIcmpRules).toEqual(['redis-enterprise.node-connectivity']);
    expect(demo.result.ports.seenPorts.udp).toEqual([53, 5353]);
    const none = await runPipeline(DEMO, options(0, { classification: null }));
    expect(none.result.ports).toEqual({ seenPorts: { tcp: [], udp: [], sctp: [] }, seenIcmpRules: [], unknown: [] });
  });

  it('merging sums counters and payload kinds and unites seen ports', () => {
    const a = { seenPorts: { tcp: [80, 443], udp: [], sctp: [] }, seenIcmpRules: ['x.icmp'], unknown: [{ transport: 'tcp' as const, port: 7000, flows: 1, packets: 4, bytes: 400, payload: { resp: 1 } }] };
    const b = { seenPorts: { tcp: [22, 443], udp: [53], sctp: [] }, seenIcmpRules: [], unknown: [{ transport: 'tcp' as const, port: 7000, flows: 2, packets: 6, bytes: 600, payload: { none: 1, unrecognised: 1 } }] };
    expect(mergePortStats([a, b])).toEqual({
      seenPorts: { tcp: [22, 80, 443], udp: [53], sctp: [] },
      seenIcmpRules: ['x.icmp'],
      unknown: [{ transport: 'tcp', port: 7000, flows: 3, packets: 10, bytes: 1000, payload: { resp: 1, unrecognised: 1, none: 1 } }],
    });
  });
});
