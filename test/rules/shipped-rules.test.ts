/**
 * The shipped rules against their sources: cites quote the seed line they name, product keys are
 * the documented set, and the known errata are recorded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { defaultSeedsDir, SEED_PORTS_JSON, type SeedPorts } from './extract-seed-ports.js';

const set = loadRuleDirs([defaultRulesDir()]);
const seedsDir = defaultSeedsDir();
const haveSeeds = existsSync(seedsDir);
if (!haveSeeds) console.warn(`shipped-rules: ${seedsDir} is absent; skipping the verbatim cite check`);
const seedPorts = JSON.parse(readFileSync(SEED_PORTS_JSON, 'utf8')) as SeedPorts;

const norm = (s: string): string => s.replace(/\s+/g, ' ').trim();

describe('shipped rules', () => {
  it('use the documented product keys, one file per product family', () => {
    const byFile = Object.fromEntries(set.files.map((f) => [f.path.slice(f.path.lastIndexOf('/') + 1), [...new Set(f.rules.map((r) => r.product))].sort()]));
    expect(byFile).toEqual({
      'edgecomet.yaml': ['edgecomet'],
      'gloo-mesh.yaml': ['gloo-mesh', 'gloo-mesh-enterprise'],
      'kgateway.yaml': ['kgateway'],
      'redis-enterprise.yaml': ['redis-enterprise'],
      'zeebe.yaml': ['zeebe'],
    });
  });

  it('every cite has a line number, and some cited line of each port rule mentions one of its ports', () => {
    const bad: string[] = [];
    for (const f of set.files) {
      const items = seedPorts.docs[f.source.doc]!.items;
      for (const r of [...f.rules]) {
        if (r.cites.some((c) => c.line === null)) bad.push(`${r.id}: cite without line`);
        if (r.ports.length === 0) continue;
        const lines = new Set(r.cites.map((c) => c.line));
        const hit = r.ports.some((p) => items.some((i) => i.lo === p.lo && i.hi === p.hi && i.lines.some((l) => lines.has(l))));
        if (!hit) bad.push(`${r.id}: no cited line mentions ${r.ports.map((p) => `${p.lo}-${p.hi}`).join(',')}`);
      }
    }
    expect(bad).toEqual([]);
  });

  describe.skipIf(!haveSeeds)('against shared/seeds', () => {
    it('every cite (rules and errata) quotes its seed line verbatim (whitespace-normalised)', () => {
      const bad: string[] = [];
      for (const f of set.files) {
        const lines = readFileSync(join(seedsDir, f.source.doc), 'utf8').split(/\r?\n/);
        const items = [...f.rules.map((r) => ({ id: r.id, cites: r.cites })), ...f.errata.map((e) => ({ id: e.id, cites: e.cites }))];
        for (const { id, cites } of items) {
          for (const c of cites) {
            const line = c.line === null ? undefined : lines[c.line - 1];
            if (line === undefined || !norm(line).includes(norm(c.text))) bad.push(`${id}: line ${c.line} does not contain ${JSON.stringify(c.text)}`);
          }
        }
      }
      expect(bad).toEqual([]);
    });
  });

  it('record the known errata', () => {
    const errata = new Map(set.files.flatMap((f) => f.errata).map((e) => [e.id, e]));
    const zeebe = errata.get('zeebe.env-var-ports')!;
    expect(zeebe.cites.map((c) => c.line)).toEqual([63, 64, 65]);
    const redis = errata.get('redis-enterprise.internode-3342')!;
    expect(redis.ports).toEqual([{ lo: 3342, hi: 3342 }]);
    const edge = errata.get('edgecomet.undocumented-block-ports')!;
    expect(edge.ports).toEqual([{ lo: 10072, hi: 10078 }, { lo: 10081, hi: 10088 }, { lo: 10091, hi: 10098 }]);
    for (const e of errata.values()) expect(e.docSays.length * e.weDid.length * e.why.length, e.id).toBeGreaterThan(0);
  });

  it('Zeebe uses the config-file ports, not the env-var table', () => {
    const ports = Object.fromEntries(set.rules.filter((r) => r.product === 'zeebe').map((r) => [r.id, r.ports.map((p) => p.lo)]));
    expect(ports).toEqual({
      'zeebe.broker-command-api': [26501],
      'zeebe.broker-monitoring': [9600],
      'zeebe.gateway-grpc': [26500],
      'zeebe.internal-api': [26502],
    });
  });
});
