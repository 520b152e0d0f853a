/**
 * Compares portsniff's flows with tshark's conversation table (flows_5tuple of a corpus ref):
 * portsniff flows with the same 5-tuple are summed (tshark merges nothing by stream there either),
 * and packets/bytes are compared per direction, oriented as tshark's A -> B.
 */
import type { ClassifiedFlow } from '../../src/pipeline/engine.js';
import type { RefRow } from './corpus.js';

export interface Mismatch {
  key: string;
  field: string;
  ours: number | null;
  tshark: number | null;
}

function endpointKey(ip: string, port: number): string {
  return `${ip}|${port}`;
}

export function fiveTupleKey(proto: string, aIp: string, aPort: number, bIp: string, bPort: number): string {
  const a = endpointKey(aIp, aPort);
  const b = endpointKey(bIp, bPort);
  return `${proto} ${a < b ? `${a} ${b}` : `${b} ${a}`}`;
}

interface Sums {
  /** Packets/bytes sent by the lexicographically lower endpoint, and by the higher one. */
  lowPkts: number;
  highPkts: number;
  lowBytes: number;
  highBytes: number;
}

export function sumOurFlows(flows: ClassifiedFlow[]): Map<string, Sums> {
  const out = new Map<string, Sums>();
  for (const f of flows) {
    if (f.transport !== 'tcp' && f.transport !== 'udp' && f.transport !== 'sctp') continue;
    const key = fiveTupleKey(f.transport, f.client.ip, f.client.port, f.server.ip, f.server.port);
    const clientLow = endpointKey(f.client.ip, f.client.port) < endpointKey(f.server.ip, f.server.port);
    const s = out.get(key) ?? { lowPkts: 0, highPkts: 0, lowBytes: 0, highBytes: 0 };
    s.lowPkts += clientLow ? f.packets!.toServer : f.packets!.toClient;
    s.highPkts += clientLow ? f.packets!.toClient : f.packets!.toServer;
    s.lowBytes += clientLow ? f.bytes!.toServer : f.bytes!.toClient;
    s.highBytes += clientLow ? f.bytes!.toClient : f.bytes!.toServer;
    out.set(key, s);
  }
  return out;
}

/** Every tshark row must have a portsniff match with the same counts in each direction. */
export function compareWithRef(flows: ClassifiedFlow[], rows: RefRow[]): { mismatches: Mismatch[]; extraFlows: string[] } {
  const ours = sumOurFlows(flows);
  const mismatches: Mismatch[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const key = fiveTupleKey(r.proto, r.a, r.a_port, r.b, r.b_port);
    seen.add(key);
    const s = ours.get(key);
    const aLow = endpointKey(r.a, r.a_port) < endpointKey(r.b, r.b_port);
    const got = s
      ? {
          pktsAB: aLow ? s.lowPkts : s.highPkts,
          pktsBA: aLow ? s.highPkts : s.lowPkts,
          bytesAB: aLow ? s.lowBytes : s.highBytes,
          bytesBA: aLow ? s.highBytes : s.lowBytes,
        }
      : null;
    const check = (field: string, o: number | null, t: number | null) => {
      if (t === null) return; // tshark printed a rounded value it could not recover exactly
      if (o !== t) mismatches.push({ key, field, ours: o, tshark: t });
    };
    check('frames_a_to_b', got?.pktsAB ?? null, r.frames_a_to_b);
    check('frames_b_to_a', got?.pktsBA ?? null, r.frames_b_to_a);
    check('bytes_a_to_b', got?.bytesAB ?? null, r.bytes_a_to_b);
    check('bytes_b_to_a', got?.bytesBA ?? null, r.bytes_b_to_a);
  }
  const extraFlows = [...ours.keys()].filter((k) => !seen.has(k));
  return { mismatches, extraFlows };
}
