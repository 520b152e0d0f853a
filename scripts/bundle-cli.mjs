/**
 * Bundles the CLI (dist/cli/main.js as tsc wrote it, and the worker thread's script
 * dist/pipeline/worker.js) into a few ES modules in dist/cli/: main.js (replacing tsc's), worker.js,
 * and bundle-*.js chunks. Run by `npm run build` after tsc, the rules cache and the dashboard bundle:
 *
 *   node scripts/bundle-cli.mjs
 *
 * Why (bench/README.md "The CLI bundle"):
 * - Start-up: every module of the unbundled graph costs Node's ESM loader a resolve (stat calls,
 *   package scope lookups), a read and a link; `portsniff replay demo.pcap --json` took 0.13-0.14 s
 *   bundled against 0.17-0.19 s.
 * - The packet loop: in one module scope the engine's constants (row offsets, flags, tables) are
 *   plain `const` bindings the optimizing compiler folds, where across modules each is a live import
 *   binding read through a cell. Rolldown keeps `const` as written; esbuild rewrites every top-level
 *   `const` into `var`, which measured 8% more CPU on the 5M-packet reference replay than this
 *   bundle (paired), and no faster than no bundle at all.
 *
 * What is kept as it was:
 * - Lazy loading: code splitting keeps each `await import()` a chunk of its own (the proxy's relay, the
 *   live backends, the metrics exporter, the dashboard's session side), loaded only by the runs that
 *   need it, and the main thread and the worker threads share chunks instead of copies.
 * - Packages other than commander stay outside: prom-client and zod are loaded only by --metrics and
 *   --policy, yaml only when the rules cache is stale, Ink and React come from the dashboard's own bundle
 *   (scripts/bundle-dashboard.mjs), `cap` is an optional native module.
 * - Files found next to the code (import.meta.url): the chunks sit in dist/cli/, two levels below the
 *   repository like every tsc output directory, and the modules that find files reach them by paths
 *   that hold from both places (../../rules/, ../ui/dashboard.bundle.js, ../rules/ for the rules cache).
 *   The worker's script is ./worker.js next to the chunk that starts it, which is this bundle's worker.
 *
 * dist/cli/bundle-manifest.json lists, for each file written, the source modules (as tsc's dist/
 * paths) it contains: test/cli/startup.test.ts reads it to check which modules a command loads.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(REPO, 'dist/cli');
// dist/cli/main.js is written from entry.js (which starts the worker threads, then loads tsc's main.js).
const entries = { main: join(OUT, 'entry.js'), worker: join(REPO, 'dist/pipeline/worker.js') };

for (const file of Object.values(entries)) {
  if (!existsSync(file)) {
    console.error(`bundle-cli: ${file} is missing (run tsc first: npm run build)`);
    process.exit(1);
  }
}
// Chunks of an earlier build (their names carry content hashes).
for (const name of readdirSync(OUT)) if (/^(bundle-.*\.js(\.map)?|worker\.js(\.map)?|bundle-manifest\.json)$/.test(name)) rmSync(join(OUT, name));

/** Bare package imports stay imports, except commander (loaded by every run). */
function isExternal(id) {
  if (id.startsWith('.') || id.startsWith('/') || id.startsWith('\0')) return false;
  return id !== 'commander' && !id.startsWith('commander/');
}

const bundle = await rolldown({ input: entries, platform: 'node', external: isExternal, logLevel: 'warn' });
const { output } = await bundle.write({
  dir: OUT,
  format: 'esm',
  entryFileNames: '[name].js',
  chunkFileNames: 'bundle-[name]-[hash].js',
  sourcemap: true,
});
await bundle.close();

const manifest = {};
for (const o of output) {
  if (o.type !== 'chunk') continue;
  manifest[o.fileName] = o.moduleIds
    .filter((id) => !id.startsWith('\0'))
    .map((id) => relative(REPO, id))
    .sort();
}
writeFileSync(join(OUT, 'bundle-manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
