import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FLOW_ANOMALY_PAIRS, FlowExtras } from '../../src/flow/flow-extras.js';

describe('FlowExtras', () => {
  it('a flow without anomalies or ICMP errors has none; counts are per flow and per code', () => {
    const x = new FlowExtras(8);
    expect(x.anomalyPairs(3)).toEqual([]);
    expect(x.icmpErrors(3)).toBe(0);
    x.addAnomaly(3, 7);
    x.addAnomaly(3, 7);
    x.addAnomaly(3, 200);
    x.addIcmpError(3);
    x.addIcmpError(5);
    expect(x.anomalyPairs(3)).toEqual([[7, 2], [200, 1]]);
    expect(x.icmpErrors(3)).toBe(1);
    expect(x.anomalyPairs(5)).toEqual([]);
    expect(x.icmpErrors(5)).toBe(1);
  });

  it('more distinct codes than pairs fold into the last pair, under its own code', () => {
    const x = new FlowExtras(2);
    for (let code = 1; code <= FLOW_ANOMALY_PAIRS + 2; code++) x.addAnomaly(0, code);
    const pairs = x.anomalyPairs(0);
    expect(pairs.map((p) => p[0])).toEqual([1, 2, 3, 4]);
    expect(pairs.at(-1)![1]).toBe(3);
  });

  it('release() gives the record back: the slot starts over, a reused record starts at zero', () => {
    const x = new FlowExtras(4);
    x.addAnomaly(0, 9);
    x.addIcmpError(0);
    x.release(0);
    expect(x.anomalyPairs(0)).toEqual([]);
    expect(x.icmpErrors(0)).toBe(0);
    x.addIcmpError(1); // takes the freed record
    expect(x.anomalyPairs(1)).toEqual([]);
    expect(x.icmpErrors(1)).toBe(1);
    x.release(2); // nothing to release: no effect
    expect(x.icmpErrors(1)).toBe(1);
  });

  it('property: matches a per-slot model through adds, releases and pool growth', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 599 }), fc.integer({ min: 0, max: 6 })), { maxLength: 3000 }),
        (ops) => {
          const x = new FlowExtras(600);
          const model = new Map<number, { codes: number[]; counts: number[]; icmp: number }>();
          for (const [slot, op] of ops) {
            const m = model.get(slot) ?? { codes: [], counts: [], icmp: 0 };
            if (op === 0) {
              x.release(slot);
              model.delete(slot);
              continue;
            }
            if (op === 1) {
              x.addIcmpError(slot);
              m.icmp++;
            } else {
              x.addAnomaly(slot, op);
              const i = m.codes.indexOf(op);
              if (i >= 0) m.counts[i]!++;
              else if (m.codes.length < FLOW_ANOMALY_PAIRS) {
                m.codes.push(op);
                m.counts.push(1);
              } else m.counts[FLOW_ANOMALY_PAIRS - 1]!++;
            }
            model.set(slot, m);
          }
          for (let s = 0; s < 600; s++) {
            const m = model.get(s);
            expect(x.anomalyPairs(s)).toEqual(m ? m.codes.map((c, i) => [c, m.counts[i]]) : []);
            expect(x.icmpErrors(s)).toBe(m?.icmp ?? 0);
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
