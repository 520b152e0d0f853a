/**
 * The built CLI bundle (scripts/bundle-cli.mjs) keeps the engine's module constants `const`: the
 * optimizing compiler folds a module's `const` bindings into the packet loop, and a bundler that
 * rewrites them to `var` (esbuild does) cost 8% more CPU on the reference replay
 * (bench/README.md "The CLI bundle"). Checked on the chunk that holds the flow table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/cli');

describe('the CLI bundle', () => {
  const manifest = JSON.parse(readFileSync(join(CLI, 'bundle-manifest.json'), 'utf8')) as Record<string, string[]>;
  const chunkOf = (module: string): string => {
    const file = Object.keys(manifest).find((f) => manifest[f]!.includes(module));
    expect(file, `${module} in dist/cli/bundle-manifest.json`).toBeDefined();
    return readFileSync(join(CLI, file!), 'utf8');
  };

  it('keeps top-level const declarations const in the hot modules', () => {
    const code = chunkOf('dist/flow/flow-index.js');
    // The row layout copies the flow index reads per packet (flow-index.ts "Module-local copies").
    expect(code).toMatch(/^const \{ I32: ROW_I32[\w$]*, K_A/m);
    expect(code).not.toMatch(/^var \{ I32: ROW_I32/m);
    const topLevel = (kind: string): number => code.match(new RegExp(`^${kind} [\\w$]+ = (?!class)`, 'gm'))?.length ?? 0;
    expect(topLevel('const')).toBeGreaterThan(100);
    expect(topLevel('var')).toBeLessThan(topLevel('const') / 10);
  });

  it('puts the worker thread and the main thread on shared chunks, not two copies of the engine', () => {
    const holders = Object.keys(manifest).filter((f) => manifest[f]!.includes('dist/pipeline/engine.js'));
    expect(holders).toHaveLength(1);
    expect(holders[0]).toMatch(/^bundle-/);
  });
});
