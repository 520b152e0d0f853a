/**
 * Property: the order of files and of rules inside them never changes any port's decision.
 * Checked over all 65,536 tcp and udp ports (plus icmp), for the shipped rules shuffled at the
 * YAML level (through the loader) and for random synthetic rule sets shuffled before compiling.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument, isSeq } from 'yaml';
import { compileRules, type PortIndex } from '../../src/rules/compile.js';
import { defaultRulesDir, loadRuleLayers, type RuleText } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/types.js';
import { mkRule, mkSet } from './rule-builders.js';

const RUNS = process.env['CI'] === 'true' ? 40 : 12;

/** Everything a decision depends on, per port: the candidates with their tiers and widths. */
function fingerprint(index: PortIndex): string[] {
  const byGroup = new Map<number, string>();
  const sig = (id: number): string => {
    let s = byGroup.get(id);
    if (s === undefined) {
      const g = index.group(id);
      s = `${g.ambiguous ? 'A' : '-'}|${g.all.map((c) => `${c.rule.id}/${c.width}/${c.tier}`).join(',')}`;
      byGroup.set(id, s);
    }
    return s;
  };
  const out: string[] = [];
  for (const proto of [6, 17]) for (let p = 0; p < 65536; p++) out.push(sig(index.lookup(proto, p)));
  out.push(sig(index.lookup(1, 0)), sig(index.lookup(58, 0)));
  return out;
}

function shuffled<T>(items: readonly T[], keys: readonly number[]): T[] {
  return items.map((item, i) => ({ item, k: keys[i % keys.length]! * 1000 + i })).sort((a, b) => a.k - b.k).map((x) => x.item);
}

/** Reorder the `rules:` list of a YAML file (the text changes, positions change). */
function shuffleRulesInText(text: string, keys: readonly number[]): string {
  const doc = parseDocument(text);
  const rules = doc.get('rules');
  if (isSeq(rules)) rules.items = shuffled(rules.items, keys);
  return doc.toString();
}

describe('rule order never changes a decision', () => {
  const dir = defaultRulesDir();
  const files: RuleText[] = readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort().map((n) => ({ path: join(dir, n), text: readFileSync(join(dir, n), 'utf8') }));
  const reference = fingerprint(compileRules(loadRuleLayers([{ name: dir, files }])));

  it('shipped rules: shuffled files and shuffled rules within files, all tcp and udp ports', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1000), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(1000), { minLength: 1, maxLength: 30 }), (fileKeys, ruleKeys) => {
        const reordered = shuffled(files, fileKeys).map((f) => ({ path: f.path, text: shuffleRulesInText(f.text, ruleKeys) }));
        const fp = fingerprint(compileRules(loadRuleLayers([{ name: dir, files: reordered }])));
        expect(fp.length).toBe(reference.length);
        for (let i = 0; i < fp.length; i++) if (fp[i] !== reference[i]) expect(`slot ${i}: ${fp[i]}`).toBe(`slot ${i}: ${reference[i]}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('the fingerprint does see a change of rules (the property can fail)', () => {
    const fewer = files.filter((f) => !f.path.endsWith('zeebe.yaml'));
    expect(fingerprint(compileRules(loadRuleLayers([{ name: dir, files: fewer }])))).not.toEqual(reference);
  });

  const portSpec = fc.oneof(
    fc.integer({ min: 1, max: 65535 }).map(String),
    fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 2000 })).map(([lo, w]) => `${lo}-${Math.min(65535, lo + w)}`),
  ).filter((s) => !/^(\d+)-\1$/.test(s));
  const ruleArb = fc.record({
    product: fc.constantFrom('pa', 'pb', 'pc'),
    transport: fc.constantFrom('tcp' as const, 'udp' as const),
    port: portSpec,
  });

  it('random rule sets: any permutation compiles to the same index', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 25 }), fc.array(fc.nat(1000), { minLength: 1, maxLength: 25 }), (specs, keys) => {
        const rules: Rule[] = specs.map((s, i) => mkRule(`${s.product}.r${i}`, s.transport, [/-/.test(s.port) ? s.port : Number(s.port)]));
        const a = fingerprint(compileRules(mkSet(rules)));
        const b = fingerprint(compileRules(mkSet(shuffled(rules, keys))));
        const c = fingerprint(compileRules(mkSet([...rules].reverse())));
        expect(b).toEqual(a);
        expect(c).toEqual(a);
      }),
      { numRuns: RUNS },
    );
  });
});
