/**
 * Start-up cost: zod (~180 ms to load, the --policy schema) and prom-client (~140 ms, --metrics) are
 * loaded only by runs that use them. Checked in a fresh process on the built CLI by looking at
 * which packages ended up in the module cache. Likewise the proxy's relay and the live capture
 * backends: every module loaded stays in memory for the whole run (the relay and the backends
 * were ~1.8 MB of a flow flood's peak RSS, bench/README.md "Memory"); seen through a module hook.
 * And the Node built-ins that only some runs use (src/util/builtins.ts): seen in the list of
 * built-ins the process loaded.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const WRITER = join(ROOT, 'dist/export/line-writer.js');
const DNS = join(ROOT, 'fixtures/captures/real/dns-53.pcap');
const MANIFEST = join(ROOT, 'dist/cli/bundle-manifest.json');

// argv[1] is a placeholder: main.js runs itself when it is process.argv[1].
const PROBE = `
import { createRequire } from 'node:module';
const { main } = await import(process.argv[2]);
const { LineWriter } = await import(process.argv[3]);
const code = await main(process.argv.slice(4), { stdout: new LineWriter('/dev/null'), stderr: () => {}, stdin: process.stdin, isTTY: false, signal: new AbortController().signal });
const cache = Object.keys(createRequire(import.meta.url).cache);
const loaded = [...new Set(cache.map((k) => /node_modules\\/(zod|prom-client)\\//.exec(k)?.[1]).filter(Boolean))].sort();
console.log(JSON.stringify({ code, loaded }));
`;

// The same run under a module hook (a thread of its own in Node 20) that reports every ES module it
// loads; a last import marks the end, so every report before it has arrived. The bundle's CommonJS
// chunks (scripts/bundle-cli.mjs) are in require's cache.
const MODULE_PROBE = `
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const urls = [];
const END = 'data:text/javascript,export default 0';
const ended = new Promise((resolve) => port1.on('message', (u) => (u === END ? resolve() : urls.push(u))));
const hooks = 'let port; export function initialize(d) { port = d.port; } export async function load(url, context, next) { port.postMessage(url); return next(url, context); }';
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
const { main } = await import(process.argv[2]);
const { LineWriter } = await import(process.argv[3]);
await main(process.argv.slice(4), { stdout: new LineWriter('/dev/null'), stderr: () => {}, stdin: process.stdin, isTTY: false, signal: new AbortController().signal });
await import(END);
await ended;
port1.close();
const root = new URL('./', 'file://' + process.cwd() + '/').href;
const required = Object.keys(createRequire(import.meta.url).cache).map((f) => pathToFileURL(f).href);
console.log(JSON.stringify([...urls, ...required].filter((u) => u.startsWith(root + 'dist/')).map((u) => u.slice(root.length)).sort()));
`;

function loadedBy(args: string[]): { code: number; loaded: string[] } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, 'probe', MAIN, WRITER, ...args], { cwd: ROOT, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { code: number; loaded: string[] };
}

/** The dist/ files a run of the built CLI loads (the PROBE line with `args`). */
function loadedFiles(args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', MODULE_PROBE, 'probe', MAIN, WRITER, ...args], { cwd: ROOT, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as string[];
}

describe('start-up', () => {
  it('a plain replay loads neither zod nor prom-client', () => {
    expect(loadedBy(['replay', DNS, '--json'])).toEqual({ code: 0, loaded: [] });
  });

  it('--policy loads zod, --metrics loads prom-client', () => {
    expect(loadedBy(['replay', DNS, '--json', '--policy', 'fixtures/policy/fleet.yaml']).loaded).toEqual(['zod']);
    expect(loadedBy(['replay', DNS, '--json', '--metrics', '0']).loaded).toEqual(['prom-client']);
  });

  it('a replay loads neither the relay nor the live capture backends; proxy and live do', () => {
    const modules = (args: string[]): string[] => {
      const files = loadedFiles(args);
      const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string[]>;
      return files.flatMap((f) => (f.startsWith('dist/cli/') ? manifest[f.slice('dist/cli/'.length)] : undefined) ?? [f]);
    };
    const replay = modules(['replay', DNS, '--json']);
    expect(replay).toContain('dist/pipeline/engine.js');
    expect(replay.filter((m) => m.startsWith('dist/proxy/') && !/\/(config|mapping)\.js$/.test(m))).toEqual([]);
    expect(replay.filter((m) => m.startsWith('dist/capture/live/') && !m.endsWith('/types.js'))).toEqual([]);
    // The lazy imports are the ones these commands take (a listener on a free port, the interface list).
    expect(modules(['proxy', '--listen', '0', '--upstream', '127.0.0.1:9', '--duration', '0.1', '--json'])).toContain('dist/proxy/server.js');
    expect(modules(['interfaces', '--json'])).toContain('dist/capture/live/open.js');
  });

  it('the built CLI is a bundle: a replay loads a handful of files, not the ~100 modules of the source', () => {
    const files = loadedFiles(['replay', DNS, '--json']);
    // main.js, the code cache loader and the CommonJS chunks (the probe itself imports the unbundled
    // line writer and what it imports: errors, util/fifo, util/errno).
    const probeOwn = ['dist/export/line-writer.js', 'dist/errors.js', 'dist/util/fifo.js', 'dist/util/errno.js'];
    expect(files.filter((f) => !probeOwn.includes(f)).every((f) => /^dist\/cli\/(main\.js|code-cache\.js|esm-importer\.js|(main|bundle)-[\w-]+\.cjs)$/.test(f)), files.join(' ')).toBe(true);
    expect(files.filter((f) => f.endsWith('.cjs')).length).toBeGreaterThan(2);
    expect(files.filter((f) => !probeOwn.includes(f)).length).toBeLessThan(10);
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string[]>;
    expect(files.flatMap((f) => manifest[f.slice('dist/cli/'.length)] ?? []).length).toBeGreaterThan(60);
  });

  it('a plain replay loads no sockets, HTTP, child processes, gzip or worker threads; the runs that use them do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portsniff-builtins-'));
    try {
      // Preloaded: at exit, the built-ins this process loaded (Node's own list), into a file. The
      // CLI's stdout and stderr are /dev/null: a pipe there would itself load node:net.
      const probe = join(dir, 'probe.cjs');
      writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(process.env.BUILTINS_OUT, JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)))));`);
      const gz = join(dir, 'dns.pcap.gz');
      writeFileSync(gz, gzipSync(readFileSync(DNS)));
      const LAZY = ['http', 'net', 'dgram', 'child_process', 'zlib', 'worker_threads'];
      const lazyLoaded = (args: string[]): string[] => {
        const out = join(dir, 'builtins.json');
        rmSync(out, { force: true });
        const r = spawnSync(process.execPath, ['--require', probe, MAIN, ...args], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, BUILTINS_OUT: out } });
        expect(r.status, args.join(' ')).toBe(0);
        const loaded = JSON.parse(readFileSync(out, 'utf8')) as string[];
        return LAZY.filter((m) => loaded.includes(m));
      };
      expect(lazyLoaded(['replay', DNS, '--json', '--workers', '0'])).toEqual([]);
      expect(lazyLoaded(['replay', gz, '--json', '--workers', '0'])).toEqual(['zlib']);
      expect(lazyLoaded(['replay', DNS, '--json', '--workers', '1'])).toContain('worker_threads');
      expect(lazyLoaded(['replay', DNS, '--json', '--workers', '0', '--metrics', '0'])).toEqual(expect.arrayContaining(['http', 'net']));
      expect(lazyLoaded(['replay', DNS, '--json', '--workers', '0', '--ipfix', '127.0.0.1:4739'])).toContain('dgram');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
