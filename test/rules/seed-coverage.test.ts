/**
 * Every port and range each seed document mentions is covered by a rule of that document's file,
 * or listed in one of its errata as `excluded_ports` (deliberately not a rule, with a reason);
 * and, the other way round, every rule port and every exclusion is mentioned by its document.
 *
 * The mentions come from the committed test/rules/seed-ports.json, so this runs without
 * shared/seeds. When the seeds are present the JSON is first checked against a fresh extraction.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { formatPortSpec, type PortSpec, type RuleFile } from '../../src/rules/types.js';
import { defaultSeedsDir, extractSeedDir, renderSeedPorts, SEED_PORTS_JSON, type SeedPorts } from './extract-seed-ports.js';

const seedsDir = defaultSeedsDir();
const haveSeeds = existsSync(seedsDir);
if (!haveSeeds) console.warn(`seed-coverage: ${seedsDir} is absent; checking against the committed seed-ports.json only`);

const committed = JSON.parse(readFileSync(SEED_PORTS_JSON, 'utf8')) as SeedPorts;
const ruleFiles = loadRuleDirs([defaultRulesDir()]).files;

function fileFor(doc: string): RuleFile {
  const matches = ruleFiles.filter((f) => f.source.doc === doc);
  expect(matches.map((f) => f.path), `rule files for ${doc}`).toHaveLength(1);
  return matches[0]!;
}

const contains = (s: PortSpec, lo: number, hi: number): boolean => s.lo <= lo && hi <= s.hi;
const same = (s: PortSpec, lo: number, hi: number): boolean => s.lo === lo && s.hi === hi;

describe.skipIf(!haveSeeds)('seed-ports.json is current', () => {
  it('matches a fresh extraction of shared/seeds (else run: npx tsx test/rules/extract-seed-ports.ts)', () => {
    expect(renderSeedPorts(extractSeedDir(seedsDir))).toBe(readFileSync(SEED_PORTS_JSON, 'utf8'));
  });
});

describe('seed coverage', () => {
  it('there is one rule file per seed document and no rule file without one', () => {
    expect(Object.keys(committed.docs).sort()).toEqual(ruleFiles.map((f) => f.source.doc).sort());
  });

  for (const [doc, extraction] of Object.entries(committed.docs)) {
    describe(doc, () => {
      it('every mentioned port and range is a rule of this document or a documented exclusion', () => {
        const file = fileFor(doc);
        const specs = file.rules.flatMap((r) => r.ports);
        const excluded = file.errata.flatMap((e) => e.excludedPorts);
        const uncovered = extraction.items
          .filter((item) => item.lo === item.hi
            ? !specs.some((s) => contains(s, item.lo, item.hi)) && !excluded.some((s) => contains(s, item.lo, item.hi))
            : !specs.some((s) => same(s, item.lo, item.hi)) && !excluded.some((s) => same(s, item.lo, item.hi)))
          .map((item) => `${item.spec} (line ${item.lines.join(', ')})`);
        expect(uncovered).toEqual([]);
      });

      it('every rule port and every exclusion is mentioned by the document', () => {
        const file = fileFor(doc);
        const mentioned = (s: PortSpec): boolean => extraction.items.some((i) => i.lo === s.lo && i.hi === s.hi);
        const unmentioned = [
          ...file.rules.flatMap((r) => r.ports.filter((s) => !mentioned(s)).map((s) => `${r.id}: ${formatPortSpec(s)}`)),
          ...file.errata.flatMap((e) => e.excludedPorts.filter((s) => !mentioned(s)).map((s) => `${e.id}: excluded ${formatPortSpec(s)}`)),
        ];
        expect(unmentioned).toEqual([]);
      });

      it('no excluded port is also a rule port (an exclusion must be a real exclusion)', () => {
        const file = fileFor(doc);
        const specs = file.rules.flatMap((r) => r.ports);
        const both = file.errata.flatMap((e) => e.excludedPorts).filter((x) => specs.some((s) => s.lo <= x.hi && x.lo <= s.hi && x.lo === x.hi));
        expect(both.map(formatPortSpec)).toEqual([]);
      });
    });
  }

  it('the coverage check fails when a rule is missing (self-test)', () => {
    const doc = '004_1bc6af46bdd1c035.txt';
    const file = fileFor(doc);
    const specs = file.rules.filter((r) => r.id !== 'zeebe.broker-monitoring').flatMap((r) => r.ports);
    const missing = committed.docs[doc]!.items.filter((i) => !specs.some((s) => contains(s, i.lo, i.hi))).map((i) => i.spec);
    expect(missing).toEqual(['9600']);
  });
});
