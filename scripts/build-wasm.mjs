/**
 * Compiles the engine's fast path (src/wasm/fast-path.ts, AssemblyScript) to dist/wasm/fast-path.wasm
 * with `asc` (dev dependency `assemblyscript`). Run by `npm run build` after tsc:
 *
 *   node scripts/build-wasm.mjs
 *
 * The stub runtime (the module allocates nothing), no assertions (every read is bounds-checked by
 * the code itself, against the record's captured length), and the memory imported: the caller
 * creates it at its final size (src/pipeline/fast-path.ts says why).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(REPO, 'dist', 'wasm', 'fast-path.wasm');
const asc = join(dirname(createRequire(join(REPO, 'package.json')).resolve('assemblyscript/package.json')), 'bin', 'asc.js');
mkdirSync(dirname(OUT), { recursive: true });
execFileSync(process.execPath, [asc, join(REPO, 'src', 'wasm', 'fast-path.ts'), '-O3', '--runtime', 'stub', '--noAssert', '--importMemory', '-o', OUT], { cwd: REPO, stdio: 'inherit' });
