/** Loopback servers, clients and an in-process proxy for the proxy tests (ephemeral ports only). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { StreamClassifier } from '../../src/classify/stream-classifier.js';
import type { ClassifiedFlow } from '../../src/pipeline/results.js';
import { parseMapping, type ProxyMapping } from '../../src/proxy/mapping.js';
import { ProxyServer, type ProxyOptions } from '../../src/proxy/server.js';
import { compileRules } from '../../src/rules/compile.js';
import type { Rule } from '../../src/rules/types.js';
import { mkRule, mkSet } from '../rules/rule-builders.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms until true (fails after `ms`). */
export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export interface TestServer {
  port: number;
  sockets: net.Socket[];
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 (ephemeral port), half-close aware. */
export async function tcpServer(onConnection: (s: net.Socket) => void, opts: { pauseOnConnect?: boolean } = {}): Promise<TestServer> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: opts.pauseOnConnect === true }, (s) => {
    sockets.push(s);
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Conversation {
  socket: net.Socket;
  /** The client's port (kept: a closed socket forgets it). */
  localPort: number;
  /** Everything received until the peer's FIN (or an error). */
  received: Promise<Buffer>;
  /** The socket's error code, if it ended with one (ECONNRESET for a reset). */
  error: () => string | null;
  closed: Promise<void>;
}

export function connect(port: number, host = '127.0.0.1'): Promise<Conversation> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host, allowHalfOpen: true });
    let err: string | null = null;
    const chunks: Buffer[] = [];
    const received = new Promise<Buffer>((r) => {
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('end', () => r(Buffer.concat(chunks)));
      socket.on('close', () => r(Buffer.concat(chunks)));
    });
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      err = e.code ?? e.message;
    });
    socket.once('connect', () => resolve({ socket, localPort: socket.localPort!, received, error: () => err, closed }));
    socket.once('error', (e) => reject(e));
  });
}

export function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Deterministic pseudo-random bytes. */
export function randomBytesSeeded(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export interface InProcessProxy {
  server: ProxyServer;
  /** Bound listen ports, in mapping order. */
  ports: number[];
  flows: ClassifiedFlow[];
  warnings: string[];
  /** finish() then close(). */
  stop(): Promise<Awaited<ReturnType<ProxyServer['finish']>>>;
}

/** Test rules: `tcp:PORT` or `udp:PORT` ids -> one rule each, with protocols and exposure. */
export function testClassifier(rules: Array<{ id: string; transport: 'tcp' | 'udp'; port: number; protocols: Rule['protocols']; exposure?: Rule['exposure'] }>, monitoringHosts: null = null): StreamClassifier {
  const list = rules.map((r) => ({ ...mkRule(r.id, r.transport, [r.port]), protocols: r.protocols, exposure: r.exposure ?? ['internal'] }));
  return new StreamClassifier(compileRules(mkSet(list)), { monitoringHosts });
}

export async function startProxy(maps: Array<string | ProxyMapping>, opts: Partial<ProxyOptions> = {}): Promise<InProcessProxy> {
  const mappings = maps.flatMap((m) => (typeof m === 'string' ? parseMapping(m, `--map ${m}`) : [m]));
  const flows: ClassifiedFlow[] = [];
  const warnings: string[] = [];
  const server = new ProxyServer({
    mappings,
    classifier: null,
    connectTimeout: 5,
    idleTimeout: 300,
    linger: 30,
    udpIdleTimeout: 30,
    maxConnections: 4096,
    onWarning: (l) => warnings.push(l),
    ...opts,
  });
  server.onFlow((f) => flows.push(f));
  const listeners = await server.start();
  return {
    server,
    ports: listeners.map((l) => l.listen.port),
    flows,
    warnings,
    stop: async () => {
      const r = await server.finish();
      await server.close();
      return r;
    },
  };
}

/**
 * A TCP listener that never accepts: a child node process listens (backlog 1) and then blocks its
 * event loop (Atomics.wait, no CPU). Once the kernel's accept queue is full, further SYNs are
 * dropped, so a connect to it hangs: a real connect timeout on loopback.
 */
export async function blackholeListener(): Promise<{ port: number; stop: () => void }> {
  const code = `
    const net = require('net');
    const s = net.createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(String(s.address().port) + '\\n', () => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
      });
    });`;
  const child: ChildProcess = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`blackhole listener exited ${c}`)));
  });
  // Fill the accept queue (backlog + 1 on Linux) with connections nobody accepts.
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  await sleep(200);
  return {
    port,
    stop: () => {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    },
  };
}
