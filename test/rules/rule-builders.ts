/** Small builders for rule tests: Rule objects for the compiler, YAML text for the loader. */
import type { PortSpec, Rule, RuleSet, Transport } from '../../src/rules/types.js';
import { RuleFileError } from '../../src/rules/load.js';

/** "10000-19999" or 8080 -> PortSpec. */
export function spec(p: number | string): PortSpec {
  if (typeof p === 'number') return { lo: p, hi: p };
  const [lo, hi] = p.split('-').map(Number);
  return { lo: lo!, hi: hi! };
}

/** A complete Rule with harmless defaults; `id` decides the product (the part before the dot). */
export function mkRule(id: string, transport: Transport, ports: (number | string)[]): Rule {
  const product = id.split('.')[0]!;
  return {
    id,
    product,
    component: id,
    transport,
    ports: ports.map(spec).sort((a, b) => a.lo - b.lo),
    purpose: `purpose of ${id}`,
    exposure: ['internal'],
    exposureInferred: false,
    configKeys: [],
    protocols: [],
    tls: 'unknown',
    cites: [{ line: 1, text: 'row' }],
    notes: null,
    overrides: null,
    source: { doc: 'test.txt', product, title: 'test' },
    location: { file: 'test.yaml', line: 1, col: 1 },
  };
}

export function mkSet(rules: Rule[]): RuleSet {
  return { files: [], rules, overridden: [] };
}

/** One rule as YAML list item text (2-space indented under `rules:`). */
export function ruleYaml(id: string, ports: (number | string)[], extra: Record<string, string> = {}): string {
  const product = id.split('.')[0]!;
  const lines = [
    `  - id: ${id}`,
    `    product: ${product}`,
    `    component: ${id}`,
    '    transport: tcp',
    `    ports: [${ports.map((p) => (typeof p === 'number' ? String(p) : `"${p}"`)).join(', ')}]`,
    `    purpose: purpose of ${id}`,
    '    exposure: [internal]',
    '    protocols: []',
    '    tls: unknown',
    '    cite: { line: 1, text: "row" }',
    ...Object.entries(extra).map(([k, v]) => `    ${k}: ${v}`),
  ];
  return lines.join('\n');
}

export function fileYaml(rules: string[]): string {
  return ['schema: 1', 'source: { doc: test.txt, product: Test, title: Test }', 'rules:', ...rules, ''].join('\n');
}

/** The RuleFileError `fn` throws (any other outcome fails the test). */
export function errorOf(fn: () => unknown): RuleFileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RuleFileError) return err;
    throw err;
  }
  throw new Error('expected a RuleFileError, but loading succeeded');
}
