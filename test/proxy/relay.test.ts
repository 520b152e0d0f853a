/**
 * The relay's TCP behaviour, in process, with real sockets on loopback (ephemeral ports): bytes
 * unchanged, half-close both ways, backpressure, connect/idle/linger timeouts, resets, an upstream
 * that is down, PROXY protocol v1/v2 in and out (malformed headers included), --max-connections,
 * shutdown, snapshots, and DNS-style UDP sessions.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeProxyHeader } from '../../src/proxy/proxy-protocol.js';
import {
  blackholeListener,
  closedPort,
  connect,
  randomBytesSeeded,
  sha,
  sleep,
  startProxy,
  tcpServer,
  testClassifier,
  until,
  type InProcessProxy,
  type TestServer,
} from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function withServer(onConnection: (s: net.Socket) => void, opts: { pauseOnConnect?: boolean } = {}): Promise<TestServer> {
  const s = await tcpServer(onConnection, opts);
  cleanups.push(() => void s.close());
  return s;
}

async function withProxy(...args: Parameters<typeof startProxy>): Promise<InProcessProxy> {
  const p = await startProxy(...args);
  cleanups.push(async () => {
    await p.server.close();
  });
  return p;
}

describe('relaying', () => {
  it('relays 2 MiB each way unchanged, counts payload, records who spoke first and how each side closed', async () => {
    const up = randomBytesSeeded(2 << 20, 1);
    const down = randomBytesSeeded(2 << 20, 2);
    let gotUp = Buffer.alloc(0);
    const server = await withServer((s) => {
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => {
        gotUp = Buffer.concat(parts);
        s.end(down);
      });
    });
    const p = await withProxy([`0=127.0.0.1:${server.port}`]);
    const c = await connect(p.ports[0]!);
    c.socket.end(up);
    const got = await c.received;
    await until(() => p.flows.length === 1, 'the flow record');
    expect(sha(got)).toBe(sha(down));
    expect(sha(gotUp)).toBe(sha(up));
    const f = p.flows[0]!;
    expect(f).toMatchObject({
      id: 0,
      transport: 'tcp',
      client: { ip: '127.0.0.1', port: c.localPort },
      server: { ip: '127.0.0.1', port: server.port },
      directionBasis: 'proxy',
      packets: null,
      bytes: null,
      state: null,
      history: null,
      handshakeRttMs: null,
      vlan: null,
      payloadBytes: { toServer: up.length, toClient: down.length },
      end: 'closed',
      source: 'proxy',
      proxy: {
        listener: { ip: '127.0.0.1', port: p.ports[0] },
        upstream: { host: '127.0.0.1', port: server.port, ip: '127.0.0.1' },
        peer: { ip: '127.0.0.1', port: c.localPort },
        proxyProtocolIn: null,
        proxyProtocolOut: null,
        firstSpeaker: 'client',
        close: { client: 'fin', server: 'fin' },
        datagrams: null,
        error: null,
      },
    });
    expect(f.proxy!.connectMs).toBeGreaterThanOrEqual(0);
    expect(f.proxy!.firstByte.toServer! <= f.proxy!.firstByte.toClient!).toBe(true);
    expect(f.first <= f.last).toBe(true);
  });

  it('half-close, client first: the answer sent after the client FIN still reaches the client', async () => {
    const server = await withServer((s) => {
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      // Answer only once the client has finished sending (like `cmd | nc host port`).
      s.on('end', () => setTimeout(() => s.end(Buffer.concat([Buffer.from('you said: '), ...parts])), 100));
    });
    const p = await withProxy([`0=127.0.0.1:${server.port}`]);
    const c = await connect(p.ports[0]!);
    c.socket.end('hello');
    expect((await c.received).toString()).toBe('you said: hello');
    await until(() => p.flows.length === 1, 'the flow record');
    expect(p.flows[0]!.proxy!.close).toEqual({ client: 'fin', server: 'fin' });
    expect(p.flows[0]!.proxy!.firstSpeaker).toBe('client');
  });

  it('half-close, server first: the client keeps sending after the server FIN', async () => {
    let late = '';
    const server = await withServer((s) => {
      s.end('banner\r\n');
      s.on('data', (d: Buffer) => (late += d.toString()));
    });
    const p = await withProxy([`0=127.0.0.1:${server.port}`]);
    const c = await connect(p.ports[0]!);
    expect((await c.received).toString()).toBe('banner\r\n');
    c.socket.end('sent after your FIN');
    await until(() => p.flows.length === 1, 'the flow record');
    expect(late).toBe('sent after your FIN');
    expect(p.flows[0]!.proxy).toMatchObject({ firstSpeaker: 'server', close: { client: 'fin', server: 'fin' } });
    expect(p.flows[0]!.end).toBe('closed');
  });

  it('backpressure: a stalled upstream reader stops the client, nothing piles up in the proxy', async () => {
    let stalled: net.Socket | null = null;
    const server = await withServer((s) => (stalled = s), { pauseOnConnect: true });
    const p = await withProxy([`0=127.0.0.1:${server.port}`]);
    const c = await connect(p.ports[0]!);
    const attempt = 64 << 20;
    const chunk = randomBytesSeeded(64 << 10, 3);
    let handed = 0;
    // Write as fast as the socket takes it, for up to 2 s.
    const deadline = Date.now() + 2000;
    while (handed < attempt && Date.now() < deadline) {
      if (!c.socket.write(chunk)) await Promise.race([new Promise((r) => c.socket.once('drain', r)), sleep(200)]);
      handed += chunk.length;
      if (c.socket.writableLength > 8 << 20) await sleep(50); // our own side stays bounded too
    }
    const accepted = handed - c.socket.writableLength; // what left the client for the kernel
    // Without backpressure the proxy would read all of it; with it, only the kernel buffers of the
    // two loopback connections (a few MiB each) and the proxy's bounded stream buffers hold data.
    expect(accepted).toBeLessThan(40 << 20);
    // The stalled reader starts reading: everything arrives, intact and in order.
    let received = 0;
    stalled!.on('data', (d: Buffer) => (received += d.length));
    stalled!.resume();
    c.socket.end();
    await until(() => received === handed, `all ${handed} bytes upstream (got ${received})`, 20_000);
  });

  it('backpressure the other way: a client that does not read pauses the upstream', async () => {
    let wrote = 0;
    let done = false;
    const server = await withServer((s) => {
      const chunk = randomBytesSeeded(64 << 10, 4);
      const pump = (): void => {
        while (!done && wrote < 64 << 20) {
          wrote += chunk.length;
          if (!s.write(chunk)) {
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    const p = await withProxy([`0=127.0.0.1:${server.port}`]);
    const c = await connect(p.ports[0]!);
    c.socket.pause();
    await sleep(1500);
    const sent = wrote - server.sockets[0]!.writableLength;
    done = true;
    expect(sent).toBeLessThan(40 << 20);
    c.socket.destroy();
  });

  it('a reset on one side resets the other; the flow says so', async () => {
    let upErr: string | null = null;
    const server = await withServer((s) => {
      s.on('error', (e: NodeJS.ErrnoException) => (upErr = e.code ?? null));
    });
    const p = await withProxy([`0=127.0.0.1:${server.port}`]);
    const c = await connect(p.ports[0]!);
    c.socket.write('x');
    await until(() => server.sockets.length === 1, 'the upstream connection');
    await sleep(50);
    c.socket.resetAndDestroy();
    await until(() => p.flows.length === 1, 'the flow record');
    await until(() => upErr !== null, 'the upstream to see the reset');
    expect(upErr).toBe('ECONNRESET');
    expect(p.flows[0]!.end).toBe('reset');
    expect(p.flows[0]!.proxy!.close.client).toBe('reset');
  });
});

describe('failures', () => {
  it('upstream down: the client sees a reset, the flow is recorded with the reason', async () => {
    const port = await closedPort();
    const p = await withProxy([`0=127.0.0.1:${port}`]);
    const c = await connect(p.ports[0]!);
    c.socket.write('PING\r\n');
    await c.closed;
    expect(c.error()).toBe('ECONNRESET');
    await until(() => p.flows.length === 1, 'the flow record');
    expect(p.flows[0]).toMatchObject({
      end: 'upstream-error',
      server: { ip: '127.0.0.1', port },
      proxy: { connectMs: null, upstream: { ip: null }, close: { client: 'proxy', server: null } },
    });
    expect(p.flows[0]!.proxy!.error).toMatch(/ECONNREFUSED/);
    expect(p.warnings[0]).toMatch(/upstream 127\.0\.0\.1:\d+ unreachable \(connect ECONNREFUSED .*\); the client was reset/);
    const r = await p.stop();
    expect(r.proxy.upstreamErrors).toBe(1);
  });

  it('an upstream name that does not resolve is an upstream error too', async () => {
    const p = await withProxy(['0=no-such-host.invalid:6379']);
    const c = await connect(p.ports[0]!);
    await c.closed;
    expect(c.error()).toBe('ECONNRESET');
    await until(() => p.flows.length === 1, 'the flow record');
    expect(p.flows[0]!.end).toBe('upstream-error');
    expect(p.flows[0]!.server.ip).toBe('no-such-host.invalid');
    expect(p.flows[0]!.proxy!.error).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it('connect timeout: an upstream that never answers the SYN; the client is reset after the timeout', async () => {
    const hole = await blackholeListener();
    cleanups.push(() => hole.stop());
    const p = await withProxy([`0=127.0.0.1:${hole.port}`], { connectTimeout: 0.5 });
    const t0 = Date.now();
    const c = await connect(p.ports[0]!);
    await c.closed;
    const took = Date.now() - t0;
    expect(c.error()).toBe('ECONNRESET');
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(3000);
    await until(() => p.flows.length === 1, 'the flow record');
    expect(p.flows[0]).toMatchObject({ end: 'connect-timeout', proxy: { connectMs: null, error: `connect to 127.0.0.1:${hole.port} timed out after 0.5 s` } });
    expect((await p.stop()).proxy.connectTimeouts).toBe(1);
  });

  it('idle timeout: no byte either way for the limit closes both sides', async () => {
    const server = await withServer(() => {});
    const p = await withProxy([`0=127.0.0.1:${server.port}`], { idleTimeout: 0.3 });
    const c = await connect(p.ports[0]!);
    c.socket.write('hi');
    await c.received; // the proxy's FIN
    await until(() => p.flows.length === 1, 'the flow record');
    expect(p.flows[0]).toMatchObject({ end: 'idle-timeout', proxy: { close: { client: 'proxy', server: 'proxy' } } });
    expect(p.flows[0]!.durationSec).toBeGreaterThanOrEqual(0.29);
  });

  it('linger: after a half-close, the other direction idle for the linger limit is closed', async () => {
    const server = await withServer(() => {}); // never answers, never closes
    const p = await withProxy([`0=127.0.0.1:${server.port}`], { idleTimeout: 60, linger: 0.3 });
    const c = await connect(p.ports[0]!);
    const t0 = Date.now();
    c.socket.end('request');
    await c.closed;
    expect(Date.now() - t0).toBeLessThan(5000);
    await until(() => p.flows.length === 1, 'the flow record');
    expect(p.flows[0]).toMatchObject({ end: 'linger-timeout', proxy: { close: { client: 'fin', server: 'proxy' } } });
  });

  it('--max-connections: the next connection is reset and counted; a freed slot is reused', async () => {
    const server = await withServer((s) => {
      s.on('data', (d: Buffer) => s.write(d));
      s.on('end', () => s.end());
    });
    const p = await withProxy([`0=127.0.0.1:${server.port}`], { maxConnections: 2 });
    const a = await connect(p.ports[0]!);
    const b = await connect(p.ports[0]!);
    await until(() => p.server.openConnections === 2, 'two open connections');
    const extra = await connectAnyway(p.ports[0]!);
    expect(extra).toBe('ECONNRESET');
    expect(p.warnings.some((w) => /refused a connection from 127\.0\.0\.1:\d+: 2 connections are open \(--max-connections\)/.test(w))).toBe(true);
    a.socket.end();
    await until(() => p.server.openConnections === 1, 'a free slot');
    const d = await connect(p.ports[0]!);
    d.socket.write('echo');
    await until(() => (d.socket.bytesRead ?? 0) === 4, 'the echo');
    b.socket.end();
    d.socket.end();
    const r = await p.stop();
    expect(r.proxy).toMatchObject({ accepted: 3, refused: 1 });
    expect(r.totals.flows).toBe(3);
  });

  it('shutdown ends open connections with end "shutdown"; finish() waits for their records', async () => {
    const server = await withServer(() => {});
    const p = await withProxy([`0=127.0.0.1:${server.port}`]);
    const c = await connect(p.ports[0]!);
    c.socket.write('*1\r\n$4\r\nPING\r\n');
    await until(() => p.server.proxyStats().payloadBytes.toServer === 14, 'the relayed request');
    expect(p.server.snapshot().totals.liveFlows).toBe(1);
    const r = await p.stop();
    expect(p.flows).toHaveLength(1);
    expect(p.flows[0]).toMatchObject({ end: 'shutdown', proxy: { close: { client: 'proxy', server: 'proxy' } } });
    // A relay sees no frames: bytes are the payload relayed.
    expect(r.totals).toMatchObject({ flows: 1, liveFlows: 0, packets: 0, bytes: 14 });
    expect(r.proxy.open).toBe(0);
    await c.received;
  });
});

describe('classification and snapshots', () => {
  it('classified on the upstream port; a live connection shows in snapshots with its verdict so far', async () => {
    const server = await withServer((s) => s.on('data', () => s.write('+PONG\r\n')));
    const listenProbe = await closedPort();
    // The listen port is documented as HTTP, the upstream port as RESP: only the upstream counts.
    const classifier = testClassifier([
      { id: 'decoy.listen-port', transport: 'tcp', port: listenProbe, protocols: ['http1'] },
      { id: 'db.resp', transport: 'tcp', port: server.port, protocols: ['resp'] },
    ]);
    const p = await withProxy([`${listenProbe}=127.0.0.1:${server.port}`], { classifier });
    const c = await connect(p.ports[0]!);
    c.socket.write('*1\r\n$4\r\nPING\r\n');
    await until(() => c.socket.bytesRead === 7, 'PONG');
    const snap = p.server.snapshot();
    expect(snap.totals).toMatchObject({ flows: 1, liveFlows: 1 });
    expect(snap.services).toEqual([
      expect.objectContaining({ key: 'db.resp', flows: 1, liveFlows: 1, verdicts: expect.objectContaining({ verified: 1 }), payloadBytes: { toServer: 14, toClient: 7 } }),
    ]);
    c.socket.end();
    const r = await p.stop();
    expect(p.flows[0]).toMatchObject({ service: { id: 'db.resp' }, verdict: 'verified', basis: 'server-port', proxy: { listener: { port: listenProbe } } });
    expect(r.services).toEqual([expect.objectContaining({ key: 'db.resp', flows: 1, packets: { toServer: 0, toClient: 0 }, bytes: { toServer: 14, toClient: 7 }, payloadBytes: { toServer: 14, toClient: 7 } })]);
  });
});

describe('PROXY protocol', () => {
  const respRule = (port: number) => testClassifier([{ id: 'db.shards', transport: 'tcp', port, protocols: ['resp'], exposure: ['internal'] }]);

  async function upstreamRecorder(): Promise<{ server: TestServer; received: () => Buffer }> {
    const parts: Buffer[] = [];
    const server = await withServer((s) => {
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => s.end('+OK\r\n'));
    });
    return { server, received: () => Buffer.concat(parts) };
  }

  for (const version of ['v1', 'v2'] as const) {
    it(`${version} in: the real client is recorded and checked for exposure; the header is not relayed`, async () => {
      const up = await upstreamRecorder();
      const p = await withProxy([`0=127.0.0.1:${up.server.port}`].map((m) => ({ ...parseOne(m), proxyProtocolIn: true })), { classifier: respRule(up.server.port) });
      const c = await connect(p.ports[0]!);
      const header = encodeProxyHeader(version, { ip: '203.0.113.7', port: 5555 }, { ip: '198.51.100.1', port: 6379 });
      // The header arrives in three pieces: the parser waits for all of it.
      c.socket.write(header.subarray(0, 5));
      await sleep(30);
      c.socket.write(header.subarray(5, 14));
      await sleep(30);
      c.socket.end(Buffer.concat([header.subarray(14), Buffer.from('*1\r\n$4\r\nPING\r\n')]));
      expect((await c.received).toString()).toBe('+OK\r\n');
      await until(() => p.flows.length === 1, 'the flow record');
      expect(up.received().toString()).toBe('*1\r\n$4\r\nPING\r\n');
      expect(p.flows[0]).toMatchObject({
        client: { ip: '203.0.113.7', port: 5555 },
        verdict: 'verified',
        exposure: { status: 'violation', client: 'public' },
        proxy: { peer: { ip: '127.0.0.1', port: c.localPort }, proxyProtocolIn: version },
      });
    });
  }

  it('without a header the peer is the client (loopback: exposure ok)', async () => {
    const up = await upstreamRecorder();
    const p = await withProxy([`0=127.0.0.1:${up.server.port}`], { classifier: respRule(up.server.port) });
    const c = await connect(p.ports[0]!);
    c.socket.end('*1\r\n$4\r\nPING\r\n');
    await c.received;
    await until(() => p.flows.length === 1, 'the flow record');
    expect(p.flows[0]!.exposure?.status).toBe('ok');
  });

  it('malformed headers: that connection is reset with a clear error; the listener keeps serving others', async () => {
    const up = await upstreamRecorder();
    const p = await withProxy([{ ...parseOne(`0=127.0.0.1:${up.server.port}`), proxyProtocolIn: true }], { classifier: respRule(up.server.port) });
    const bad = await connect(p.ports[0]!);
    const good = await connect(p.ports[0]!);
    bad.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    good.socket.end(Buffer.concat([encodeProxyHeader('v1', { ip: '10.1.2.3', port: 4000 }, { ip: '127.0.0.1', port: 1 }), Buffer.from('*1\r\n$4\r\nPING\r\n')]));
    await bad.closed;
    expect(bad.error()).toBe('ECONNRESET');
    expect((await good.received).toString()).toBe('+OK\r\n');
    const badV2 = await connect(p.ports[0]!);
    badV2.socket.write(Buffer.from('0d0a0d0a000d0a515549540a2211000c', 'hex'));
    await badV2.closed;
    const silent = await connect(p.ports[0]!);
    silent.socket.end();
    await silent.closed;
    await until(() => p.flows.length === 4, 'four flow records');
    const byEnd = p.flows.filter((f) => f.end === 'proxy-protocol-error').map((f) => f.proxy!.error);
    expect(byEnd).toEqual([
      'no PROXY protocol header: the connection starts with 0x474554202f20485454502f312e310d0a...',
      'PROXY v2 header: unknown command 2',
      'closed before sending a PROXY protocol header',
    ]);
    expect(p.flows.find((f) => f.end === 'closed')).toMatchObject({ client: { ip: '10.1.2.3', port: 4000 }, verdict: 'verified' });
    expect(p.warnings.filter((w) => w.includes('bad PROXY protocol header'))).toHaveLength(3);
    expect(p.warnings[0]).toMatch(/^127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+: bad PROXY protocol header: no PROXY protocol header: the connection starts with 0x4745.*; connection reset, the proxy keeps serving others$/);
    expect((await p.stop()).proxy.proxyProtocolErrors).toBe(3);
  });

  it('a header that never completes is cut at the connect timeout', async () => {
    const up = await upstreamRecorder();
    const p = await withProxy([{ ...parseOne(`0=127.0.0.1:${up.server.port}`), proxyProtocolIn: true }], { connectTimeout: 0.3 });
    const c = await connect(p.ports[0]!);
    c.socket.write('PROXY TCP4 1.2.3.4');
    await c.closed;
    await until(() => p.flows.length === 1, 'the flow record');
    expect(p.flows[0]!.proxy!.error).toBe('no complete PROXY protocol header within 0.3 s');
  });

  for (const version of ['v1', 'v2'] as const) {
    it(`${version} out: the upstream receives the client's address first, then the bytes`, async () => {
      const up = await upstreamRecorder();
      const p = await withProxy([{ ...parseOne(`0=127.0.0.1:${up.server.port}`), proxyProtocolOut: version }]);
      const c = await connect(p.ports[0]!);
      c.socket.end('payload');
      await c.received;
      await until(() => p.flows.length === 1, 'the flow record');
      const expected = Buffer.concat([encodeProxyHeader(version, { ip: '127.0.0.1', port: c.localPort }, { ip: '127.0.0.1', port: p.ports[0]! }), Buffer.from('payload')]);
      expect(up.received().toString('hex')).toBe(expected.toString('hex'));
      if (version === 'v1') expect(up.received().toString('latin1')).toBe(`PROXY TCP4 127.0.0.1 127.0.0.1 ${c.localPort} ${p.ports[0]}\r\npayload`);
      expect(p.flows[0]!.proxy!.proxyProtocolOut).toBe(version);
      expect(p.flows[0]!.payloadBytes.toServer).toBe(7); // the header is not payload
    });
  }

  it('in and out together pass the original client on', async () => {
    const up = await upstreamRecorder();
    const p = await withProxy([{ ...parseOne(`0=127.0.0.1:${up.server.port}`), proxyProtocolIn: true, proxyProtocolOut: 'v1' }]);
    const c = await connect(p.ports[0]!);
    c.socket.end(Buffer.concat([encodeProxyHeader('v2', { ip: '2001:db8::9', port: 7 }, { ip: '2001:db8::1', port: 443 }), Buffer.from('x')]));
    await c.received;
    await until(() => p.flows.length === 1, 'the flow record');
    expect(up.received().toString('latin1')).toBe(`PROXY TCP6 2001:db8::9 ::ffff:127.0.0.1 7 ${p.ports[0]}\r\nx`);
  });
});

describe('UDP (DNS-style)', () => {
  /** A DNS query for example.com A (RFC 1035 4.1). */
  const query = (id: number): Buffer => Buffer.from(`${id.toString(16).padStart(4, '0')}01000001000000000000076578616d706c6503636f6d0000010001`, 'hex');

  it('one session per client, answers come back from the listener, sessions end after the idle timeout', async () => {
    const upstream = dgram.createSocket('udp4');
    upstream.on('message', (msg, r) => {
      const answer = Buffer.from(msg);
      answer[2] = 0x81; // QR=1
      answer[3] = 0x80;
      upstream.send(answer, r.port, r.address);
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', r));
    cleanups.push(() => void upstream.close());
    const upPort = upstream.address().port;
    const classifier = testClassifier([{ id: 'dns.resolver', transport: 'udp', port: upPort, protocols: ['dns'], exposure: ['internal'] }]);
    const p = await withProxy([`udp:0=127.0.0.1:${upPort}`], { classifier, udpIdleTimeout: 0.3 });
    const listenPort = p.ports[0]!;
    const clients = [dgram.createSocket('udp4'), dgram.createSocket('udp4')];
    const answers: Array<{ from: number; id: number }> = [];
    for (const [i, c] of clients.entries()) {
      c.on('message', (msg, r) => answers.push({ from: r.port, id: msg.readUInt16BE(0) + i * 0 }));
      await new Promise<void>((r) => c.bind(0, '127.0.0.1', r));
      cleanups.push(() => void c.close());
    }
    clients[0]!.send(query(1), listenPort, '127.0.0.1');
    clients[0]!.send(query(2), listenPort, '127.0.0.1');
    clients[1]!.send(query(3), listenPort, '127.0.0.1');
    await until(() => answers.length === 3, 'three answers');
    expect(answers.every((a) => a.from === listenPort)).toBe(true);
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2, 3]);
    await until(() => p.flows.length === 2, 'two sessions ended by the idle timeout', 3000);
    const mine = p.flows.find((f) => f.client.port === clients[0]!.address().port)!;
    expect(mine).toMatchObject({
      transport: 'udp',
      end: 'idle-timeout',
      server: { ip: '127.0.0.1', port: upPort },
      verdict: 'verified',
      service: { id: 'dns.resolver' },
      payloadBytes: { toServer: 2 * query(1).length, toClient: 2 * query(1).length },
      proxy: { datagrams: { toServer: 2, toClient: 2 }, listener: { port: listenPort }, firstSpeaker: 'client' },
    });
    expect(mine.evidence).toMatchObject({ protocol: 'dns', dnsQname: 'example.com' });
  });

  it('an upstream that refuses (ICMP port unreachable) ends the session with the reason', async () => {
    const port = await closedPort();
    const p = await withProxy([`udp:0=127.0.0.1:${port}`]);
    const c = dgram.createSocket('udp4');
    await new Promise<void>((r) => c.bind(0, '127.0.0.1', r));
    cleanups.push(() => void c.close());
    c.send(query(9), p.ports[0]!, '127.0.0.1');
    await sleep(100);
    c.send(query(10), p.ports[0]!, '127.0.0.1');
    await until(() => p.flows.length === 1, 'the session to end');
    expect(p.flows[0]).toMatchObject({ end: 'upstream-error', proxy: { error: expect.stringMatching(/ECONNREFUSED/) } });
  });

  it('new clients beyond --max-connections are dropped and counted', async () => {
    const upstream = dgram.createSocket('udp4');
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', r));
    cleanups.push(() => void upstream.close());
    const p = await withProxy([`udp:0=127.0.0.1:${upstream.address().port}`], { maxConnections: 1 });
    const a = dgram.createSocket('udp4');
    const b = dgram.createSocket('udp4');
    for (const s of [a, b]) {
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      cleanups.push(() => void s.close());
    }
    a.send(query(1), p.ports[0]!, '127.0.0.1');
    await until(() => p.server.openConnections === 1, 'one session');
    b.send(query(2), p.ports[0]!, '127.0.0.1');
    await until(() => p.server.proxyStats().datagramsDropped === 1, 'the dropped datagram');
    const r = await p.stop();
    expect(r.proxy).toMatchObject({ accepted: 1, datagramsDropped: 1 });
    expect(p.flows).toHaveLength(1);
    expect(p.flows[0]!.end).toBe('shutdown');
  });
});

import { parseMapping } from '../../src/proxy/mapping.js';

/** Connects and waits for the socket to close; its error code (a reset may even beat 'connect'). */
function connectAnyway(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let err: string | null = null;
    s.on('error', (e: NodeJS.ErrnoException) => (err = e.code ?? e.message));
    s.on('close', () => resolve(err));
  });
}

function parseOne(text: string) {
  return parseMapping(text, `--map ${text}`)[0]!;
}
