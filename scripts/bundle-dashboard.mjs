/**
 * Bundles the dashboard (dist/ui/dashboard-worker.js: the dashboard thread's script, which also
 * exports createDashboard; with Ink, React and their dependencies) into one ES module,
 * dist/ui/dashboard.bundle.js. Run by `npm run build` after `tsc`:
 *
 *   node scripts/bundle-dashboard.mjs
 *
 * Why: loading Ink 6.8 and React from node_modules is ~90 ESM files plus the CommonJS React builds
 * that Node's module lexer has to scan: ~400 ms on this 2-core machine before the first frame,
 * against ~90 ms for one bundled file (docs/dashboard.md "Start-up"). The CLI loads the bundle when
 * it exists and the unbundled module otherwise (running from the TypeScript sources).
 *
 * React is bundled in its production build (NODE_ENV is fixed at build time: the development build
 * costs three times as much per frame). Ink imports its React DevTools hook only when DEV=true; that
 * module needs `react-devtools-core`, which portsniff does not ship: it is replaced by a module that
 * fails the way a missing package does, so Ink prints its usual hint instead of crashing (and the
 * package.json Ink reads in that mode is inlined).
 *
 * Why esbuild here when the CLI bundle is rolldown's (for its `const`s): built with rolldown the
 * dashboard drew frames at the same CPU, the replay ratio did not move, and its thread started ~8 ms
 * later (V8 compiles rolldown's output of this code twice as slowly): bench/README.md "The dashboard
 * bundle: esbuild or rolldown".
 */
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(REPO, 'dist/ui/dashboard-worker.js');
const outfile = join(REPO, 'dist/ui/dashboard.bundle.js');

if (!existsSync(entry)) {
  console.error(`bundle-dashboard: ${entry} is missing (run tsc first: npm run build)`);
  process.exit(1);
}

/**
 * Ink with DEV=true reads its own package.json next to its build directory; in the bundle that
 * would be dist/package.json. The one line that does it reads Ink's (name and version) inlined.
 */
const PACKAGE_JSON_READ = "fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')";
const inkPackageJson = {
  name: 'ink-package-json',
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/]ink[\\/]build[\\/]reconciler\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(PACKAGE_JSON_READ)) throw new Error(`${args.path}: Ink changed how it reads its package.json; update scripts/bundle-dashboard.mjs`);
      const { name, version } = JSON.parse(readFileSync(join(dirname(args.path), '..', 'package.json'), 'utf8'));
      return { contents: source.replace(PACKAGE_JSON_READ, JSON.stringify(JSON.stringify({ name, version }))), loader: 'js' };
    });
  },
};

/** Ink's devtools.js (DEV=true only) becomes a module that throws ERR_MODULE_NOT_FOUND. */
const noDevtools = {
  name: 'no-react-devtools',
  setup(b) {
    b.onResolve({ filter: /^\.\/devtools\.js$/ }, (args) => (args.importer.includes('node_modules/ink/') ? { path: 'devtools', namespace: 'no-devtools' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'no-devtools' }, () => ({
      contents:
        "const e = new Error(\"Cannot find package 'react-devtools-core' (not bundled with portsniff)\"); e.code = 'ERR_MODULE_NOT_FOUND'; throw e;",
      loader: 'js',
    }));
  },
};

/**
 * Ink's output stage (build/output.js, imported by its renderer) becomes src/ui/fast-output.ts
 * built over it: frames of one-cell characters in separate rows skip Ink's per-cell grid, anything
 * else still goes through Ink's own Output. Likewise Ink's widest-line (every text node is measured
 * with it on every frame) answers by length for one-cell text (docs/dashboard.md "Ink's output stage").
 */
const fastOutput = {
  name: 'fast-output',
  setup(b) {
    const fast = join(REPO, 'dist/ui/fast-output.js');
    const inInk = /node_modules[\\/]ink[\\/]build[\\/][^\\/]+\.js$/;
    b.onResolve({ filter: /^\.\/output\.js$/ }, (args) =>
      /node_modules[\\/]ink[\\/]build[\\/]renderer\.js$/.test(args.importer) ? { path: join(dirname(args.importer), 'output.js'), namespace: 'fast-output' } : undefined,
    );
    b.onResolve({ filter: /^widest-line$/ }, (args) => (inInk.test(args.importer) ? { path: join(dirname(args.importer), 'widest-line'), namespace: 'fast-widest-line' } : undefined));
    const needFast = () => {
      if (!existsSync(fast)) throw new Error(`${fast} is missing (run tsc first: npm run build)`);
    };
    b.onLoad({ filter: /.*/, namespace: 'fast-output' }, (args) => {
      needFast();
      return {
        contents: [
          `import InkOutput from ${JSON.stringify(args.path)};`,
          "import stringWidth from 'string-width';",
          "import { styledCharsFromTokens, tokenize } from '@alcalzone/ansi-tokenize';",
          `import { makeFastOutput } from ${JSON.stringify(fast)};`,
          'export default makeFastOutput(InkOutput, stringWidth, (s) => styledCharsFromTokens(tokenize(s)));',
        ].join('\n'),
        // Bare imports resolve as Ink's own do.
        resolveDir: dirname(args.path),
        loader: 'js',
      };
    });
    b.onLoad({ filter: /.*/, namespace: 'fast-widest-line' }, (args) => {
      needFast();
      return {
        contents: [
          "import widestLine from 'widest-line';",
          "import stringWidth from 'string-width';",
          `import { makeFastWidestLine } from ${JSON.stringify(fast)};`,
          'export default makeFastWidestLine(widestLine, stringWidth);',
        ].join('\n'),
        resolveDir: dirname(args.path),
        loader: 'js',
      };
    });
  },
};

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // fetch: Yoga's loader fetches its inlined wasm (a data: URL) when fetch exists, which in Node
  // loads undici first (~30-45 ms of the dashboard thread's start); without it, it decodes the
  // base64 itself. Nothing else in the dashboard uses fetch.
  define: { 'process.env.NODE_ENV': '"production"', fetch: 'undefined' },
  // CommonJS dependencies (React) call require() for Node built-ins: give the ES module one.
  banner: { js: "import { createRequire as __portsniffRequire } from 'node:module'; const require = __portsniffRequire(import.meta.url);" },
  plugins: [noDevtools, inkPackageJson, fastOutput],
  legalComments: 'eof',
  logLevel: 'warning',
});
