/**
 * Port accounting for the coverage report: exact per unknown server port (flows, packets, bytes,
 * payload kinds) against the flow log, documented ports seen by the port the rules matched on, and
 * the same data whatever the number of worker threads.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { busiestUnknownPorts, EMPTY_PORT_STATS, mergePortStats, PortStats, portStatsData, unknownPortCount, unknownPortList, type UnknownPortStats } from '../../src/pipeline/port-stats.js';
import type { Classification } from '../../src/classify/types.js';
import type { ClassifiedFlow } from '../../src/pipeline/results.js';
import { options, runPipeline } from './helpers.js';

const FLEET = fileURLToPath(new URL('../../fixtures/captures/fleet.pcap', import.meta.url));
const DEMO = fileURLToPath(new URL('../../fixtures/captures/demo.pcap', import.meta.url));

describe('PortStats', () => {
  it('unknown server ports agree with the flow log, and worker counts do not matter', async () => {
    const runs = [];
    for (const w of [0, 1, 3]) runs.push(await runPipeline(FLEET, options(w)));
    // Rows come in the order each engine met the ports; their content is the same.
    for (const run of runs.slice(1)) {
      expect(unknownPortList(run.result.ports)).toEqual(unknownPortList(runs[0]!.result.ports));
      expect(run.result.ports.seenPorts).toEqual(runs[0]!.result.ports.seenPorts);
      expect(run.result.ports.seenIcmpRules).toEqual(runs[0]!.result.ports.seenIcmpRules);
    }
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
    const unknownPorts = unknownPortList(ports);
    expect(new Map(unknownPorts.map((u) => [`${u.transport}/${u.port}`, { flows: u.flows, packets: u.packets, bytes: u.bytes }]))).toEqual(byPort);
    const payload = Object.fromEntries(unknownPorts.map((u) => [`${u.transport}/${u.port}`, u.payload]));
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
    expect(none.result.ports).toEqual(EMPTY_PORT_STATS);
  });

  it('merging sums counters and payload kinds and unites seen ports', () => {
    const a = portStatsData({ tcp: [80, 443], udp: [], sctp: [] }, ['x.icmp'], [{ transport: 'tcp', port: 7000, flows: 1, packets: 4, bytes: 400, payload: { resp: 1 } }]);
    const b = portStatsData({ tcp: [22, 443], udp: [53], sctp: [] }, [], [
      { transport: 'udp', port: 9, flows: 1, packets: 1, bytes: 60, payload: { none: 1 } },
      { transport: 'tcp', port: 7000, flows: 3, packets: 6, bytes: 600, payload: { http: 1, none: 1, unrecognised: 1 } },
    ]);
    const merged = mergePortStats([a, b]);
    expect(merged.seenPorts).toEqual({ tcp: [22, 80, 443], udp: [53], sctp: [] });
    expect(merged.seenIcmpRules).toEqual(['x.icmp']);
    // By transport (tcp, udp, sctp), then port; payload: protocols by name, then unrecognised, then none.
    expect(unknownPortList(merged)).toEqual([
      { transport: 'tcp', port: 7000, flows: 4, packets: 10, bytes: 1000, payload: { http: 1, resp: 1, unrecognised: 1, none: 1 } },
      { transport: 'udp', port: 9, flows: 1, packets: 1, bytes: 60, payload: { none: 1 } },
    ]);
    expect(JSON.stringify(unknownPortList(merged)[0]!.payload)).toBe('{"http":1,"resp":1,"unrecognised":1,"none":1}');
  });

  // The end of a flow flood lists tens of thousands of unknown ports: as objects they were the run's
  // peak memory (bench/README.md, "Memory"), so the data stays in typed arrays.
  it('hands unknown ports over as numbers, not one object per port', () => {
    const stats = new PortStats();
    const unknown: Classification = { service: null, verdict: 'unknown', ambiguous: false, candidates: [], basis: 'none', evidence: {}, exposure: null };
    for (let port = 1000; port < 41000; port++) stats.add(port % 3 === 0 ? 17 : 6, port, 50000, unknown, port % 1000 === 0 ? 'http' : null, 2, port, port % 2);
    const d = stats.toData();
    for (const t of ['tcp', 'udp', 'sctp'] as const) {
      expect(d.unknown[t].ports).toBeInstanceOf(Int32Array);
      expect(d.unknown[t].counts).toBeInstanceOf(Float64Array);
    }
    expect(d.unknownProtocols).toBeInstanceOf(Float64Array);
    expect(d.protocolNames).toEqual(['http']);
    expect(unknownPortCount(d)).toBe(40000);
    expect(busiestUnknownPorts(d, 3).map((u) => `${u.transport}/${u.port} ${JSON.stringify(u.payload)}`)).toEqual([
      'tcp/40999 {"unrecognised":1}', 'udp/40998 {"none":1}', 'tcp/40997 {"unrecognised":1}',
    ]);
    expect(busiestUnknownPorts(d, 1)[0]).toEqual({ transport: 'tcp', port: 40999, flows: 1, packets: 2, bytes: 40999, payload: { unrecognised: 1 } });
    expect(unknownPortList(d).find((u) => u.port === 40000)!.payload).toEqual({ http: 1 });
  });

  it('property: busiest is the head of a full sort by bytes, flows, transport name and port', () => {
    // Counters are compared by their 32-bit halves: byte counts from small to 2^53, equal in one
    // half and not the other, and many ties in every field the order uses.
    const bytes = fc.oneof(
      fc.integer({ min: 0, max: 5 }),
      fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 33, 3 * 2 ** 32, 2 ** 53 - 1),
      fc.maxSafeNat(),
    );
    const row = fc.record({
      transport: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
      port: fc.integer({ min: 0, max: 65535 }),
      flows: fc.integer({ min: 1, max: 3 }),
      bytes,
    });
    fc.assert(
      fc.property(fc.uniqueArray(row, { selector: (r) => `${r.transport}/${r.port}`, maxLength: 60 }), fc.integer({ min: 0, max: 70 }), (list, n) => {
        const unknown: UnknownPortStats[] = list.map((r) => ({ ...r, packets: 1, payload: { none: r.flows } }));
        const d = portStatsData({ tcp: [], udp: [], sctp: [] }, [], unknown);
        const sorted = [...unknown].sort(
          (a, b) => b.bytes - a.bytes || b.flows - a.flows || (a.transport < b.transport ? -1 : a.transport > b.transport ? 1 : 0) || a.port - b.port,
        );
        expect(busiestUnknownPorts(d, n)).toEqual(sorted.slice(0, n));
      }),
      { numRuns: 300 },
    );
  });
});
