/**
 * Import direction: util -> capture -> decode -> flow -> classify -> pipeline -> export/cli/ui.
 * rules/ sits beside flow (it needs only util and errors). Only src/ui and src/cli may import
 * react or ink. Checked by reading the import statements of every file under src/.
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

  it('only src/ui and src/cli import react or ink', () => {
    const violations = files
      .filter((f) => !['ui', 'cli'].includes(area(f)))
      .filter((f) => /from\s+['"](react|ink)(\/[^'"]*)?['"]/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    expect(violations).toEqual([]);
  });
});
