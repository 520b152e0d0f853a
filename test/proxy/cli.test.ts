/**
 * `portsniff proxy` as a process (the built CLI): SIGTERM and SIGINT close every connection and
 * still write the flow log and the summary; the flow log is written while it runs; --duration; start-up errors (address in use, bad
 * mappings, a bad config file) are one line and the right exit code; non-loopback binds are named
 * on the startup line; and a stalled reader does not make the proxy's memory grow (RSS measured).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseSummary, readFlows, runCli, startCli } from './cli-helpers.js';
import { connect, randomBytesSeeded, sleep, tcpServer, until, type TestServer } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'portsniff-proxy-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const servers: TestServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function echoServer(): Promise<TestServer> {
  const s = await tcpServer((sock) => {
    sock.on('data', (d: Buffer) => sock.write(d));
    sock.on('end', () => sock.end());
  });
  servers.push(s);
  return s;
}

describe('signals flush everything', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: open connections end as "shutdown", finished ones are kept; flow log and --json summary complete`, async () => {
      const up = await echoServer();
      const flowsPath = join(dir, `${signal}.ndjson`);
      const p = await startCli(['--map', `0=127.0.0.1:${up.port}`, '--flows', flowsPath, '--json', '--no-rules']);
      const done = await connect(p.ports[0]!);
      done.socket.end('finished');
      expect((await done.received).toString()).toBe('finished');
      const open = await connect(p.ports[0]!);
      open.socket.write('still open');
      await until(() => open.socket.bytesRead === 10, 'the echo');
      const exit = await p.stop(signal);
      expect(exit.code).toBe(0);
      const summary = parseSummary(exit.stdout);
      expect(summary).toMatchObject({ source: { kind: 'proxy', proxy: { accepted: 2, open: 0, payloadBytes: { toServer: 18, toClient: 18 } } }, totals: { flows: 2 }, interrupted: true });
      expect(summary.services).toEqual([expect.objectContaining({ key: 'unclassified', flows: 2, payloadBytes: { toServer: 18, toClient: 18 } })]);
      const flows = readFlows(flowsPath);
      expect(flows.map((f) => f.end).sort()).toEqual(['closed', 'shutdown']);
      expect(flows.find((f) => f.end === 'shutdown')!.payloadBytes).toEqual({ toServer: 10, toClient: 10 });
      await open.received;
    });
  }

  it('the flow log is written as connections end (flushed every second), not only at the end', async () => {
    // Before, only a live capture flushed its files every second: a long-running proxy's flow log
    // stayed in a 64 KiB buffer, and `tail -f` showed nothing for hours.
    const up = await echoServer();
    const flowsPath = join(dir, 'as-they-end.ndjson');
    const p = await startCli(['--map', `0=127.0.0.1:${up.port}`, '--flows', flowsPath, '--json', '--no-rules']);
    const done = await connect(p.ports[0]!);
    done.socket.end('finished');
    await done.received;
    await until(() => {
      try {
        return readFileSync(flowsPath, 'utf8').includes('"end":"closed"');
      } catch {
        return false;
      }
    }, 'the closed connection in the flow log while the proxy runs');
    const exit = await p.stop('SIGTERM');
    expect(exit.code).toBe(0);
    expect(readFlows(flowsPath)).toHaveLength(1);
  });

  it('the text summary at the end lists the connections; --duration ends the run by itself', async () => {
    const up = await echoServer();
    const p = await startCli(['--map', `0=127.0.0.1:${up.port}`, '--duration', '1.5', '--no-rules']);
    const c = await connect(p.ports[0]!);
    c.socket.end('hello');
    await c.received;
    const exit = await p.done;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/^portsniff: proxy tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+\n1 connection, 10 B relayed \(5 B to upstreams, 5 B to clients\)/);
    expect(exit.stdout).toMatch(/top 1 flows by bytes\ntransport\s+client\s+listener\s+upstream\s+relayed\s+end/);
    expect(exit.stdout).not.toMatch(/interrupted/);
    expect(exit.stderr).toMatch(/relaying; Ctrl-C to stop \(or after 1\.5 s\)/);
  });
});

describe('start-up', () => {
  it('a listen address in use: one line, exit 1, no summary', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const r = runCli(['proxy', '--map', `${port}=127.0.0.1:1`]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toEqual([
        `portsniff: cannot listen on tcp 127.0.0.1:${port} (--map ${port}=127.0.0.1:1): the address is in use (another process listens there)`,
      ]);
    } finally {
      busy.close();
    }
  });

  it.each([
    [['--map', '16000'], /^portsniff: --map 16000: '16000' needs exactly one '='/],
    [['--listen', '16000'], /^portsniff: --listen and --upstream go together \(got only --listen\)$/],
    [[], /^portsniff: give at least one mapping/],
    [['--map', '0=127.0.0.1:1', '--proxy-protocol-in', '5'], /no command-line TCP listener on port 5/],
    [['--map', '0=127.0.0.1:1', '--proxy-protocol-out', 'v3'], /argument 'v3' is invalid/],
    [['--map', '0=127.0.0.1:1', '--idle-timeout', '0'], /--idle-timeout must be a number of seconds greater than 0/],
  ])('usage errors exit 2: %j', (args, re) => {
    const r = runCli(['proxy', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')[0]).toMatch(re);
  });

  it('a bad config file: every problem as file:line:col, exit 2', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'maps:\n  - 16000=db\n  - listen: 1\n    upstream: h:1\n    proxy_protocol_in: yes please\nmax_connections: 0\n');
    const r = runCli(['proxy', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `portsniff: ${path}:2:5: the upstream 'db' needs a port, e.g. db:6379 (expected [tcp:|udp:][LISTEN_ADDR:]PORT[-PORT]=UPSTREAM_HOST:PORT[-PORT], e.g. 16000=db.internal:12000)`,
      `${path}:5:24: 'proxy_protocol_in' must be true or false`,
      `${path}:6:18: 'max_connections' must be a whole number from 1 to 1000000`,
    ]);
  });

  it('config file mappings and settings; the startup line names non-loopback binds and PROXY settings', async () => {
    const up = await echoServer();
    const path = join(dir, 'ok.yaml');
    writeFileSync(path, `maps:\n  - listen: 0.0.0.0:0\n    upstream: 127.0.0.1:${up.port}\n    proxy_protocol_out: v1\n  - 0=127.0.0.1:${up.port}\nidle_timeout: 7\n`);
    const p = await startCli(['--config', path, '--json', '--linger', '3']);
    const exit = await p.stop();
    expect(p.stderr()).toMatch(new RegExp(`^portsniff: proxy tcp 0\\.0\\.0\\.0:${p.ports[0]} -> 127\\.0\\.0\\.1:${up.port} \\(PROXY protocol v1 out, ALL interfaces: reachable from other hosts\\)$`, 'm'));
    expect(p.stderr()).toMatch(new RegExp(`^portsniff: proxy tcp 127\\.0\\.0\\.1:${p.ports[1]} -> 127\\.0\\.0\\.1:${up.port}$`, 'm'));
    const s = parseSummary(exit.stdout);
    expect(s.source.proxy!.options).toMatchObject({ idleTimeout: 7, linger: 3, connectTimeout: 5 });
    expect(s.source.proxy!.listeners.map((l) => l.listen.ip)).toEqual(['0.0.0.0', '127.0.0.1']);
  });
});

describe('memory stays bounded', () => {
  /** Resident set size of a process in bytes (VmRSS) and its peak (VmHWM). */
  function rss(pid: number): { rss: number; hwm: number } {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  }

  it('a stalled reader: 512 MiB offered in both directions, the proxy RSS grows by less than 48 MiB', async () => {
    let stalledUp: net.Socket | null = null;
    const down = randomBytesSeeded(1 << 20, 9);
    const up = await tcpServer((s) => {
      stalledUp = s; // never reads what the client sends...
      const pump = (): void => {
        // ...and floods a client that never reads.
        while (s.write(down)) if (s.destroyed) return;
        s.once('drain', pump);
      };
      pump();
    }, { pauseOnConnect: true });
    servers.push(up);
    const p = await startCli(['--map', `0=127.0.0.1:${up.port}`, '--no-rules', '--top', '0']);
    try {
      await sleep(300);
      const before = rss(p.child.pid!);
      const c = await connect(p.ports[0]!);
      c.socket.pause();
      const chunk = randomBytesSeeded(1 << 20, 10);
      let offered = 0;
      const until = Date.now() + 3000;
      while (offered < 512 << 20 && Date.now() < until) {
        offered += chunk.length;
        if (!c.socket.write(chunk)) await Promise.race([new Promise((r) => c.socket.once('drain', r)), sleep(100)]);
      }
      await sleep(500);
      const after = rss(p.child.pid!);
      expect(stalledUp).not.toBeNull();
      // Without backpressure the proxy would hold most of what was offered.
      expect(after.hwm - before.rss, `RSS ${before.rss} -> ${after.rss}, peak ${after.hwm}`).toBeLessThan(48 << 20);
      c.socket.destroy();
    } finally {
      await p.stop();
    }
  });
});
