/**
 * `portsniff replay` as a user runs it: the built CLI (dist/cli/main.js, made by `npm run build`,
 * which `npm test` runs first) in a child process. Exit codes, one-line errors for broken files,
 * the flow log to a file and to stdout, stdin and gzip input, help, a reader that closes stdout
 * early, and SIGTERM in the middle of a long replay.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/export/summary.js';
import { finished, lines, noStack, type Result } from '../helpers/cli-result.js';
import { writeBigCapture } from './replay-gen.js';
import { fileYaml, ruleYaml } from '../rules/rule-builders.js';
import { buildPcap } from '../../src/capture/pcap-writer.js';
import { ipv4Tcp } from '../../fixtures/gen/packet-builder.js';
import { vxlanFrame } from '../../fixtures/gen/tunnel-builder.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const DEMO = join(ROOT, 'fixtures/captures/demo.pcap');
const DNS = join(ROOT, 'fixtures/captures/real/dns-53.pcap');

let dir = '';

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'portsniff-replay-'));
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Runs `node dist/cli/main.js ...args` in the temp dir; `input` is piped to stdin (then EOF). */
function cli(args: readonly string[], input?: Uint8Array): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [MAIN, ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    p.stdin.on('error', () => {});
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}


/** Offsets of the records of a classic little-endian pcap: [offset, capLen] each. */
function pcapRecords(b: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let p = 24; p + 16 <= b.length; ) {
    const cap = b.readUInt32LE(p + 8);
    if (p + 16 + cap > b.length) break;
    out.push([p, cap]);
    p += 16 + cap;
  }
  return out;
}

function tmp(name: string): string {
  return join(dir, name);
}

describe('exit codes and help', () => {
  it('a good capture: exit 0, text summary on stdout, nothing on stderr', async () => {
    const r = await cli(['replay', DEMO]);
    expect(r.code).toBe(0);
    // (A progress line appears only if the run takes over 2 s, as on a very loaded machine.)
    expect(lines(r.stderr).filter((l) => !/^portsniff: \S+ packets \(/.test(l))).toEqual([]);
    expect(r.stdout).toMatch(/^portsniff: .*demo\.pcap: pcap, little-endian, link types: Ethernet \(1\)$/m);
    expect(r.stdout).toMatch(/^\d+ packets, .* on the wire, \d+ flows/m);
    expect(r.stdout).toContain('zeebe.gateway-grpc');
  });

  it('--help teaches the commands, examples and exit codes; replay --help every option', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('replay');
    expect(top.stdout).toContain('Exit codes: 0 ok, 1 runtime error');
    expect(top.stdout).toContain('portsniff replay -');
    const sub = await cli(['replay', '--help']);
    expect(sub.code).toBe(0);
    for (const opt of ['--json', '--flows <path>', '--max-flows <n>', '--idle-timeout <seconds>', '--active-timeout <seconds>', '--rules <dir>', '--products <list>', '--no-rules', '--top <n>', '--monitoring-hosts <list>']) {
      expect(sub.stdout).toContain(opt);
    }
    expect(sub.stdout).toMatch(/- for standard input|- for stdin/);
    expect(sub.stdout).toContain('--workers <n>');
    expect(sub.stdout).toContain('Examples:');
    expect(sub.stdout).toContain('portsniff replay capture.pcap --flows flows.ndjson');
    expect(sub.stdout).toContain('Exit codes: 0 ok');
    expect(sub.stdout).toContain('--decap <mode>');
    expect(sub.stdout).toContain('--vxlan-port <port>');
    expect(sub.stdout).toContain('portsniff replay node.pcap --vxlan-port 4790');
  });

  it('--decap and --vxlan-port: bad values are usage errors; a VXLAN port opens that port\'s tunnels', async () => {
    const bad = await cli(['replay', DEMO, '--decap', 'maybe']);
    expect([bad.code, lines(bad.stderr)]).toEqual([2, ["portsniff: --decap must be auto or off, got 'maybe'"]]);
    const port = await cli(['replay', DEMO, '--vxlan-port', '70000']);
    expect([port.code, lines(port.stderr)]).toEqual([2, ['portsniff: --vxlan-port must be between 1 and 65535, got 70000']]);
    // VXLAN on UDP 9999 (not a default port): closed by default, opened with --vxlan-port 9999.
    const inner = ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 6379, flags: 'S' });
    const file = tmp('vxlan-9999.pcap');
    writeFileSync(file, buildPcap([{ tsSec: 1_700_000_000, data: vxlanFrame({ src: '192.168.0.1', dst: '192.168.0.2', dport: 9999, vni: 5 }, inner) }], { linkType: 1 }));
    const closed = JSON.parse((await cli(['replay', file, '--json'])).stdout) as RunSummary;
    const open = JSON.parse((await cli(['replay', file, '--json', '--vxlan-port', '9999', '--vxlan-port', '10000'])).stdout) as RunSummary;
    expect([closed.totals.flows, closed.totals.encapsulations]).toEqual([1, []]);
    expect([open.totals.flows, open.totals.encapsulations]).toEqual([2, [{ type: 'vxlan', id: 5, flows: 1, packets: 1, bytes: 104 }]]);
    expect(open.options).toMatchObject({ decap: 'auto', vxlanPorts: [4789, 8472, 9999, 10000] });
    const text = await cli(['replay', file, '--vxlan-port', '9999']);
    expect(text.stdout).toMatch(/^encapsulations \(flows found inside each, at any depth\)$/m);
    expect(text.stdout).toMatch(/^vxlan\s+5\s+1\s+1\s+104 B$/m);
  });

  it('a bad --monitoring-hosts list is a usage error naming the item', async () => {
    const r = await cli(['replay', DEMO, '--monitoring-hosts', '10.0.0.0/8,monitoring.example.com']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual(["portsniff: --monitoring-hosts: 'monitoring.example.com' is not an IPv4 or IPv6 address or prefix"]);
  });

  it('an unknown option is a usage error: exit 2, named on stderr, no stack trace', async () => {
    const r = await cli(['replay', DEMO, '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)[0]).toContain("unknown option '--bogus'");
    noStack(r.stderr);
  });

  it('commander\'s usage errors read like the tool\'s own (portsniff: ...), with a suggestion or what to do', async () => {
    expect((await cli(['replay', DEMO, '--spee', '1x'])).stderr).toBe("portsniff: unknown option '--spee' (Did you mean --speed?)\n");
    const two = await cli(['replay', DEMO, DNS]);
    expect(two.code).toBe(2);
    expect(two.stderr).toBe(
      "portsniff: too many arguments for 'replay'. Expected 1 argument but got 2. replay reads one capture: merge several first (mergecap -w all.pcapng a.pcap b.pcap)\n",
    );
    expect((await cli(['bogus'])).stderr).toBe("portsniff: unknown command 'bogus'\n");
  });

  it('no command: the help on stderr as help, line by line (it was joined into one line)', async () => {
    const r = await cli([]);
    expect(r.stderr.startsWith('Usage: portsniff [options] [command]\n')).toBe(true);
    expect(lines(r.stderr)).toContain('Commands:');
    expect(lines(r.stderr).some((l) => l.startsWith('Exit codes: 0 ok'))).toBe(true);
  });

  it('a bad option value and a missing argument are usage errors (exit 2)', async () => {
    const bad = await cli(['replay', DEMO, '--max-flows', '0']);
    expect(bad.code).toBe(2);
    expect(lines(bad.stderr)).toEqual(['portsniff: --max-flows must be between 1 and 50000000, got 0']);
    const missing = await cli(['replay']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'file'");
  });

  it('--max-flows below 16 counts as 16: more live flows are evicted and classified, in-process and in workers', async () => {
    // The demo has ~100 flows, many alive at once. The classifier was sized for the value given and
    // the table for 16 slots: slots past the classifier's end crashed the run ("internal error").
    const summaries: RunSummary[] = [];
    for (const workers of ['0', '1', '2']) {
      const r = await cli(['replay', DEMO, '--max-flows', '8', '--json', '--workers', workers]);
      expect(r.code, r.stderr).toBe(0);
      noStack(r.stderr);
      summaries.push(JSON.parse(r.stdout) as RunSummary);
    }
    const full = JSON.parse((await cli(['replay', DEMO, '--max-flows', '16', '--json', '--workers', '0'])).stdout) as RunSummary;
    expect(summaries[0]!.totals.evictedFlows).toBeGreaterThan(0);
    expect(summaries[0]!.totals).toEqual(full.totals);
    expect(summaries[0]!.services).toEqual(full.services);
    expect(summaries[1]!.totals).toEqual(full.totals);
  });

  it('a missing file: exit 1 and one line naming it', async () => {
    const r = await cli(['replay', 'no-such-capture.pcap']);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('no-such-capture.pcap');
    noStack(r.stderr);
  });
});

describe('rule options', () => {
  it('--no-rules with --rules DIR, either order (issue 10): classified by the user rules only', async () => {
    const rules = tmp('user-rules');
    mkdirSync(rules);
    writeFileSync(join(rules, 'mycorp.yaml'), fileYaml([ruleYaml('mycorp.cache', [6379])]));
    for (const args of [['--no-rules', '--rules', rules], ['--rules', rules, '--no-rules']]) {
      const r = await cli(['replay', DEMO, '--json', ...args]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout) as RunSummary;
      expect(summary.services.map((x) => x.key)).toEqual(['mycorp.cache', 'unknown']);
    }
    // Without --no-rules the shipped rules come first and the user's add to them.
    const both = JSON.parse((await cli(['replay', DEMO, '--json', '--rules', rules])).stdout) as RunSummary;
    expect(both.services.map((x) => x.key)).toContain('zeebe.gateway-grpc');
  });
});

describe('broken files', () => {
  it('bad magic: exit 1, one error line with the file and offset 0, summary says nothing was read', async () => {
    const f = tmp('bad-magic.pcap');
    writeFileSync(f, 'this is not a capture file, just text\n');
    const r = await cli(['replay', f, '--json']);
    expect(r.code).toBe(1);
    const err = lines(r.stderr);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^portsniff: error: .*bad-magic\.pcap: not a pcap or pcapng capture/);
    expect(err[0]).toContain('byte offset 0');
    noStack(r.stderr);
    const s = JSON.parse(r.stdout) as RunSummary;
    expect(s.totals.packets).toBe(0);
    expect(s.source.error).toMatchObject({ offset: 0 });
    // Nothing was recognised: the summary must not claim a format or byte order.
    expect(s.source.format).toBeNull();
    expect(s.source.byteOrder).toBeNull();
  });

  it('truncated in the middle of a record: exit 0, a one-line warning, every whole record kept', async () => {
    const demo = readFileSync(DEMO);
    const recs = pcapRecords(demo);
    const [off, cap] = recs[700]!;
    const f = tmp('truncated.pcap');
    writeFileSync(f, demo.subarray(0, off + 16 + Math.floor(cap / 2)));
    const r = await cli(['replay', f, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as RunSummary;
    expect(s.totals.packets).toBe(700);
    expect(s.source.truncated?.offset).toBe(off);
    expect(s.source.error).toBeNull();
    const err = lines(r.stderr);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^portsniff: warning: /);
    // Like the errors, the warning names the file and the byte offset.
    expect(err[0]).toContain('truncated.pcap');
    expect(err[0]).toContain(`offset ${off}`);
  });

  it('an impossible record length: the summary of what was read, then exit 1 with file and offset', async () => {
    const demo = Buffer.from(readFileSync(DEMO));
    const [off] = pcapRecords(demo)[10]!;
    demo.writeUInt32LE(0xfffffff0, off + 8);
    const f = tmp('impossible.pcap');
    writeFileSync(f, demo);
    const r = await cli(['replay', f, '--json']);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout) as RunSummary;
    expect(s.totals.packets).toBe(10);
    expect(s.source.error?.offset).toBe(off);
    const err = lines(r.stderr);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^portsniff: error: .*impossible\.pcap: /);
    expect(err[0]).toContain(`byte offset ${off}`);
    expect(err[0]).toContain('after 10 packets');
    noStack(r.stderr);
    // Without --json the text summary comes first, then the error.
    const text = await cli(['replay', f]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^10 packets, /m);
  });
});

describe('flow log', () => {
  it('--flows FILE: valid NDJSON, one line per flow of the summary; stdout has only the summary', async () => {
    const f = tmp('flows.ndjson');
    const r = await cli(['replay', DEMO, '--json', '--flows', f]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as RunSummary;
    const flows = lines(readFileSync(f, 'utf8')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(flows).toHaveLength(s.totals.flows);
    for (const fl of flows) {
      expect(fl).toHaveProperty('transport');
      expect(fl).toHaveProperty('verdict');
    }
    expect(new Set(flows.map((fl) => fl['id'])).size).toBe(flows.length);
  });

  it('--flows - with --json: every stdout line is JSON, flows first, the summary last', async () => {
    const r = await cli(['replay', DEMO, '--json', '--flows', '-']);
    expect(r.code).toBe(0);
    const all = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = all.at(-1) as unknown as RunSummary;
    expect(summary.schema).toBe(1);
    expect(all.slice(0, -1)).toHaveLength(summary.totals.flows);
    for (const fl of all.slice(0, -1)) expect(fl).not.toHaveProperty('schema');
  });

  it('--flows - without --json: NDJSON only, no text table', async () => {
    const r = await cli(['replay', DNS, '--flows', '-']);
    expect(r.code).toBe(0);
    const all = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(all).toHaveLength(7);
    expect(r.stdout).not.toContain('packets, ');
  });

  it('--flows or --alerts naming a capture file (arguments swapped, a typo): refused, exit 2, the capture untouched', async () => {
    const pcapng = tmp('kept.pcapng');
    const gz = tmp('kept.pcap.gz');
    const pcap = tmp('kept.pcap');
    writeFileSync(pcap, readFileSync(DNS));
    writeFileSync(gz, gzipSync(readFileSync(DNS)));
    // A pcapng section header block (big-endian byte-order magic inside): the format comes from the bytes.
    writeFileSync(pcapng, Buffer.from('0a0d0d0a1c0000001a2b3c4d01000000ffffffffffffffff1c000000', 'hex'));
    const cases: Array<[string, string, string]> = [
      ['--flows', pcap, 'pcap'],
      ['--alerts', pcapng, 'pcapng'],
      ['--flows', gz, 'gzip'],
    ];
    for (const [option, path, format] of cases) {
      const before = readFileSync(path);
      const r = await cli(['replay', DNS, '--json', option, path]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`portsniff: ${option} ${path}: refusing to overwrite a ${format} file (remove it first if that is meant)\n`);
      expect(readFileSync(path).equals(before)).toBe(true);
    }
    // The capture itself as its own flow log: the same.
    const r = await cli(['replay', pcap, '--flows', pcap]);
    expect(r.code).toBe(2);
    expect(readFileSync(pcap).equals(readFileSync(DNS))).toBe(true);
    // Any other existing file is overwritten, as before.
    const text = tmp('old.ndjson');
    writeFileSync(text, 'old\n');
    expect((await cli(['replay', DNS, '--json', '--flows', text])).code).toBe(0);
    expect(readFileSync(text, 'utf8')).not.toContain('old');
  });

  it('a directory as --flows: exit 1, the reason in words', async () => {
    const r = await cli(['replay', DNS, '--flows', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`portsniff: cannot write ${dir}: is a directory\n`);
  });

  it('an unwritable --flows path: exit 1, one line naming it', async () => {
    const r = await cli(['replay', DNS, '--flows', join(dir, 'no', 'such', 'dir', 'f.ndjson')]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('f.ndjson');
    noStack(r.stderr);
  });
});

describe('input sources', () => {
  it('stdin (-) gives the same totals as the file', async () => {
    const [file, stdin] = await Promise.all([cli(['replay', DEMO, '--json']), cli(['replay', '-', '--json'], readFileSync(DEMO))]);
    expect(stdin.code).toBe(0);
    const a = JSON.parse(file.stdout) as RunSummary;
    const b = JSON.parse(stdin.stdout) as RunSummary;
    expect(b.source.kind).toBe('stdin');
    expect(b.source.name).toBe('stdin');
    expect(b.totals).toEqual(a.totals);
    expect(b.services).toEqual(a.services);
  });

  it('gzip is detected by content, from a file and from stdin', async () => {
    const gz = tmp('demo.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(DEMO)));
    const disguised = tmp('demo-gz.pcap');
    writeFileSync(disguised, gzipSync(readFileSync(DEMO)));
    const [plain, a, b, c] = await Promise.all([
      cli(['replay', DEMO, '--json']),
      cli(['replay', gz, '--json']),
      cli(['replay', disguised, '--json']),
      cli(['replay', '-', '--json'], gzipSync(readFileSync(DEMO))),
    ]);
    const totals = (JSON.parse(plain.stdout) as RunSummary).totals;
    for (const r of [a, b, c]) {
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as RunSummary).totals).toEqual(totals);
    }
  });

  it('empty stdin: exit 1 with one line', async () => {
    const r = await cli(['replay', '-'], new Uint8Array(0));
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    noStack(r.stderr);
  });
});

describe('signals and pipes', () => {
  it('stdout closed early (| head -c 100): no crash, no stack trace, the --flows file is complete', async () => {
    const cap = tmp('medium.pcap');
    const nFlows = writeBigCapture(cap, 50_000);
    const flowsFile = tmp('medium.ndjson');
    // --top lists every flow, so the text summary is far larger than a pipe buffer.
    const script = `set -o pipefail; "${process.execPath}" "${MAIN}" replay "${cap}" --top 100000 --flows "${flowsFile}" 2>"${tmp('medium.err')}" | head -c 100 >/dev/null; echo "status:\${PIPESTATUS[0]}"`;
    const r = await finished(spawn('bash', ['-c', script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(r.stdout).toContain('status:0');
    const err = readFileSync(tmp('medium.err'), 'utf8');
    expect(err).toBe('');
    const flows = lines(readFileSync(flowsFile, 'utf8'));
    expect(flows).toHaveLength(nFlows);
    for (const l of [flows[0]!, flows.at(-1)!]) expect(() => JSON.parse(l) as unknown).not.toThrow();
  });

  it('--flows - with stdout closed early: reading stops, the summary goes to stderr, exit 0', async () => {
    const cap = tmp('closed.pcap');
    const total = 1_000_000;
    writeBigCapture(cap, total);
    for (const json of [true, false]) {
      // --max-flows 64 makes flow records flow from the start (evictions); the reader of stdout is
      // gone before the child writes its first line, so its first flush meets EPIPE.
      const args = [MAIN, 'replay', cap, '--flows', '-', '--max-flows', '64', ...(json ? ['--json'] : [])];
      const p = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout.destroy();
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => p.on('close', (c, sig) => resolve([c, sig])));
      expect(signal).toBeNull();
      expect(code).toBe(0);
      noStack(stderr);
      const err = lines(stderr);
      const m = /^portsniff: stdout was closed: stopped reading after (\d+) packets \((\d+) lines were handed to it\)$/.exec(err[0] ?? '');
      expect(m, stderr.slice(0, 300)).not.toBeNull();
      const packets = Number(m![1]);
      expect(packets).toBeGreaterThan(0);
      expect(packets).toBeLessThan(total); // it stopped instead of replaying the rest for nobody
      if (json) {
        const s = JSON.parse(err[1]!) as RunSummary;
        expect(s.interrupted).toBe(true);
        expect(s.totals.packets).toBe(packets);
        expect(s.totals.evictedFlows).toBeGreaterThan(0);
      } else {
        expect(err[1]).toMatch(/^portsniff: .*closed\.pcap: pcap/);
        expect(stderr).toContain('interrupted: the summary covers what was read until then');
      }
    }
    rmSync(cap, { force: true });
  });

  it.each([0, 1])('SIGTERM during a long replay: exit 0, summary says interrupted, flow log flushed (%i workers)', async (workers) => {
    const cap = tmp(`big${workers}.pcap`);
    // Long enough (5-7 s with the flow log) that the signal lands while the file is still being read,
    // even when this test's polling is slowed down by a busy machine: the first flow records are
    // written ~0.3 s in (2M packets were replayed in ~2 s, and once the signal came during the final flush).
    const total = 6_000_000;
    writeBigCapture(cap, total);
    const flowsFile = tmp(`big${workers}.ndjson`);
    // With one worker, the worker reads the file and the main thread only waits: the signal still lands.
    const p = spawn(process.execPath, [MAIN, 'replay', cap, '--json', '--flows', flowsFile, '--idle-timeout', '1', '--workers', String(workers)], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => p.on('close', (code, signal) => resolve([code, signal])));
    // Wait (bounded) until the replay is under way: the flow log gets its first flush.
    for (let i = 0; i < 3000 && !(existsSync(flowsFile) && statSync(flowsFile).size > 0); i++) {
      if (p.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(p.exitCode).toBeNull();
    p.kill('SIGTERM');
    const [code, signal] = await exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    noStack(stderr);
    const s = JSON.parse(stdout) as RunSummary;
    expect(s.interrupted).toBe(true);
    expect(s.totals.packets).toBeGreaterThan(0);
    expect(s.totals.packets).toBeLessThan(total);
    const flows = lines(readFileSync(flowsFile, 'utf8'));
    expect(flows).toHaveLength(s.totals.flows);
    expect(() => JSON.parse(flows.at(-1)!) as unknown).not.toThrow();
    rmSync(cap, { force: true });
  });
});
