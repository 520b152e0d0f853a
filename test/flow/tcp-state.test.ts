/**
 * Every connection state the flow table can report, each from a packet sequence with the state
 * and history Zeek's conn.log gives it (Zeek docs, "conn_state" and "history"), and the list of
 * states checked against docs/output-schema.md. A renamed, merged or missing state fails here.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodedPacket, DecodeStatus, TcpFlag } from '../../src/decode/types.js';
import { describeFlow, type FlowRecord } from '../../src/flow/record.js';
import { FlowTable } from '../../src/flow/table.js';
import { IpProto } from '../../src/util/ip-proto.js';

/** One packet: C = client (10.0.0.1:40000) to server, S = server (10.0.0.2:8080) to client. */
type Step = `${'C' | 'S'}:${string}`;

const FLAG_BITS: Record<string, number> = { S: TcpFlag.SYN, A: TcpFlag.ACK, F: TcpFlag.FIN, R: TcpFlag.RST, P: TcpFlag.PSH };

function packet(step: Step, proto: number): DecodedPacket {
  const [who, flags] = step.split(':') as ['C' | 'S', string];
  const p = new DecodedPacket();
  p.status = DecodeStatus.Ok;
  p.ipVersion = 4;
  const client = 0x0a000001;
  const server = 0x0a000002;
  p.src3 = who === 'C' ? client : server;
  p.dst3 = who === 'C' ? server : client;
  p.ipProto = proto;
  p.hasPorts = true;
  p.srcPort = who === 'C' ? 40000 : 8080;
  p.dstPort = who === 'C' ? 8080 : 40000;
  let f = 0;
  let payload = 0;
  for (const c of flags) {
    if (c === 'd') payload = 10;
    else f |= FLAG_BITS[c] ?? 0;
  }
  p.tcpFlags = proto === IpProto.TCP ? f : 0;
  p.payloadLength = payload;
  return p;
}

/** The flow records the steps give (one flow unless the 5-tuple is reused). */
function run(steps: readonly Step[], proto: number = IpProto.TCP): FlowRecord[] {
  const table = new FlowTable({ maxFlows: 16, idleTimeout: 3600, activeTimeout: 0 });
  const flows: FlowRecord[] = [];
  table.setObserver({ flowStarted: () => {}, payload: () => {}, flowEnded: (s, reason) => flows.push(describeFlow(table, s, reason)) });
  steps.forEach((s, i) => table.process(packet(s, proto), i, 1_700_000_000 + i, 0, 60, new Uint8Array(0)));
  table.flush();
  return flows;
}

/** State -> a sequence that reaches it and the history Zeek writes for it. */
const TCP_CASES: ReadonlyArray<{ state: string; why: string; steps: Step[]; history: string }> = [
  { state: 'S0', why: 'SYN, no reply', steps: ['C:S'], history: 'S' },
  { state: 'REJ', why: 'SYN answered by RST', steps: ['C:S', 'S:RA'], history: 'Sr' },
  { state: 'S1', why: 'established, not closed', steps: ['C:S', 'S:SA', 'C:A', 'C:PAd', 'S:Ad'], history: 'ShADd' },
  { state: 'SF', why: 'established, closed by FINs from both sides', steps: ['C:S', 'S:SA', 'C:A', 'C:FA', 'S:FA', 'C:A'], history: 'ShAFf' },
  { state: 'S2', why: 'established, FIN from the client only', steps: ['C:S', 'S:SA', 'C:A', 'C:FA'], history: 'ShAF' },
  { state: 'S3', why: 'established, FIN from the server only', steps: ['C:S', 'S:SA', 'C:A', 'S:FA'], history: 'ShAf' },
  { state: 'RSTO', why: 'established, reset by the client', steps: ['C:S', 'S:SA', 'C:A', 'C:R'], history: 'ShAR' },
  { state: 'RSTR', why: 'established, reset by the server', steps: ['C:S', 'S:SA', 'C:A', 'S:RA'], history: 'ShAr' },
  { state: 'SH', why: 'SYN then FIN, no SYN-ACK', steps: ['C:S', 'C:F'], history: 'SF' },
  { state: 'OTH', why: 'no SYN seen (mid-stream)', steps: ['C:PAd', 'S:A'], history: 'Da' },
];
const OTHER_CASES: ReadonlyArray<{ state: string; steps: Step[] }> = [
  { state: 'one-way', steps: ['C:d', 'C:d'] },
  { state: 'two-way', steps: ['C:d', 'S:d'] },
];

describe('connection states', () => {
  it.each(TCP_CASES)('TCP $state ($why)', ({ state, steps, history }) => {
    const flows = run(steps);
    expect(flows).toHaveLength(1);
    expect(flows[0]!.state).toBe(state);
    expect(flows[0]!.history).toBe(history);
  });

  it.each(OTHER_CASES)('UDP $state', ({ state, steps }) => {
    const flows = run(steps, IpProto.UDP);
    expect(flows.map((f) => f.state)).toEqual([state]);
  });

  it('the cases cover exactly the states docs/output-schema.md lists', () => {
    const doc = readFileSync(new URL('../../docs/output-schema.md', import.meta.url), 'utf8');
    const row = doc.split('\n').find((l) => l.startsWith('| `state` |'))!;
    const documented = new Set([...row.matchAll(/`([A-Za-z0-9-]+)`/g)].map((m) => m[1]!).filter((s) => s !== 'state' && s !== 'conn_state'));
    const covered = new Set([...TCP_CASES, ...OTHER_CASES].map((c) => c.state));
    expect([...covered].sort()).toEqual([...documented].sort());
  });

  it('any TCP segment sequence ends in one of those states, and its history letters never repeat', () => {
    const known = new Set(TCP_CASES.map((c) => c.state));
    const step = fc.tuple(fc.constantFrom('C', 'S'), fc.subarray(['S', 'A', 'F', 'R', 'd'])).map(([w, f]) => `${w}:${f.join('')}` as Step);
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
        for (const f of run(steps)) {
          expect(known.has(f.state!), `${steps.join(' ')} -> ${f.state}`).toBe(true);
          expect(new Set(f.history).size).toBe(f.history!.length);
        }
      }),
      { numRuns: 500 },
    );
  });
});
