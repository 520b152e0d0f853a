/**
 * rules/rule-file.schema.json (for editors) and the loader's validator describe one format: the
 * committed file is what schema.ts generates, the shipped rule files pass it, and rules the loader
 * rejects for a schema reason the JSON Schema rejects too (checked with zod's JSON Schema reader,
 * an implementation independent of ours), while the loader accepts exactly what schema.ts calls
 * optional.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultRulesDir, parseRuleText } from '../../src/rules/load.js';
import { ERRATUM_FIELDS, RULE_FIELDS, SOURCE_FIELDS } from '../../src/rules/schema.js';
import { RULE_FILE_SCHEMA_PATH, ruleFileJsonSchemaText } from '../../scripts/rule-file-schema.js';

const RULES = defaultRulesDir();
const BAD = fileURLToPath(new URL('../../fixtures/rules-bad/', import.meta.url));
const committed = readFileSync(RULE_FILE_SCHEMA_PATH, 'utf8');
const validator = z.fromJSONSchema(JSON.parse(committed) as Parameters<typeof z.fromJSONSchema>[0]);

/** A valid file with one tcp rule (`rule` overrides its keys; undefined removes one) and one erratum. */
function file(rule: Record<string, unknown> = {}, erratum: Record<string, unknown> = {}, source: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    id: 'demo.api', product: 'demo', component: 'api', transport: 'tcp', ports: [8080, '9000-9009'], purpose: 'API',
    exposure: ['internal'], exposure_inferred: true, config_key: 'demo.port', protocols: ['http1'], tls: 'none',
    cite: { line: 3, text: 'row' }, notes: 'a note', override: 'other.api',
  };
  const e: Record<string, unknown> = { id: 'demo.erratum', doc_says: 'x', we_did: 'y', why: 'z', cite: [{ text: 'row' }], ports: [1], excluded_ports: ['2-3'], rules: ['demo.api'] };
  const src: Record<string, unknown> = { doc: 'doc.txt', product: 'Demo', title: 'Ports' };
  const merge = (o: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> => {
    const out = { ...o, ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete out[k];
    return out;
  };
  return { schema: 1, source: merge(src, source), rules: [merge(base, rule)], errata: [merge(e, erratum)] };
}

const loaderProblems = (doc: Record<string, unknown>): string[] =>
  parseRuleText('t.yaml', JSON.stringify(doc)).problems.map((p) => p.problem);
const schemaAccepts = (doc: unknown): boolean => validator.safeParse(doc).success;

describe('rules/rule-file.schema.json', () => {
  it('is what `npm run schema` writes from src/rules/schema.ts', () => {
    expect(committed).toBe(ruleFileJsonSchemaText());
  });

  it('accepts every shipped rule file', () => {
    const names = readdirSync(RULES).filter((n) => n.endsWith('.yaml'));
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(schemaAccepts(parse(readFileSync(join(RULES, n), 'utf8'))), n).toBe(true);
  });

  it('rejects the invalid fixture files', () => {
    for (const n of ['schema-errors.yaml', 'file-level.yaml', 'not-a-map.yaml']) {
      expect(schemaAccepts(parse(readFileSync(join(BAD, n), 'utf8'))), n).toBe(false);
    }
  });

  it('agrees with the loader on valid and invalid rules', () => {
    const cases: Array<[string, Record<string, unknown>, boolean]> = [
      ['the base file', file(), true],
      ['an icmp rule without ports', file({ transport: 'icmp', ports: undefined, protocols: ['icmp'] }), true],
      ['an icmp rule with ports', file({ transport: 'icmp', protocols: ['icmp'] }), false],
      ['an icmp rule with a tag other than icmp', file({ transport: 'icmp', ports: undefined, protocols: ['http1'] }), false],
      ['a tcp rule without ports', file({ ports: undefined }), false],
      ['a tcp rule with no port listed', file({ ports: [] }), false],
      ['an unknown key', file({ expsure: ['internal'] }), false],
      ['an unknown transport', file({ transport: 'quic' }), false],
      ['an unknown exposure', file({ exposure: ['internet'] }), false],
      ['no exposure', file({ exposure: [] }), false],
      ['an unknown protocol tag', file({ protocols: ['https'] }), false],
      ['an unknown tls promise', file({ tls: 'maybe' }), false],
      ['a port above 65535', file({ ports: [70000] }), false],
      ['a port that is not a number', file({ ports: ['http'] }), false],
      ['an id without a dot', file({ id: 'demo' }), false],
      ['an upper-case product', file({ product: 'Demo' }), false],
      ['an empty cite list', file({ cite: [] }), false],
      ['a cite line 0', file({ cite: { line: 0, text: 'row' } }), false],
      ['schema 2', { ...file(), schema: 2 }, false],
      ['an unknown erratum key', file({}, { fixed: true }), false],
      ['an unknown source key', file({}, {}, { url: 'x' }), false],
    ];
    for (const [what, doc, ok] of cases) {
      expect(loaderProblems(doc), what).toEqual(ok ? [] : expect.arrayContaining([expect.any(String)]));
      expect(schemaAccepts(doc), what).toBe(ok);
    }
  });

  it('what schema.ts calls required the loader requires, and only that', () => {
    const check = (kind: string, fields: Record<string, { required: boolean }>, without: (k: string) => Record<string, unknown>): void => {
      for (const [key, f] of Object.entries(fields)) {
        if (kind === 'rule' && key === 'ports') continue; // required except for icmp: the case above
        const doc = without(key);
        const problems = loaderProblems(doc);
        const missing = problems.some((p) => p.startsWith(`missing required key '${key}'`));
        expect(missing, `${kind}.${key}: ${problems.join('; ')}`).toBe(f.required);
        if (!f.required) expect(problems, `${kind}.${key}`).toEqual([]);
        expect(schemaAccepts(doc), `${kind}.${key}`).toBe(!f.required);
      }
    };
    check('rule', RULE_FIELDS, (k) => file({ [k]: undefined }));
    check('erratum', ERRATUM_FIELDS, (k) => file({}, { [k]: undefined }));
    check('source', SOURCE_FIELDS, (k) => file({}, {}, { [k]: undefined }));
  });
});
