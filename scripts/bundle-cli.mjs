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
// Files of an earlier build (chunk names carry content hashes; a code cache belongs to its chunk).
for (const name of readdirSync(OUT)) {
  if (/^((bundle|main|worker)-.*\.cjs(\.map|\.v8cache)?|bundle-.*\.js(\.map)?|worker\.js(\.map)?|bundle-manifest\.json)$/.test(name)) rmSync(join(OUT, name));
}

/** Bare package imports stay imports, except commander (loaded by every run). */
function isExternal(id, importer) {
  // The dashboard without its bundle (a tree built by tsc alone) stays tsc's ES module, imported as
  // face.js wrote it (the chunks sit in dist/cli/ like face.js): Ink is ESM only.
  if (id === '../ui/dashboard.js' && importer === join(OUT, 'face.js')) return true;
  if (id.startsWith('.') || id.startsWith('/') || id.startsWith('\0')) return false;
  return id !== 'commander' && !id.startsWith('commander/');
}

/**
 * commander requires node:child_process when it loads, for executable subcommands (portsniff has
 * none): that module and the sockets it pulls in (net, dgram) were ~4 ms of every run's start-up
 * (bench/README.md "Start-up: built-ins on first use"). Its one use, spawn(), now loads it when
 * called. A commander whose line differs fails the build here rather than loading it again unseen.
 */
const COMMANDER_CHILD_PROCESS = "const childProcess = require('node:child_process');";
const commanderLazyChildProcess = {
  name: 'commander-lazy-child-process',
  transform(code, id) {
    if (!id.replaceAll('\\', '/').endsWith('/node_modules/commander/lib/command.js')) return null;
    if (!code.includes(COMMANDER_CHILD_PROCESS) || (code.match(/childProcess\.(\w+)/g) ?? []).some((use) => use !== 'childProcess.spawn')) {
      throw new Error('bundle-cli: commander/lib/command.js no longer loads and uses node:child_process as this build expects (commanderLazyChildProcess)');
    }
    // One line for one line: the mappings stay as they were (map: null says so).
    return { code: code.replace(COMMANDER_CHILD_PROCESS, "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };"), map: null };
  },
};

const bundle = await rolldown({ input: entries, platform: 'node', external: isExternal, logLevel: 'warn', plugins: [commanderLazyChildProcess] });
const { output } = await bundle.write({
  dir: OUT,
  format: 'cjs',
  entryFileNames: '[name]-[hash].cjs',
  chunkFileNames: 'bundle-[name]-[hash].cjs',
  sourcemap: true,
  // Doc comments stay in the sources (and the source maps point there): in the chunks they were
  // most of the text V8 scans and keeps, and their non-ASCII characters (§) made it keep each
  // chunk's source as two bytes per character.
  comments: { legal: true, annotation: true, jsdoc: false },
  // As face.js wrote it: relative to dist/cli/, where the chunks are too.
  paths: (id) => (id === join(REPO, 'dist/ui/dashboard.js') ? '../ui/dashboard.js' : id),
});
await bundle.close();

const entryChunk = (name) => output.find((o) => o.type === 'chunk' && o.isEntry && o.name === name).fileName;
for (const d of output) {
  if (d.type === 'chunk' && /(^|[^\w.])import\("\.\.?\/(?!ui\/dashboard\.js")/m.test(d.code.replace(/^\s*\*.*$/gm, ''))) {
    console.error(`bundle-cli: ${d.fileName} imports a relative ES module at run time`);
    process.exit(1);
  }
}
// The ES module entries: each loads its CommonJS chunk through the code cache loader (code-cache.ts).
writeFileSync(
  join(OUT, 'main.js'),
  `#!/usr/bin/env node
// Written by scripts/bundle-cli.mjs: the CLI is ${entryChunk('main')} and the chunks it requires, loaded with their code caches (code-cache.ts).
import { requireChunk } from './code-cache.js';
const entry = requireChunk(import.meta.url, './${entryChunk('main')}');
/** main.ts's main(), for code that imports the built CLI (the start-up tests). */
export const main = entry.main;
if (entry.isProcessEntry(import.meta.url)) entry.start(process.argv.slice(2));
`,
);
writeFileSync(
  join(OUT, 'worker.js'),
  `// Written by scripts/bundle-cli.mjs: a worker thread's script (pipeline/worker.ts), from ${entryChunk('worker')} with its code cache (code-cache.ts).
import { requireChunk } from './code-cache.js';
requireChunk(import.meta.url, './${entryChunk('worker')}');
`,
);

const manifest = {};
for (const o of output) {
  if (o.type !== 'chunk') continue;
  manifest[o.fileName] = o.moduleIds
    .filter((id) => !id.startsWith('\0'))
    .map((id) => relative(REPO, id))
    .sort();
}
manifest['main.js'] = ['dist/cli/code-cache.js', 'dist/cli/esm-importer.js'];
manifest['worker.js'] = ['dist/cli/code-cache.js', 'dist/cli/esm-importer.js'];
writeFileSync(join(OUT, 'bundle-manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
