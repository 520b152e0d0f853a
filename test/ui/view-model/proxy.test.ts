/**
 * The dashboard in proxy mode on what a real relay produces (ProxyServer in front of a RESP-speaking
 * TCP server on loopback, snapshots and relay counters as the session passes them): connections and
 * relayed bytes instead of packets, the relay's own errors instead of capture drops, no packet,
 * state or RTT columns, and a flow drill-down that says what a relay can and cannot know.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { SessionInfo, SessionUpdate } from '../../../src/export/consumer.js';
import { ruleInfoOf } from '../../../src/export/rule-info.js';
import { proxyClassifier } from '../../../src/cli/commands/proxy.js';
import { parseMapping } from '../../../src/proxy/mapping.js';
import { ProxyServer } from '../../../src/proxy/server.js';
import { compileRules } from '../../../src/rules/compile.js';
import { defaultRulesDir, loadRuleDirs } from '../../../src/rules/load.js';
import { flowDetailLines, serviceDetailLines } from '../../../src/ui/view-model/detail-lines.js';
import { EMPTY_FILTER } from '../../../src/ui/view-model/filter.js';
import { buildFlows, captureNow, flowItem } from '../../../src/ui/view-model/flows.js';
import { flowsScreen } from '../../../src/ui/view-model/flows-lines.js';
import { FrameBuilder, type Frame } from '../../../src/ui/view-model/frame.js';
import { headerLines } from '../../../src/ui/view-model/header-lines.js';
import { text } from '../../../src/ui/view-model/lines.js';
import { buildServices } from '../../../src/ui/view-model/services.js';
import { servicesScreen } from '../../../src/ui/view-model/services-lines.js';
import { DEFAULT_SORT } from '../../../src/ui/view-model/sort.js';
import { closedPort, connect, sleep, until, type Conversation } from '../../proxy/helpers.js';

const ruleSet = loadRuleDirs([defaultRulesDir()]);
const shipped = compileRules(ruleSet);

/** A RESP-ish server (+PONG to anything) on a free port of Redis Enterprise's database range. */
async function respServerInRange(): Promise<{ port: number; close: () => Promise<void> }> {
  for (let i = 0; i < 200; i++) {
    const port = 10000 + Math.floor(Math.random() * 10000);
    const best = shipped.group(shipped.lookup(6, port)).best;
    if (best.length !== 1 || best[0]!.id !== 'redis-enterprise.database-endpoints') continue;
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
      s.on('data', () => s.write('+PONG\r\n'));
      s.on('end', () => s.end());
    });
    const ok = await new Promise<boolean>((r) => {
      server.once('error', () => r(false));
      server.listen(port, '127.0.0.1', () => r(true));
    });
    if (ok) {
      return {
        port,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      };
    }
  }
  throw new Error('no free port in 10000-19999');
}

let upstream: { port: number; close: () => Promise<void> };
let server: ProxyServer;
let info: SessionInfo;
let frame: Frame;
const conversations: Conversation[] = [];

beforeAll(async () => {
  upstream = await respServerInRange();
  const dead = await closedPort();
  server = new ProxyServer({
    mappings: [...parseMapping(`0=127.0.0.1:${upstream.port}`, 'a'), ...parseMapping(`0=127.0.0.1:${dead}`, 'b')],
    classifier: proxyClassifier(ruleSet, {}, false),
    connectTimeout: 5,
    idleTimeout: 300,
    linger: 30,
    udpIdleTimeout: 30,
    maxConnections: 100,
    detail: true,
  });
  const [a, b] = (await server.start()).map((l) => l.listen.port);
  info = { kind: 'proxy', name: `tcp 127.0.0.1:${a}->127.0.0.1:${upstream.port}`, backend: null, filter: null, totalBytes: null, speed: null, workers: 0, rules: ruleSet.rules.map(ruleInfoOf), products: null, startedAt: Date.now() };
  const builder = new FrameBuilder();
  const update = (): SessionUpdate => {
    const u: SessionUpdate = { snapshot: server.snapshot(), wallMs: Date.now(), bytesRead: 0, live: null, relay: server.proxyStats(), paused: false, state: 'running' };
    builder.ingest(u);
    return u;
  };
  update();
  // Three connections that stay open and talk, one that closes, one to an upstream that is down.
  for (let i = 0; i < 3; i++) conversations.push(await connect(a!));
  for (const c of conversations) c.socket.write('*1\r\n$4\r\nPING\r\n');
  const short = await connect(a!);
  short.socket.write('*1\r\n$4\r\nPING\r\n');
  await sleep(50);
  short.socket.end();
  await connect(b!).then((c) => c.closed).catch(() => {});
  await until(() => server.proxyStats().upstreamErrors === 1 && server.snapshot().detail!.flows.filter((f) => !f.live).length === 2, 'the closed connections');
  await sleep(300);
  for (const c of conversations) c.socket.write('*1\r\n$4\r\nPING\r\n');
  await sleep(300);
  frame = builder.build(update());
}, 30_000);

afterAll(async () => {
  for (const c of conversations) c.socket.destroy();
  await server.close();
  await upstream.close();
});

describe('the dashboard in proxy mode (a real relay)', () => {
  it('the header counts connections and relayed bytes, and the relay\'s errors instead of drops', () => {
    const lines = headerLines({ info, frame, status: 'running', paused: false, unit: 'bits', width: 100 }).map((l) => text(l).trimEnd());
    expect(lines[0]).toMatch(/^portsniff proxy tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+/);
    expect(lines[1]).toMatch(/^now +[\d.]+ (k)?conn\/s +[\d.]+ [kM]?b\/s │ relayed +[\d.]+ (B|KiB) │ connections +5 \(3 open\)$/);
    expect(lines[1]).not.toMatch(/pkts|p\/s/);
    expect(lines[2]).toMatch(/^upstream errors 1 · connect timeouts 0 · refused \(max conns\) 0 · elapsed +[\d:]+$/);
    expect(lines[2]).not.toMatch(/drops|anomalies|workers/);
  });

  it('services: no packet column, the detail speaks of connections and relayed bytes', () => {
    const m = buildServices(info, frame, DEFAULT_SORT, EMPTY_FILTER);
    expect(m.relayed).toBe(true);
    const screen = servicesScreen(m, { width: 160, height: 20, sort: DEFAULT_SORT, unit: 'bits', selected: null });
    expect(text(screen.header)).not.toContain('PKTS');
    expect(text(screen.header)).toMatch(/LIVE\/ALL +BYTES/);
    const db = m.groups.flatMap((g) => g.rows).find((r) => r.key === 'redis-enterprise.database-endpoints')!;
    expect([db.liveFlows, db.flows, db.verdicts.verified]).toEqual([3, 4, 4]);
    const detail = serviceDetailLines(info, db.key, db, { width: 100, height: 30, unit: 'bits' }).map(text);
    expect(detail.find((l) => l.startsWith('  traffic'))).toMatch(/^ {2}traffic {3}3 open \/ 4 connections · [\d.]+ (B|KiB) relayed · now /);
  });

  it('flows: no state, packet or RTT columns (wide), ages on the wall clock, the drill-down says what a relay knows', () => {
    const m = buildFlows(info, frame, DEFAULT_SORT, EMPTY_FILTER);
    expect(m.relayed).toBe(true);
    expect([m.live.length, m.ended.length]).toEqual([3, 2]);
    const screen = flowsScreen(m, { width: 160, height: 20, sort: DEFAULT_SORT, unit: 'bits', selected: null });
    expect(text(screen.header)).not.toMatch(/STATE|PKTS|RTT/);
    expect(text(screen.header)).toMatch(/BYTES ↑. +BYTES ↓ +RATE +AGE/);
    expect(screen.body.map(text).join('\n')).toContain('recently ended (2; AGE = since it closed)');
    // Ages count from the connection's start to now (the snapshot's wall time), not 0.
    for (const f of m.live) expect(f.ageSec).toBeGreaterThan(0.3);
    const live = m.live[0]!;
    const lines = flowDetailLines(flowItem(live.raw, captureNow(frame, info)), live.id, { width: 100, height: 30, unit: 'bits' }).map((l) => text(l).trimEnd());
    expect(lines).toContain('  relayed   payload bytes by portsniff proxy: no packets, TCP state or RTT');
    expect(lines.find((l) => l.startsWith('  to server'))).toMatch(/^ {2}to server [\d.]+ B relayed$/);
    expect(lines.find((l) => l.startsWith('  time'))).toMatch(/\(wall clock, UTC\)$/);
    expect(lines.join('\n')).not.toMatch(/pkts|handshake RTT/);
    // The closed connection keeps its evidence; the failed one says why it ended.
    const closed = m.ended.find((f) => f.verdict === 'verified')!;
    expect(closed.raw.evidence['protocol']).toBe('resp');
    expect(m.ended.find((f) => f.end === 'upstream-error')).toBeDefined();
  });
});
