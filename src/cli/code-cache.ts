/**
 * Loads the built CLI's CommonJS chunks (scripts/bundle-cli.mjs) with V8's code cache: the bytecode
 * of every function a replay compiled, saved by a training run at build time
 * (scripts/code-cache.mjs) in `<chunk>.v8cache` next to the chunk. A run then neither parses the
 * ~700 KB of the bundle nor compiles its functions one by one as they are first called. Node 20 has
 * no code cache for ES modules (module.enableCompileCache() came in Node 22.1), hence CommonJS
 * chunks behind the ESM entries (dist/cli/main.js, dist/cli/worker.js).
 *
 * Measured (bench/README.md "The CLI bundle"): ~30 ms less per run, `replay demo.pcap --json` 185 ->
 * 153 ms wall (medians of 20; Node's own start-up is 60-90 ms), paired A/B 0.86.
 *
 * A cache is only ever used for the bytes it was made from, and only if it is whole: V8 refuses a
 * cache of another V8 version or other V8 flags, but a damaged one crashes the process (a release V8
 * does not check its checksum), and it checks only the length of the source. So each cache file
 * starts with a SHA-256 of the chunk's source and of the V8 data (2.7 ms for all chunks at start-up, profiled);
 * on any mismatch the chunk compiles as it would without a cache. PORTSNIFF_CODE_CACHE=off loads the
 * chunks without their caches (A/B runs), =write makes them (scripts/code-cache.mjs).
 *
 * Imported only by the two entries the bundle script writes; nothing else may import it (it patches
 * the CommonJS loader of the thread, for the chunks of its own directory only).
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vm from 'node:vm';
import { setEsmImporter } from './esm-importer.js';

export type CodeCacheMode = 'use' | 'off' | 'write';

/** What happened to each chunk this thread loaded (tests; the build's training run). */
export interface ChunkLoad {
  file: string;
  /**
   * 'accepted': compiled from its cache; 'rejected': V8 refused the cache; 'mismatch': the cache file
   * is not whole or not of this source (not given to V8); 'none': no cache file; 'write': not read.
   */
  cache: 'accepted' | 'rejected' | 'mismatch' | 'none' | 'write';
}

/** The cache file: MAGIC, SHA-256 of the chunk's source, SHA-256 of the V8 data, the V8 data. */
const MAGIC = Buffer.from('portsniff-v8cache-1\n', 'latin1');
const DIGEST_BYTES = 32;
const HEADER_BYTES = MAGIC.length + 2 * DIGEST_BYTES;

function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The cache file's bytes for V8's `data` of a chunk whose source is `source`. */
export function encodeCacheFile(source: string, data: Uint8Array): Buffer {
  return Buffer.concat([MAGIC, sha256(source), sha256(data), data]);
}

/** V8's data from a cache file, or null when the file is not whole or not of `source`. */
export function decodeCacheFile(source: string, file: Buffer): Buffer | null {
  if (file.length <= HEADER_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const data = file.subarray(HEADER_BYTES);
  const at = MAGIC.length;
  if (!file.subarray(at, at + DIGEST_BYTES).equals(sha256(source))) return null;
  if (!file.subarray(at + DIGEST_BYTES, HEADER_BYTES).equals(sha256(data))) return null;
  return data;
}

export function codeCacheMode(env: Readonly<Record<string, string | undefined>>): CodeCacheMode {
  const v = env['PORTSNIFF_CODE_CACHE'];
  return v === 'off' || v === 'write' ? v : 'use';
}

/** The cache file of a chunk. */
export function cacheFileOf(chunk: string): string {
  return `${chunk}.v8cache`;
}

interface CompiledChunk {
  file: string;
  source: string;
  script: vm.Script;
}

interface LoaderState {
  dir: string;
  mode: CodeCacheMode;
  loads: ChunkLoad[];
  compiled: CompiledChunk[];
}

let state: LoaderState | null = null;

type Compile = (this: Module, content: string, filename: string) => unknown;

/**
 * Requires `chunk` (relative to `entryUrl`'s directory) and returns its exports; it and the chunks it
 * requires come from their code caches. The first call in a thread installs the loader.
 */
export function requireChunk(entryUrl: string, chunk: string, env: Readonly<Record<string, string | undefined>> = process.env): unknown {
  const dir = resolve(dirname(fileURLToPath(entryUrl)));
  const require = createRequire(entryUrl);
  setEsmImporter(importEsm);
  const mode = codeCacheMode(env);
  if (mode === 'off') return require(join(dir, chunk));
  if (state === null) {
    state = { dir, mode, loads: [], compiled: [] };
    install(state);
  }
  return require(join(dir, chunk));
}

/**
 * import() for the chunks (esm-importer.ts): this module is an ES module of Node's own loader, where
 * import() works; in a chunk's code from a cache it fails (Node 20).
 */
function importEsm(url: string): Promise<unknown> {
  return import(url);
}

/** The chunks this thread has loaded so far, and how. */
export function chunkLoads(): readonly ChunkLoad[] {
  return state?.loads ?? [];
}

function install(s: LoaderState): void {
  const proto = Module.prototype as unknown as { _compile: Compile };
  const compile = proto._compile;
  proto._compile = function compileChunk(this: Module, content: string, filename: string): unknown {
    if (dirname(filename) !== s.dir || !filename.endsWith('.cjs')) return compile.call(this, content, filename);
    // A chunk starting with a #! line (Node's loader skips it; a vm.Script would not).
    const source = Module.wrap(content.startsWith('#!') ? `//${content.slice(2)}` : content);
    let file: Buffer | null = null;
    if (s.mode === 'use') {
      try {
        file = readFileSync(cacheFileOf(filename));
      } catch {
        file = null;
      }
    }
    const cachedData = file === null ? null : decodeCacheFile(source, file);
    const script = new vm.Script(source, { filename, ...(cachedData !== null ? { cachedData } : {}) });
    let cache: ChunkLoad['cache'] = 'write';
    if (s.mode === 'use') cache = file === null ? 'none' : cachedData === null ? 'mismatch' : script.cachedDataRejected === true ? 'rejected' : 'accepted';
    s.loads.push({ file: filename, cache });
    if (s.mode === 'write') s.compiled.push({ file: filename, source, script });
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, createRequire(filename), this, filename, dirname(filename));
  };
  if (s.mode === 'write') process.once('exit', () => writeCaches(s));
}

/** Writes each loaded chunk's cache, made now that the run has compiled what it calls. */
function writeCaches(s: LoaderState): void {
  for (const { file, source, script } of s.compiled) {
    const target = cacheFileOf(file);
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, encodeCacheFile(source, script.createCachedData()));
    renameSync(tmp, target);
  }
}
