/**
 * The built CLI bundle (scripts/bundle-cli.mjs) keeps the engine's module constants `const`: the
 * optimizing compiler folds a module's `const` bindings into the packet loop, and a bundler that
 * rewrites them to `var` (esbuild does) cost 8% more CPU on the reference replay
 * (bench/README.md "The CLI bundle"). Checked on the chunk that holds the flow table.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/cli');

/**
 * `file` and every bundle file it loads before running: the ES module entries import code-cache.js
 * and require their CommonJS chunk (requireChunk), which requires its chunks at its top level.
 */
function staticClosure(file: string): Set<string> {
  const imports = (f: string): string[] => {
    const code = readFileSync(join(CLI, f), 'utf8');
    return [
      ...[...code.matchAll(/^import .* from '\.\/([^']+)';$/gm)].map((m) => m[1]!),
      ...[...code.matchAll(/^(?:const \w+ = )?requireChunk\(import\.meta\.url, '\.\/([^']+)'\);$/gm)].map((m) => m[1]!),
      ...[...code.matchAll(/^(?:const|let) [\w$]+ = require\("\.\/([^"]+)"\);$/gm)].map((m) => m[1]!),
    ];
  };
  const seen = new Set<string>();
  const queue = [file];
  while (queue.length > 0) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    queue.push(...imports(f));
  }
  return seen;
}

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

  it('starts with a small entry: the worker threads start before the CLI is loaded (cli/entry.ts)', () => {
    // What main.js loads statically is loaded before a thread can start: only the entry and what it needs.
    const modules = [...new Set([...staticClosure('main.js')].flatMap((f) => manifest[f] ?? []))].sort();
    // (pipe-reader.js: the thread that drains a pipe on stdin starts there too.)
    expect(modules).toEqual(['dist/capture/pipe-reader.js', 'dist/cli/code-cache.js', 'dist/cli/entry.js', 'dist/cli/esm-importer.js', 'dist/cli/prestart.js', 'dist/cli/process-entry.js', 'dist/pipeline/defaults.js', 'dist/pipeline/worker-threads.js', 'dist/util/builtins.js', 'dist/util/fifo.js']);
    // The CLI itself (commander, the session) comes from a chunk the entry imports afterwards.
    expect(chunkOf('dist/cli/main.js')).toContain('function runProcess');
  });

  it('the worker thread never loads main.js (that would run the CLI in the thread)', () => {
    const seen = staticClosure('worker.js');
    expect(seen.size).toBeGreaterThan(1);
    expect(seen.has('main.js')).toBe(false);
    expect([...seen].some((f) => f.startsWith('main-'))).toBe(false);
  });

  it('is CommonJS chunks behind two ES module entries, each chunk named by its content', () => {
    const chunks = Object.keys(manifest).filter((f) => f !== 'main.js' && f !== 'worker.js');
    expect(chunks.length).toBeGreaterThan(5);
    // The code cache of a chunk is found by the chunk's name (cli/code-cache.ts): one name, one content.
    for (const f of chunks) expect(f).toMatch(/^(bundle-[\w-]+|main|worker)-[\w-]{8}\.cjs$/);
    expect(staticClosure('main.js').has('code-cache.js')).toBe(true);
    expect(staticClosure('worker.js').has('code-cache.js')).toBe(true);
  });

  it('chunks are ASCII without doc comments: V8 keeps an ASCII source at one byte per character', () => {
    const chunks = Object.keys(manifest).filter((f) => f !== 'main.js' && f !== 'worker.js');
    for (const f of chunks) {
      const code = readFileSync(join(CLI, f), 'utf8');
      const wide = /[^\x00-\x7f]/.exec(code);
      expect(wide, `${f}: ${wide === null ? '' : JSON.stringify(code.slice(Math.max(0, wide.index - 40), wide.index + 10))}`).toBeNull();
      // The doc comments (the sources keep them) made the two largest chunks ~30% larger.
      expect(code.includes('\n/**'), `${f} has a doc comment`).toBe(false);
    }
  });

  it('leaves the dashboard fallback an ES module import that resolves from the chunks (Ink is ESM only)', () => {
    const code = chunkOf('dist/cli/face.js');
    const fallback = /await import\("(\.\.\/ui\/dashboard\.js)"\)/.exec(code);
    expect(fallback).not.toBeNull();
    expect(existsSync(join(CLI, fallback![1]!))).toBe(true);
    expect(code).not.toMatch(/require\("ink"\)/);
  });
});
