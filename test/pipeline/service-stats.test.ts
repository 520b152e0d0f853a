/**
 * ServiceStats: the per-flow path (addFlow, which resolves a shared verdict's service and counters
 * once) must total exactly what the plain path (addCounts: key string and counters looked up per
 * flow) totals, for any mix of shared (frozen) verdicts, per-flow copies of them and unclassified
 * flows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXPOSURE_STATUSES } from '../../src/classify/exposure.js';
import { VERDICTS, type Classification, type ServiceRef } from '../../src/classify/types.js';
import type { FlowTable } from '../../src/flow/table.js';
import { ServiceStats, type FlowCounts } from '../../src/pipeline/service-stats.js';

const REDIS: ServiceRef = { id: 'redis-enterprise.shards', product: 'redis-enterprise', component: 'shards' };
const DNS: ServiceRef = { id: 'redis-enterprise.dns', product: 'redis-enterprise', component: 'dns' };
const ZEEBE: ServiceRef = { id: 'zeebe.gateway-grpc', product: 'zeebe', component: 'gateway-grpc' };

/** Every verdict and exposure status, resolved, ambiguous and unknown: the verdicts a run can share. */
function sharedVerdicts(): Classification[] {
  const out: Classification[] = [];
  for (const verdict of VERDICTS) {
    for (const status of [null, ...EXPOSURE_STATUSES]) {
      const exposure = status === null ? null : { status, documented: 'internal', allowed: ['private'], client: 'private' };
      out.push({ service: REDIS, verdict, ambiguous: false, candidates: [REDIS], basis: 'server-port', evidence: {}, exposure } as unknown as Classification);
      out.push({ service: null, verdict, ambiguous: true, candidates: [DNS, ZEEBE], basis: 'server-port', evidence: {}, exposure } as unknown as Classification);
    }
    out.push({ service: null, verdict, ambiguous: false, candidates: [], basis: 'none', evidence: {}, exposure: null });
  }
  return out.map((c) => Object.freeze(c));
}

/** A flow table holding one flow per slot with the given counts (what addFlow reads of it). */
function tableOf(flows: FlowCounts[], tunnelled: boolean[]): FlowTable {
  return {
    packetsToServer: (s: number) => flows[s]!.packetsToServer,
    packetsToClient: (s: number) => flows[s]!.packetsToClient,
    bytesToServer: (s: number) => flows[s]!.bytesToServer,
    bytesToClient: (s: number) => flows[s]!.bytesToClient,
    payloadToServer: (s: number) => flows[s]!.payloadToServer,
    payloadToClient: (s: number) => flows[s]!.payloadToClient,
    tunnels: { depth: (s: number) => (tunnelled[s] ? 1 : 0), typeAt: () => 1, idAt: () => 42 },
  } as unknown as FlowTable;
}

const counts = fc.record({
  packetsToServer: fc.nat(1000),
  packetsToClient: fc.nat(1000),
  bytesToServer: fc.nat(1_000_000),
  bytesToClient: fc.nat(1_000_000),
  payloadToServer: fc.nat(100_000),
  payloadToClient: fc.nat(100_000),
});

describe('ServiceStats', () => {
  it('addFlow totals what addCounts totals, for shared verdicts, per-flow copies and unclassified flows', () => {
    const shared = sharedVerdicts();
    // A pick: a shared verdict, a copy of one with its own evidence (as with a flow log), or null.
    const pick = fc.oneof(
      fc.nat(shared.length - 1).map((i) => shared[i]!),
      fc.nat(shared.length - 1).map((i) => ({ ...shared[i]!, evidence: { protocol: 'dns' } }) as Classification),
      fc.constant(null),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(pick, counts), { maxLength: 200 }), (flows) => {
        const viaFlow = new ServiceStats();
        const viaCounts = new ServiceStats();
        const t = tableOf(flows.map(([, n]) => n), flows.map(() => false));
        flows.forEach(([c, n], slot) => {
          viaFlow.addFlow(t, slot, c);
          viaCounts.addCounts(c, n);
        });
        expect(viaFlow.list()).toEqual(viaCounts.list());
      }),
      { numRuns: 300 },
    );
  });

  it('each verdict and exposure status lands in its own counter', () => {
    const stats = new ServiceStats();
    const shared = sharedVerdicts().filter((c) => c.service === REDIS);
    const t = tableOf(shared.map(() => ({ packetsToServer: 1, packetsToClient: 2, bytesToServer: 3, bytesToClient: 4, payloadToServer: 5, payloadToClient: 6 })), shared.map(() => false));
    // Twice: the second pass goes through the remembered targets.
    for (let pass = 0; pass < 2; pass++) shared.forEach((c, slot) => stats.addFlow(t, slot, c));
    const [redis] = stats.list();
    const perVerdict = 2 * (1 + EXPOSURE_STATUSES.length);
    expect(redis!.flows).toBe(2 * shared.length);
    expect(redis!.verdicts).toEqual(Object.fromEntries(VERDICTS.map((v) => [v, perVerdict])));
    expect(redis!.exposure).toEqual(Object.fromEntries(EXPOSURE_STATUSES.map((x) => [x, 2 * VERDICTS.length])));
    expect(redis!.packets).toEqual({ toServer: 2 * shared.length, toClient: 4 * shared.length });
    expect(redis!.payloadBytes).toEqual({ toServer: 10 * shared.length, toClient: 12 * shared.length });
  });

  it('tunnelled flows add their encapsulations, through a remembered target too', () => {
    const stats = new ServiceStats();
    const [c] = sharedVerdicts();
    const n = { packetsToServer: 1, packetsToClient: 1, bytesToServer: 100, bytesToClient: 50, payloadToServer: 0, payloadToClient: 0 };
    const t = tableOf([n, n, n], [false, true, true]);
    for (let slot = 0; slot < 3; slot++) stats.addFlow(t, slot, c!);
    expect(stats.list()[0]!.encapsulations).toEqual([{ type: 'vxlan', id: 42, flows: 2, packets: 4, bytes: 300 }]);
  });
});
