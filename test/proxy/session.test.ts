/**
 * The proxy is a producer for the same session as replay and live (cli/session.ts): consumers see
 * start (kind 'proxy', the rules), periodic updates whose snapshots carry the dashboard's detail
 * lists, every flow, and finish with the same RunSummary; a consumer's stop() ends the relay like
 * the dashboard's q; the progress line speaks of connections and relayed bytes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runSession, type SessionOptions } from '../../src/cli/session.js';
import { runProxy, parseProxyCommand, proxyClassifier } from '../../src/cli/commands/proxy.js';
import type { CliIo } from '../../src/cli/io.js';
import type { SessionConsumer, SessionControl, SessionEnd, SessionInfo, SessionUpdate } from '../../src/export/consumer.js';
import { LineWriter } from '../../src/export/line-writer.js';
import { parseMapping } from '../../src/proxy/mapping.js';
import { ProxyServer } from '../../src/proxy/server.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { compileRules } from '../../src/rules/compile.js';
import { connect, sleep, tcpServer, until, type TestServer } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'portsniff-proxy-session-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const servers: TestServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

const ruleSet = loadRuleDirs([defaultRulesDir()]);
const shipped = compileRules(ruleSet);

function ioTo(path: string, stderr: string[] = [], signal = new AbortController().signal): CliIo & { stdout: LineWriter } {
  return { stdout: new LineWriter(path), stderr: (l) => stderr.push(l), stdin: process.stdin, isTTY: false, signal };
}

class Recorder implements SessionConsumer {
  info: SessionInfo | null = null;
  control: SessionControl | null = null;
  updates: SessionUpdate[] = [];
  flows: unknown[] = [];
  end: SessionEnd | null = null;
  constructor(private readonly onFlow: (r: Recorder) => void = () => {}) {}
  start(info: SessionInfo, control: SessionControl): void {
    this.info = info;
    this.control = control;
  }
  update(u: SessionUpdate): void {
    this.updates.push(u);
  }
  flow(f: unknown): void {
    this.flows.push(f);
    this.onFlow(this);
  }
  finish(end: SessionEnd): void {
    this.end = end;
  }
}

const OPTS: SessionOptions = { json: true, maxFlows: 4096, idleTimeout: 300, activeTimeout: 0, top: 20, workers: 0 };

describe('the proxy in the session', () => {
  it('consumers see kind proxy, updates with detail lists, every flow, and the same summary', async () => {
    const upDb = await redisLikeServerInRange();
    const upOther = await tcpServer((sock) => {
      sock.on('data', (d: Buffer) => sock.write(d));
      sock.on('end', () => sock.end());
    });
    servers.push(upOther);
    const server = new ProxyServer({
      mappings: [...parseMapping(`0=127.0.0.1:${upDb.port}`, 'a'), ...parseMapping(`0=127.0.0.1:${upOther.port}`, 'b')],
      classifier: proxyClassifier(ruleSet, {}, true),
      connectTimeout: 5,
      idleTimeout: 300,
      linger: 30,
      udpIdleTimeout: 30,
      maxConnections: 100,
      detail: true,
      snapshotIntervalMs: 50,
    });
    const [a, b] = (await server.start()).map((l) => l.listen.port);
    const rec = new Recorder();
    const stop = new AbortController();
    const jsonPath = join(dir, 'summary.json');
    const io = ioTo(jsonPath);
    const session = runSession(
      { kind: 'proxy', name: 'test', producer: server, ruleSet, run: (signal) => new Promise((r) => signal.addEventListener('abort', () => r(), { once: true })) },
      OPTS,
      { ...io, signal: stop.signal },
      { consumers: [rec], detail: true, snapshotIntervalMs: 50 },
    );
    // HTTP to the RESP-documented upstream (a mismatch), left open; and bytes to an undocumented port.
    const mismatch = await connect(a!);
    mismatch.socket.write('GET / HTTP/1.1\r\nHost: db\r\n\r\n');
    const other = await connect(b!);
    other.socket.write('hello');
    await until(() => rec.updates.some((u) => (u.snapshot.detail?.flows.length ?? 0) === 2 && (u.snapshot.detail?.alerts.length ?? 0) > 0), 'an update with both connections and the alert').catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(rec.updates.at(-1)?.snapshot.detail)}`);
    });
    const u = rec.updates.at(-1)!;
    expect(rec.info).toMatchObject({ kind: 'proxy', name: 'test', workers: 0 });
    expect(rec.info!.rules.length).toBeGreaterThan(20);
    expect(u.snapshot.totals).toMatchObject({ flows: 2, liveFlows: 2, packets: 0 });
    const rowDb = u.snapshot.detail!.flows.find((f) => f.server.port === upDb.port)!;
    expect(rowDb).toMatchObject({ live: true, transport: 'tcp', state: null, packets: null, verdict: 'mismatch', serviceKey: 'redis-enterprise.database-endpoints', end: null });
    expect(rowDb.bytes).toEqual({ toServer: 28, toClient: 0 });
    expect(u.snapshot.detail!.alerts[0]).toMatchObject({ kind: 'mismatch', serviceKey: 'redis-enterprise.database-endpoints', client: '127.0.0.1', detail: 'payload is http1' });
    expect(u.snapshot.detail!.unknownPorts).toEqual([expect.objectContaining({ transport: 'tcp', port: upOther.port, flows: 1, liveFlows: 1, packets: null, bytes: 10 })]);
    expect(u.snapshot.services.find((s) => s.key === 'redis-enterprise.database-endpoints')).toMatchObject({ liveFlows: 1, verdicts: { mismatch: 1 } });
    other.socket.end();
    await until(() => rec.flows.length === 1, 'the first flow');
    stop.abort();
    expect(await session).toBe(0);
    await server.close();
    io.stdout.close();
    expect(rec.flows).toHaveLength(2);
    expect(rec.end!.summary).toMatchObject({ source: { kind: 'proxy', proxy: { accepted: 2, open: 0 } }, totals: { flows: 2 }, interrupted: true });
    const printed = JSON.parse(readFileSync(jsonPath, 'utf8'));
    expect(printed.services.map((s: { key: string }) => s.key)).toEqual(['redis-enterprise.database-endpoints', 'unknown']);
    expect(rec.updates.at(-1)!.state).toBe('ended');
    await mismatch.received;
  });

  it('a closed connection listed for the dashboard keeps its evidence, also when records carry none', async () => {
    const up = await redisLikeServerInRange();
    // Evidence off for records (no --flows): the dashboard's list of closed connections still shows it.
    const server = new ProxyServer({
      mappings: parseMapping(`0=127.0.0.1:${up.port}`, 'a'),
      classifier: proxyClassifier(ruleSet, {}, false),
      connectTimeout: 5,
      idleTimeout: 300,
      linger: 30,
      udpIdleTimeout: 30,
      maxConnections: 10,
      detail: true,
    });
    const [port] = (await server.start()).map((l) => l.listen.port);
    const c = await connect(port!);
    c.socket.write('*1\r\n$4\r\nPING\r\n');
    await sleep(100);
    const open = server.snapshot().detail!.flows.find((f) => f.live)!;
    expect(open.evidence['protocol']).toBe('resp');
    c.socket.end();
    await until(() => server.snapshot().detail!.flows.some((f) => !f.live), 'the closed connection');
    const closed = server.snapshot().detail!.flows.find((f) => !f.live)!;
    expect(closed).toMatchObject({ verdict: 'verified', serviceKey: 'redis-enterprise.database-endpoints' });
    expect(closed.evidence['protocol']).toBe('resp');
    await server.close();
  });

  it("a consumer's stop() ends the relay (the dashboard's q)", async () => {
    const up = await tcpServer((sock) => {
      sock.on('end', () => sock.end());
      sock.resume();
    });
    servers.push(up);
    const cmd = parseProxyCommand({ map: [`0=127.0.0.1:${up.port}`], connectTimeout: 5, idleTimeout: 300, linger: 30, udpIdleTimeout: 30, maxConnections: 10, top: 5, json: true, rules: false }, () => false);
    // A CLI run with a Recorder as the face's consumer: replace chooseFace's choice through a progress-less io.
    const server = new ProxyServer({ mappings: cmd.mappings, classifier: null, connectTimeout: 5, idleTimeout: 300, linger: 30, udpIdleTimeout: 30, maxConnections: 10 });
    const [port] = (await server.start()).map((l) => l.listen.port);
    const rec = new Recorder((r) => r.control!.stop());
    const io = ioTo(join(dir, 'stop.json'));
    const session = runSession(
      { kind: 'proxy', name: 'stop', producer: server, ruleSet: null, run: (signal) => new Promise((r) => signal.addEventListener('abort', () => r(), { once: true })) },
      { ...OPTS, noRules: true },
      io,
      { consumers: [rec] },
    );
    const c = await connect(port!);
    c.socket.end('x');
    expect(await session).toBe(0);
    await server.close();
    io.stdout.close();
    expect(rec.end!.summary.interrupted).toBe(true);
  });

  it('runProxy: the progress line counts connections and relayed bytes', async () => {
    const up = await tcpServer((sock) => sock.on('data', (d: Buffer) => sock.write(d)));
    servers.push(up);
    const stderr: string[] = [];
    const io = { ...ioTo(join(dir, 'progress.txt'), stderr), progress: true };
    const cmd = parseProxyCommand(
      { map: [`0=127.0.0.1:${up.port}`], connectTimeout: 5, idleTimeout: 300, linger: 30, udpIdleTimeout: 30, maxConnections: 10, top: 5, rules: false, duration: 2.6, refresh: 4, ui: true, progress: true },
      () => false,
    );
    const running = runProxy(cmd, io);
    await until(() => stderr.some((l) => /relaying/.test(l)), 'the startup line');
    const port = Number(/127\.0\.0\.1:(\d+) ->/.exec(stderr.join('\n'))![1]);
    const c = await connect(port);
    for (let i = 0; i < 20; i++) {
      c.socket.write('0123456789');
      await sleep(50);
    }
    expect(await running).toBe(0);
    io.stdout.close();
    expect(stderr.some((l) => /^portsniff: 1 connections \(1 open\), \d+ B relayed \([\d.]+ k?bit\/s\)$/.test(l)), stderr.join('\n')).toBe(true);
    expect(readFileSync(join(dir, 'progress.txt'), 'utf8')).toMatch(/^portsniff: proxy tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+\n1 connection, 400 B relayed/);
  });
});

async function redisLikeServerInRange(): Promise<TestServer> {
  // Listen on a free port inside the database range (ports from the OS are usually above it).
  for (let i = 0; i < 200; i++) {
    const port = 10000 + Math.floor(Math.random() * 10000);
    const best = shipped.group(shipped.lookup(6, port)).best;
    if (best.length !== 1 || best[0]!.id !== 'redis-enterprise.database-endpoints') continue;
    try {
      const s = await tcpServerOn(port);
      servers.push(s);
      return s;
    } catch {
      /* busy: try another */
    }
  }
  throw new Error('no free port in 10000-19999');
}

async function tcpServerOn(port: number): Promise<TestServer> {
  const net = await import('node:net');
  const sockets: import('node:net').Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    sockets.push(sock);
    sock.on('error', () => {});
    // Like redis-server answering an HTTP request: it closes without a RESP reply (an answer in
    // RESP would make the flow 'verified': the reply's protocol counts, as in capture mode).
    sock.resume();
    sock.on('end', () => sock.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
