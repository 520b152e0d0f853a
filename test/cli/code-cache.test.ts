/**
 * The built CLI's chunks load with V8's code cache (src/cli/code-cache.ts, made at build time by
 * scripts/code-cache.mjs), and a cache that is damaged, stale, of another chunk or refused by V8
 * changes nothing but the start-up time: never the output, never a crash (a damaged cache given to
 * V8 aborts the process, which the file's own digests prevent). Runs the built CLI in fresh
 * processes; the damaged cases on a copy of dist/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCacheFile, encodeCacheFile } from '../../src/cli/code-cache.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEMO = join(ROOT, 'fixtures/captures/demo.pcap');

// Loads the CLI of the tree at argv[1] (with -e, the first argument) through its loader, runs a replay, prints how each chunk loaded.
const PROBE = `
import { readdirSync } from 'node:fs';
const tree = process.argv[1];
const { requireChunk, chunkLoads } = await import(tree + '/dist/cli/code-cache.js');
const entry = readdirSync(tree + '/dist/cli').find((n) => /^main-.*\\.cjs$/.test(n));
const cli = requireChunk('file://' + tree + '/dist/cli/main.js', './' + entry);
const { LineWriter } = await import(tree + '/dist/export/line-writer.js');
const code = await cli.main(['replay', process.argv[2], '--json', '--workers', '0'], { stdout: new LineWriter('/dev/null'), stderr: () => {}, stdin: process.stdin, isTTY: false, signal: new AbortController().signal });
console.log(JSON.stringify({ code, loads: chunkLoads().map((l) => [l.file.split('/').pop(), l.cache]) }));
`;

interface Probe {
  code: number;
  loads: [string, string][];
}

function probe(tree: string, nodeFlags: string[] = [], env: NodeJS.ProcessEnv = process.env): Probe {
  const r = spawnSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', PROBE, tree, DEMO], { encoding: 'utf8', env });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Probe;
}

/** `replay demo.pcap --json` by the tree's dist/cli/main.js. */
function replayJson(tree: string, env: NodeJS.ProcessEnv = process.env, nodeFlags: string[] = []): string {
  const r = spawnSync(process.execPath, [...nodeFlags, join(tree, 'dist/cli/main.js'), 'replay', DEMO, '--json', '--workers', '0'], { encoding: 'utf8', env });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('the code cache of the built CLI', () => {
  let copy = '';
  let expected = '';
  const cacheOf = (prefix: string): string => join(copy, 'dist/cli', readdirSync(join(copy, 'dist/cli')).find((n) => n.startsWith(prefix) && n.endsWith('.cjs.v8cache'))!);

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'portsniff-code-cache-'));
    cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(ROOT, 'rules'), join(copy, 'rules'));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    expected = replayJson(ROOT);
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('loads every chunk of a replay from the cache npm run build wrote', () => {
    const { code, loads } = probe(ROOT);
    expect(code).toBe(0);
    expect(loads.length).toBeGreaterThanOrEqual(4);
    expect(loads.filter(([, how]) => how !== 'accepted')).toEqual([]);
    expect(loads.some(([f]) => f.startsWith('bundle-snapshot-feed-'))).toBe(true);
  });

  it('compiles a chunk whose cache is damaged, cut short or of another chunk, and the output is the same', () => {
    const feed = cacheOf('bundle-snapshot-feed-');
    const good = readFileSync(feed);
    const flipped = Buffer.from(good);
    for (let i = 1000; i < flipped.length; i += 997) flipped[i]! ^= 0x5a;
    const cases: [string, Buffer][] = [
      ['damaged', flipped],
      ['cut short', good.subarray(0, good.length >> 1)],
      ['of another chunk', readFileSync(cacheOf('bundle-main-'))],
      ['empty', Buffer.alloc(0)],
    ];
    try {
      for (const [name, bytes] of cases) {
        writeFileSync(feed, bytes);
        const { loads } = probe(copy);
        expect(loads.find(([f]) => f.startsWith('bundle-snapshot-feed-'))?.[1], name).toBe('mismatch');
        expect(loads.filter(([f]) => !f.startsWith('bundle-snapshot-feed-')).every(([, how]) => how === 'accepted'), name).toBe(true);
        expect(replayJson(copy), name).toBe(expected);
      }
    } finally {
      writeFileSync(feed, good);
    }
  });

  it('a cache V8 refuses (other V8 flags) and no cache at all give the same output', () => {
    const refused = probe(copy, ['--max-lazy']);
    expect(refused.loads.length).toBeGreaterThanOrEqual(4);
    expect(refused.loads.every(([, how]) => how === 'rejected')).toBe(true);
    expect(replayJson(copy, process.env, ['--max-lazy'])).toBe(expected);
    expect(probe(copy, [], { ...process.env, PORTSNIFF_CODE_CACHE: 'off' }).loads).toEqual([]);
    expect(replayJson(copy, { ...process.env, PORTSNIFF_CODE_CACHE: 'off' })).toBe(expected);
  });

  it('PORTSNIFF_CODE_CACHE=write makes the caches a later run accepts (scripts/code-cache.mjs)', () => {
    const cli = join(copy, 'dist/cli');
    const saved = readdirSync(cli).filter((n) => n.endsWith('.v8cache')).map((n) => [n, readFileSync(join(cli, n))] as const);
    try {
      for (const [n] of saved) rmSync(join(cli, n));
      expect(probe(copy).loads.every(([, how]) => how === 'none')).toBe(true);
      expect(replayJson(copy, { ...process.env, PORTSNIFF_CODE_CACHE: 'write' })).toBe(expected);
      const { loads } = probe(copy);
      expect(loads.length).toBeGreaterThanOrEqual(4);
      expect(loads.every(([, how]) => how === 'accepted')).toBe(true);
    } finally {
      for (const [n, bytes] of saved) writeFileSync(join(cli, n), bytes);
    }
  });
});

describe('a chunk that imports an ES module (the dashboard drawn in the session thread)', () => {
  it('imports it through the entry\'s importer, also when the chunk comes from a cache another process wrote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portsniff-code-cache-import-'));
    try {
      writeFileSync(join(dir, 'esm.mjs'), 'export const answer = 42;\n');
      // What cli/face.ts does (cli/esm-importer.ts); the function is compiled lazily, so its code is in the cache.
      writeFileSync(join(dir, 'chunk-abcdefgh.cjs'), [
        'exports.load = function load() {',
        '  const url = require("node:url").pathToFileURL(__dirname + "/esm.mjs").href;',
        '  return globalThis[Symbol.for("portsniff.esmImporter")](url);',
        '};',
      ].join('\n'));
      writeFileSync(join(dir, 'entry.mjs'), [
        `import { requireChunk, chunkLoads } from ${JSON.stringify(join(ROOT, 'dist/cli/code-cache.js'))};`,
        `const chunk = requireChunk(import.meta.url, './chunk-abcdefgh.cjs');`,
        `const m = await chunk.load();`,
        `console.log(JSON.stringify({ answer: m.answer, loads: chunkLoads().map((l) => l.cache) }));`,
      ].join('\n'));
      const run = (env: NodeJS.ProcessEnv): { answer: number; loads: string[] } => {
        const r = spawnSync(process.execPath, [join(dir, 'entry.mjs')], { encoding: 'utf8', env: { ...process.env, ...env } });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        return JSON.parse(r.stdout.trim()) as { answer: number; loads: string[] };
      };
      expect(run({ PORTSNIFF_CODE_CACHE: 'write' })).toEqual({ answer: 42, loads: ['write'] });
      expect(run({})).toEqual({ answer: 42, loads: ['accepted'] });
      expect(run({ PORTSNIFF_CODE_CACHE: 'off' })).toEqual({ answer: 42, loads: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the cache file', () => {
  const source = '(function (exports) { exports.x = 1; })';
  const data = Buffer.from('v8 data, any bytes \u0000\u0001');

  it('gives back its data for its own source only', () => {
    const file = encodeCacheFile(source, data);
    expect(decodeCacheFile(source, file)?.equals(data)).toBe(true);
    expect(decodeCacheFile(source.replace('1', '2'), file)).toBeNull();
  });

  it('is refused when any byte of it changes or it is cut', () => {
    const file = encodeCacheFile(source, data);
    for (let i = 0; i < file.length; i++) {
      const bad = Buffer.from(file);
      bad[i]! ^= 1;
      expect(decodeCacheFile(source, bad), `byte ${i}`).toBeNull();
    }
    for (let n = 0; n < file.length; n++) expect(decodeCacheFile(source, file.subarray(0, n)), `${n} bytes`).toBeNull();
  });
});
