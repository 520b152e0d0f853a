/**
 * Whole-engine fuzzing: reader + decoder + flow table + classifier over random and mutated
 * captures, tunnelled frames among them. Nothing may throw except a CaptureFormatError (bad file),
 * nothing may hang, and no packet may be lost: every frame is in a flow of its own level (the frame's
 * first IP packet), credited to a flow as an ICMP error, or counted as not-IP / unattributed; the
 * packets inside tunnels are additional flow packets, never more than one per frame and level.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CaptureParser } from '../../src/capture/parser.js';
import { buildPcap } from '../../src/capture/pcap-writer.js';
import { CaptureFormatError } from '../../src/errors.js';
import { Engine, DEFAULT_ENGINE_OPTIONS, type ClassifiedFlow } from '../../src/pipeline/engine.js';
import { PortMapClassifier } from '../../src/classify/classifier.js';
import { compileRules } from '../../src/rules/compile.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { ipv4Tcp, ipv6Udp, ipv4Udp, fragmentIpv4, frame, ipv4Packet, udpDatagram } from '../../fixtures/gen/packet-builder.js';
import { MAX_TUNNEL_DEPTH } from '../../src/decode/types.js';
import { TUNNEL_FRAMES } from '../decode/tunnel-frames.js';

const index = compileRules(loadRuleDirs([defaultRulesDir()]));
const RUNS = process.env['CI'] ? 400 : 100;
const LINK_TYPES = [0, 1, 101, 105, 108, 113, 127, 228, 229, 258, 276, 9999];

const enc = new TextEncoder();
const SEEDS: Uint8Array[] = [
  ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 6379, flags: 'S' }),
  ipv4Tcp({ src: '10.0.0.2', dst: '10.0.0.1', sport: 6379, dport: 40000, flags: 'SA' }),
  ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 6379, flags: 'PA', payload: enc.encode('*1\r\n$4\r\nPING\r\n') }),
  ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.3', sport: 40001, dport: 9977, flags: 'PA', payload: enc.encode('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), vlan: [7] }),
  ipv6Udp({ src: '2001:db8::1', dst: '2001:db8::2', sport: 5353, dport: 5353, payload: new Uint8Array(40) }),
  ...fragmentIpv4(ipv4Packet({ src: '10.1.0.1', dst: '10.1.0.2', id: 99 }, 17, udpDatagram({ sport: 53, dport: 5000, payload: new Uint8Array(300) })), 64).map((d) => frame(d)),
  ipv4Udp({ src: '10.0.0.9', dst: '10.0.0.8', sport: 1, dport: 53, payload: new Uint8Array(12) }),
  // Tunnels: random bytes and bit flips land in tunnel headers and in the packets inside.
  ...Object.entries(TUNNEL_FRAMES).filter(([name]) => name !== 'nflog').map(([, f]) => f),
];

function runEngine(file: Uint8Array): { engine: Engine; flows: ClassifiedFlow[]; error: unknown } {
  const flows: ClassifiedFlow[] = [];
  const engine = new Engine({
    ...DEFAULT_ENGINE_OPTIONS,
    maxFlows: 32,
    classifier: new PortMapClassifier(index, 32),
    onFlow: (f) => flows.push(f),
  });
  const parser = new CaptureParser(engine, 'fuzz.pcap');
  let error: unknown = null;
  try {
    const used = parser.feed(file, 0, file.length);
    parser.finish(file.length - used, used);
  } catch (err) {
    error = err;
  }
  engine.finish();
  return { engine, flows, error };
}

function conserved(engine: Engine, flows: ClassifiedFlow[]): void {
  const t = engine.totals();
  // Flows of the frames' own packets have whole-number ids (the record's ordinal); a flow inside a
  // tunnel adds its level / 10.
  const levels = Array.from({ length: MAX_TUNNEL_DEPTH + 1 }, (_, l) => flows.filter((f) => Math.round((f.id % 1) * 10) === l));
  const sum = (fs: ClassifiedFlow[], w: (f: ClassifiedFlow) => number) => fs.reduce((a, f) => a + w(f), 0);
  const frameLevel = levels[0]!;
  expect(sum(frameLevel, (f) => f.packets!.toServer + f.packets!.toClient + f.icmpErrors!) + t.notIp + t.unattributed).toBe(t.packets);
  expect(sum(frameLevel, (f) => f.bytes!.toServer + f.bytes!.toClient)).toBeLessThanOrEqual(t.bytes);
  for (const [l, fs] of levels.entries()) {
    expect(sum(fs, (f) => f.packets!.toServer + f.packets!.toClient), `level ${l}`).toBeLessThanOrEqual(t.packets);
    expect(fs.every((f) => (l === 0) === (f.tunnel === undefined || f.tunnel.every((e) => e.type === 'mpls' || e.type === 'pppoe')))).toBe(true);
  }
}

describe('engine fuzz', () => {
  it('random frames on every link type: no throw, nothing lost', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...LINK_TYPES), fc.nat(5)), { maxLength: 60 }),
        (list) => {
          // One file per link type keeps the pcap header honest; frames are random.
          for (const lt of new Set(list.map(([, l]) => l))) {
            const file = buildPcap(
              list.filter(([, l]) => l === lt).map(([data, , t]) => ({ tsSec: 1_700_000_000 + t, data })),
              { linkType: lt },
            );
            const { engine, flows, error } = runEngine(file);
            expect(error).toBeNull();
            conserved(engine, flows);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('mutated real frames (bit flips, cuts, shuffles): no throw, nothing lost', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.nat(SEEDS.length - 1), fc.array(fc.tuple(fc.nat(400), fc.nat(255)), { maxLength: 4 }), fc.nat(400), fc.nat(3)),
          { minLength: 1, maxLength: 80 },
        ),
        (list) => {
          const packets = list.map(([i, flips, cut, t]) => {
            const data = new Uint8Array(SEEDS[i]!);
            for (const [pos, val] of flips) if (pos < data.length) data[pos] = val;
            return { tsSec: 1_700_000_000 + t * 100, data: data.subarray(0, Math.max(0, Math.min(data.length, cut + 14))), origLen: data.length };
          });
          const { engine, flows, error } = runEngine(buildPcap(packets, { linkType: 1 }));
          expect(error).toBeNull();
          conserved(engine, flows);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('mutated file bytes: only CaptureFormatError, never another exception', () => {
    const base = buildPcap(SEEDS.map((data, i) => ({ tsSec: 1_700_000_000 + i, data })), { linkType: 1 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { maxLength: 8 }), fc.nat(base.length), (flips, cut) => {
        const file = new Uint8Array(base);
        for (const [pos, val] of flips) file[pos] = val;
        const { engine, flows, error } = runEngine(file.subarray(0, cut));
        if (error !== null) expect(error).toBeInstanceOf(CaptureFormatError);
        conserved(engine, flows);
      }),
      { numRuns: RUNS },
    );
  });
});
