/**
 * Bundles the CLI (dist/cli/main.js as tsc wrote it, and the worker thread's script
 * dist/pipeline/worker.js) into a few ES modules in dist/cli/: main.js (replacing tsc's), worker.js,
 * and bundle-*.js chunks. Run by `npm run build` after tsc, the rules cache and the dashboard bundle:
 *
 *   node scripts/bundle-cli.mjs
 *
 * Why: every module of the unbundled graph costs Node's ESM loader a resolve (stat calls, package
 * scope lookups), a read and a link, about 0.3 ms each over the ~110 modules a replay loads. Bundled,
 * `portsniff replay demo.pcap --json` took 0.135-0.145 s against 0.18-0.20 s end to end (bench/README.md
 * "Start-up"), and that saving is in every run, however large the capture.
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
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(REPO, 'dist/cli');
const entries = { main: join(OUT, 'main.js'), worker: join(REPO, 'dist/pipeline/worker.js') };

for (const file of Object.values(entries)) {
  if (!existsSync(file)) {
    console.error(`bundle-cli: ${file} is missing (run tsc first: npm run build)`);
    process.exit(1);
  }
}
// Chunks of an earlier build (their names carry content hashes).
for (const name of readdirSync(OUT)) if (/^(bundle-.*\.js(\.map)?|worker\.js(\.map)?|bundle-manifest\.json)$/.test(name)) rmSync(join(OUT, name));

/** Bare package imports stay imports, except commander (loaded by every run). */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || args.path === 'commander' || args.path.startsWith('commander/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

const result = await build({
  entryPoints: entries,
  absWorkingDir: REPO,
  outdir: OUT,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  chunkNames: 'bundle-[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Commander is CommonJS: its require() calls of Node's built-ins need a require in an ES module.
  banner: { js: "import { createRequire as __portsniffRequire } from 'node:module'; const require = __portsniffRequire(import.meta.url);" },
  // tsc's source maps are read, so a stack trace maps to src/ (node --enable-source-maps).
  sourcemap: true,
  plugins: [externalPackages],
  metafile: true,
  logLevel: 'warning',
});

const manifest = {};
for (const [out, info] of Object.entries(result.metafile.outputs)) {
  if (out.endsWith('.map')) continue;
  manifest[relative(OUT, join(REPO, out))] = Object.keys(info.inputs)
    .map((i) => relative(REPO, join(REPO, i)))
    .sort();
}
writeFileSync(join(OUT, 'bundle-manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
