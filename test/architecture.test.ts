/**
 * Import direction: util -> capture -> decode -> flow -> classify -> pipeline -> export/cli/ui.
 * rules/ sits beside flow (it needs only util and errors). Only src/ui and src/cli may import
 * react or ink. src/ui sees snapshots, never the engine: besides its own files it may import only
 * the result and summary types (UI_TYPES_ONLY, type imports) and util. Checked by reading the
 * import statements of every file under src/.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

const RANK: Record<string, number> = {
  util: 0,
  'errors.ts': 1,
  capture: 1,
  decode: 2,
  flow: 3,
  rules: 3,
  classify: 4,
  pipeline: 5,
  // The relay (portsniff proxy) produces what the pipeline produces, from sockets instead of packets.
  proxy: 5,
  // AssemblyScript (the engine's fast path), compiled to WebAssembly and loaded by pipeline/fast-path.ts.
  wasm: 5,
  export: 6,
  ui: 7,
  cli: 8,
  'index.ts': 9,
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|tsx)$/.test(name) ? [p] : [];
  });
}

function area(file: string): string {
  return relative(SRC, file).split('/')[0]!;
}

const files = walk(SRC);

/** What src/ui may import from the rest of src, as types only: the snapshot, summary and session shapes. */
const UI_TYPES_ONLY = ['pipeline/results.ts', 'export/summary.ts', 'export/consumer.ts'];
/** What src/ui may import from the rest of src, values too. */
const UI_ANY = ['util/'];

const IMPORT_CLAUSE = /^\s*(import|export)\s+(type\s+)?([^'"]*?)\s*from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/**
 * Imports of a src/ui file (`rel`: its path under src/) that break the allow-list. Type-only means
 * `import type` / `export type`, or braces whose every name says `type`.
 */
function uiImportViolations(rel: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_CLAUSE)) {
    const spec = m[4] ?? m[5] ?? m[6]!;
    if (!spec.startsWith('.')) continue;
    const target = relative(SRC, resolve(dirname(join(SRC, rel)), spec)).replace(/\.js$/, '.ts');
    if (target.startsWith('ui/') || UI_ANY.some((a) => target.startsWith(a))) continue;
    const clause = m[3];
    const typeOnly = m[2] !== undefined || (clause !== undefined && /^\{[^}]*\}$/.test(clause) && clause.slice(1, -1).split(',').every((n) => n.trim() === '' || /^type\s/.test(n.trim())));
    if (UI_TYPES_ONLY.includes(target)) {
      if (!typeOnly) out.push(`${rel} imports values from ${target} (types only)`);
    } else {
      out.push(`${rel} imports ${target}: src/ui may import ${[...UI_TYPES_ONLY, ...UI_ANY].join(', ')} only`);
    }
  }
  return out;
}
const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

describe('architecture', () => {
  it('every src area has a rank', () => {
    for (const f of files) expect(RANK[area(f)], relative(SRC, f)).toBeDefined();
  });

  it('imports only point down the layer order', () => {
    const violations: string[] = [];
    for (const f of files) {
      const from = area(f);
      for (const m of readFileSync(f, 'utf8').matchAll(IMPORT)) {
        const spec = m[1]!;
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(f), spec);
        if (!target.startsWith(SRC)) {
          violations.push(`${relative(SRC, f)} imports outside src: ${spec}`);
          continue;
        }
        const to = area(target.replace(/\.js$/, '.ts'));
        // rules/ and flow/ share a rank but do not know each other.
        if (RANK[to]! > RANK[from]! || (from !== to && [from, to].sort().join() === 'flow,rules')) {
          violations.push(`${relative(SRC, f)} (${from}) imports ${spec} (${to})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('src/ui imports only the result and summary types and util, never the engine', () => {
    const violations = files.filter((f) => area(f) === 'ui').flatMap((f) => uiImportViolations(relative(SRC, f), readFileSync(f, 'utf8')));
    expect(violations).toEqual([]);
  });

  it('the src/ui allow-list check catches what it should', () => {
    const check = (text: string): string[] => uiImportViolations('ui/components/Table.tsx', text);
    expect(check("import type { Snapshot, FlowRow } from '../../pipeline/results.js';")).toEqual([]);
    expect(check("import { type Snapshot, type FlowRow } from '../../pipeline/results.js';")).toEqual([]);
    expect(check("import type { RunSummary } from '../../export/summary.js';\nimport type { SessionConsumer } from '../../export/consumer.js';")).toEqual([]);
    expect(check("import { formatBytes } from '../../util/units.js';\nimport { Row } from './Row.js';\nimport { theme } from '../theme.js';")).toEqual([]);
    expect(check("import { ALERT_KINDS } from '../../pipeline/results.js';")).toEqual(['ui/components/Table.tsx imports values from pipeline/results.ts (types only)']);
    expect(check("import { buildSummary, type RunSummary } from '../../export/summary.js';")).toHaveLength(1);
    for (const internal of ['capture/file', 'decode/decoder', 'flow/table', 'classify/classifier', 'rules/load', 'pipeline/engine', 'export/text']) {
      expect(check(`import type { X } from '../../${internal}.js';`), internal).toHaveLength(1);
      expect(check(`export { X } from '../../${internal}.js';`), internal).toHaveLength(1);
    }
    expect(check("const m = await import('../../flow/table.js');")).toHaveLength(1);
  });

  it('only src/ui and src/cli import react or ink', () => {
    const violations = files
      .filter((f) => !['ui', 'cli'].includes(area(f)))
      .filter((f) => /from\s+['"](react|ink)(\/[^'"]*)?['"]/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    expect(violations).toEqual([]);
  });
});
