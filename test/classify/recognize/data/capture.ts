/**
 * Captures real protocol bytes on loopback for the recogniser tests: real clients (grpc-js, node
 * http2, curl, openssl s_client, node tls, redis-cli, redis-benchmark, c-ares via node dns) talk to
 * real servers (grpc-js, node http/http2/tls, redis-server) through a recording TCP proxy, or to a
 * recorder that only listens. Each capture keeps the first MAX_BYTES of each direction, which is
 * what the classifier hands to recognizePayload().
 *
 * Used by generate-samples.ts (writes samples.json, committed) and by live.test.ts (runs the same
 * captures where the tools exist). Loopback only; every server listens on port 0.
 */
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';

export const MAX_BYTES = 512;

export interface Sample {
  /** Unique name, used by the tests to pick a sample. */
  name: string;
  /** The real program that produced the bytes, with its version where it reports one. */
  source: string;
  /** 0 = bytes the client sent, 1 = bytes the server sent. */
  direction: 0 | 1;
  transport: 6 | 17;
  serverPort: number;
  hex: string;
}

export interface Recorded {
  toServer: Buffer;
  toClient: Buffer;
  port: number;
}

const hexOf = (b: Buffer): string => b.subarray(0, MAX_BYTES).toString('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True when `cmd` is on PATH. */
export function haveTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * A TCP proxy on 127.0.0.1:0 forwarding to `upstreamPort` (or, with null, a sink that never
 * answers) and recording the first MAX_BYTES of each direction of the FIRST connection.
 */
export async function recordingProxy(upstreamPort: number | null): Promise<{
  port: number;
  done: () => Promise<Recorded>;
}> {
  const toServer: Buffer[] = [];
  const toClient: Buffer[] = [];
  const size = (a: Buffer[]): number => a.reduce((n, b) => n + b.length, 0);
  const sockets: net.Socket[] = [];
  let first = true;
  const server = net.createServer((client) => {
    sockets.push(client);
    const mine = first;
    first = false;
    client.on('error', () => {});
    client.on('data', (d) => {
      if (mine && size(toServer) < MAX_BYTES) toServer.push(Buffer.from(d));
    });
    if (upstreamPort === null) return;
    const up = net.connect(upstreamPort, '127.0.0.1');
    sockets.push(up);
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
    up.on('data', (d) => {
      if (mine && size(toClient) < MAX_BYTES) toClient.push(Buffer.from(d));
      client.write(d);
    });
    client.on('data', (d) => up.write(d));
    up.on('end', () => client.end());
    client.on('end', () => up.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    done: async () => {
      await sleep(50);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      return {
        toServer: Buffer.concat(toServer).subarray(0, MAX_BYTES),
        toClient: Buffer.concat(toClient).subarray(0, MAX_BYTES),
        port,
      };
    },
  };
}

/** Runs a command to completion (stdin closed), with a timeout; resolves to its exit code. */
export function run(cmd: string, args: string[], timeoutMs = 10_000, input?: string): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'ignore'] });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', () => {
      clearTimeout(t);
      resolve(null);
    });
    p.on('close', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    if (input !== undefined) p.stdin.write(input);
    p.stdin.end();
  });
}

function sample(name: string, source: string, direction: 0 | 1, serverPort: number, b: Buffer, transport: 6 | 17 = 6): Sample {
  return { name, source, direction, transport, serverPort, hex: hexOf(b) };
}

// ---------------------------------------------------------------------------------------------
// gRPC (grpc-js client and server)

/** gRPC methods captured: name -> [path, bidi stream?]. */
export const GRPC_METHODS: Record<string, [string, boolean]> = {
  'grpc-xds-ads-v3': ['/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources', true],
  'grpc-xds-cds-v2': ['/envoy.api.v2.ClusterDiscoveryService/StreamClusters', true],
  'grpc-zeebe-topology': ['/gateway_protocol.Gateway/Topology', false],
  'grpc-helloworld': ['/helloworld.Greeter/SayHello', false],
};

export async function captureGrpc(): Promise<Sample[]> {
  const grpc = await import('@grpc/grpc-js');
  const version = (JSON.parse(readFileSync(new URL(import.meta.resolve('@grpc/grpc-js/package.json')), 'utf8')) as { version: string })
    .version;
  const id = (b: Buffer): Buffer => b;
  const server = new grpc.Server();
  const def: Record<string, unknown> = {};
  const impl: Record<string, unknown> = {};
  for (const [key, [path, stream]] of Object.entries(GRPC_METHODS)) {
    def[key] = {
      path,
      requestStream: stream,
      responseStream: stream,
      requestSerialize: id,
      requestDeserialize: id,
      responseSerialize: id,
      responseDeserialize: id,
    };
    impl[key] = stream
      ? (call: { on: (e: string, f: (m: Buffer) => void) => void; write: (m: Buffer) => void }) =>
          call.on('data', (m) => call.write(Buffer.concat([Buffer.from('re:'), m])))
      : (_call: unknown, cb: (e: null, r: Buffer) => void) => cb(null, Buffer.from([0x0a, 0x02, 0x68, 0x69]));
  }
  server.addService(def as never, impl as never);
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  const out: Sample[] = [];
  try {
    for (const [name, [path, stream]] of Object.entries(GRPC_METHODS)) {
      const proxy = await recordingProxy(port);
      const client = new grpc.Client(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure());
      const msg = Buffer.from([0x0a, 0x05, 0x6e, 0x6f, 0x64, 0x65, 0x31]);
      await new Promise<void>((resolve) => {
        if (stream) {
          const call = client.makeBidiStreamRequest(path, id, id);
          call.on('data', () => {
            call.end();
            resolve();
          });
          call.on('error', () => resolve());
          call.write(msg);
        } else {
          client.makeUnaryRequest(path, id, id, msg, () => resolve());
        }
      });
      client.close();
      const r = await proxy.done();
      out.push(sample(name, `@grpc/grpc-js ${version} client`, 0, port, r.toServer));
      out.push(sample(`${name}-server`, `@grpc/grpc-js ${version} server`, 1, port, r.toClient));
    }
  } finally {
    server.forceShutdown();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTP/2 without gRPC (node http2 client and server; curl with prior knowledge)

export async function captureHttp2(): Promise<Sample[]> {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'text/html; charset=utf-8', server: 'portsniff-test' });
    stream.end('<html>hello</html>');
  });
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const out: Sample[] = [];
  try {
    const proxy = await recordingProxy(port);
    const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
    session.on('error', () => {});
    await new Promise<void>((resolve) => {
      const req = session.request({ ':path': '/dashboard/index.html?tab=overview', 'user-agent': 'portsniff-sample/1.0' });
      req.on('response', () => {});
      req.on('data', () => {});
      req.on('end', () => resolve());
      req.on('error', () => resolve());
      req.end();
    });
    session.close();
    const r = await proxy.done();
    out.push(sample('h2-node-get', `node ${process.version} http2 client`, 0, port, r.toServer));
    out.push(sample('h2-node-get-server', `node ${process.version} http2 server`, 1, port, r.toClient));
    if (haveTool('curl')) {
      const p2 = await recordingProxy(port);
      await run('curl', ['-s', '-o', '/dev/null', '--http2-prior-knowledge', `http://127.0.0.1:${p2.port}/metrics`]);
      const r2 = await p2.done();
      out.push(sample('h2-curl-prior-knowledge', curlVersion(), 0, port, r2.toServer));
    }
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
  return out;
}

function curlVersion(): string {
  const v = spawnSync('curl', ['--version'], { encoding: 'utf8' }).stdout.split(' ').slice(0, 2).join(' ');
  return v || 'curl';
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 (curl client, node http server)

const PROM_TEXT =
  '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n' +
  '# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 0.42\n' +
  '# HELP up Whether the target is up.\n# TYPE up gauge\nup 1\n';

/** [name, curl args after the URL base, path] */
const HTTP1_REQUESTS: [string, string[], string][] = [
  ['http1-curl-metrics', [], '/metrics'],
  ['http1-curl-rest-xds', ['-X', 'POST', '-H', 'content-type: application/json', '-d', '{"node":{"id":"n1"},"resource_names":[]}'], '/v3/discovery:clusters'],
  ['http1-curl-ready', [], '/-/ready'],
  ['http1-curl-prom-api', [], '/api/v1/query?query=up'],
  ['http1-curl-grafana-api', ['-H', 'Accept: application/json'], '/api/search?query=zeebe'],
  ['http1-curl-chunked-metrics', [], '/federate?match[]=up'],
];

export async function captureHttp1(): Promise<Sample[]> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    req.resume();
    if (url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(PROM_TEXT);
    } else if (url.startsWith('/federate')) {
      // No version parameter, chunked: the body must give it away.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(PROM_TEXT.slice(0, 80));
      res.end(PROM_TEXT.slice(80));
    } else if (url === '/-/ready') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Prometheus Server is Ready.\n');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"success","data":[]}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const out: Sample[] = [];
  const src = curlVersion();
  try {
    for (const [name, args, path] of HTTP1_REQUESTS) {
      const proxy = await recordingProxy(port);
      await run('curl', ['-s', '-g', '-o', '/dev/null', ...args, `http://127.0.0.1:${proxy.port}${path}`]);
      const r = await proxy.done();
      out.push(sample(name, src, 0, port, r.toServer));
      out.push(sample(`${name}-server`, `node ${process.version} http server`, 1, port, r.toClient));
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// TLS (openssl s_client and node tls clients, node tls server with a throwaway certificate)

export async function captureTls(): Promise<Sample[]> {
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-tls-'));
  const out: Sample[] = [];
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const gen = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=portsniff.test',
    ], { stdio: 'ignore' });
    if (gen.status !== 0) throw new Error('openssl req failed');
    const server = tls.createServer({ key: readFileSync(key), cert: readFileSync(cert), ALPNProtocols: ['h2', 'http/1.1'] }, (s) => {
      s.on('error', () => {});
      s.end('hello\n');
    });
    server.on('tlsClientError', () => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const osslVersion = spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout.trim().split(' ').slice(0, 2).join(' ');
    try {
      // openssl s_client, TLS 1.3 (default) and TLS 1.2
      for (const [name, extra] of [
        ['tls-openssl-client-hello', [] as string[]],
        ['tls-openssl-client-hello-tls12', ['-tls1_2']],
      ] as const) {
        const proxy = await recordingProxy(port);
        await run('openssl', ['s_client', '-connect', `127.0.0.1:${proxy.port}`, '-servername', 'xds.portsniff.test', '-alpn', 'h2,http/1.1', ...extra], 10_000, 'Q\n');
        const r = await proxy.done();
        out.push(sample(name, `${osslVersion} s_client`, 0, port, r.toServer));
        out.push(sample(name.replace('client-hello', 'server-hello'), `node ${process.version} tls server`, 1, port, r.toClient));
      }
      // node tls client
      const proxy = await recordingProxy(port);
      await new Promise<void>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port: proxy.port, servername: 'grafana.portsniff.test', ALPNProtocols: ['http/1.1'], rejectUnauthorized: false });
        s.on('error', () => resolve());
        s.on('data', () => {});
        s.on('end', () => resolve());
        s.on('close', () => resolve());
      });
      const r = await proxy.done();
      out.push(sample('tls-node-client-hello', `node ${process.version} tls client`, 0, port, r.toServer));
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// RESP (redis-cli / redis-benchmark against redis-server)

/** Starts redis-server on a free port; resolves when it accepts connections. */
export async function startRedis(): Promise<{ port: number; stop: () => Promise<void> }> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-redis-'));
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) break;
    await sleep(50);
  }
  return {
    port,
    stop: async () => {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('close', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** [name, redis-cli args] */
const REDIS_CLI: [string, string[]][] = [
  ['resp-cli-ping', ['PING']],
  ['resp-cli-set', ['SET', 'portsniff:key', 'hello world']],
  ['resp-cli-get', ['GET', 'portsniff:key']],
  ['resp-cli-incr', ['INCR', 'portsniff:counter']],
  ['resp-cli-unknown', ['NOSUCHCOMMAND', 'x']],
  ['resp-cli-hello3', ['-3', 'HELLO', '3']],
  ['resp-cli-lrange', ['LRANGE', 'portsniff:nolist', '0', '-1']],
];

export async function captureResp(): Promise<Sample[]> {
  const redis = await startRedis();
  const out: Sample[] = [];
  const cliVersion = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const srvVersion = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ').slice(0, 3).join(' ');
  try {
    for (const [name, args] of REDIS_CLI) {
      const proxy = await recordingProxy(redis.port);
      const flags = args[0] === '-3' ? ['-3'] : [];
      const cmd = args[0] === '-3' ? args.slice(1) : args;
      await run('redis-cli', ['-h', '127.0.0.1', '-p', String(proxy.port), ...flags, ...cmd]);
      const r = await proxy.done();
      out.push(sample(name, cliVersion, 0, redis.port, r.toServer));
      out.push(sample(`${name}-server`, srvVersion, 1, redis.port, r.toClient));
    }
    {
      // An inline command, as a health check or a person with a raw socket sends it.
      const proxy = await recordingProxy(redis.port);
      await new Promise<void>((resolve) => {
        const s = net.connect(proxy.port, '127.0.0.1', () => s.write('PING\r\n'));
        s.on('data', () => {
          s.end();
          resolve();
        });
        s.on('error', () => resolve());
      });
      const r = await proxy.done();
      out.push(sample('resp-inline-ping', 'node net socket writing "PING\\r\\n"', 0, redis.port, r.toServer));
      out.push(sample('resp-inline-ping-server', srvVersion, 1, redis.port, r.toClient));
    }
    if (haveTool('redis-benchmark')) {
      const proxy = await recordingProxy(redis.port);
      await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(proxy.port), '-n', '3', '-c', '1', '-t', 'set', '-q']);
      const r = await proxy.done();
      out.push(sample('resp-benchmark-set', spawnSync('redis-benchmark', ['--version'], { encoding: 'utf8' }).stdout.trim(), 0, redis.port, r.toServer));
    }
  } finally {
    await redis.stop();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DNS (c-ares, through node's dns.Resolver: queries over UDP, and over TCP after a truncated answer)

export async function captureDns(): Promise<Sample[]> {
  const out: Sample[] = [];
  const got: Buffer[] = [];
  const tcpGot: Buffer[] = [];
  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    got.push(Buffer.from(msg));
    // Answer with the TC bit set so c-ares retries the same question over TCP (RFC 7766).
    const reply = Buffer.from(msg);
    reply[2] = (reply[2]! | 0x80 | 0x02) & 0xff; // QR + TC
    reply[3] = 0x80; // RA, rcode 0
    sock.send(reply, rinfo.port, rinfo.address);
  };
  let sock = dgram.createSocket('udp4');
  sock.on('message', onMessage);
  // c-ares retries over TCP on the same port: a UDP and a TCP socket on one port number. The
  // kernel picks the UDP port; that number may be taken for TCP by another process: try again.
  let port = 0;
  let tcp: net.Server | null = null;
  for (let attempt = 0; ; attempt++) {
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    port = sock.address().port;
    const server = net.createServer((s) => {
      s.on('data', (d) => {
        tcpGot.push(Buffer.from(d));
        s.destroy();
      });
      s.on('error', () => {});
    });
    const ok = await new Promise<boolean>((r) => {
      server.once('error', () => r(false));
      server.listen(port, '127.0.0.1', () => r(true));
    });
    if (ok) {
      tcp = server;
      break;
    }
    if (attempt >= 20) throw new Error(`captureDns: no port free for both UDP and TCP after ${attempt + 1} tries`);
    await new Promise<void>((r) => sock.close(() => r()));
    sock = dgram.createSocket('udp4');
    sock.on('message', onMessage);
  }
  try {
    const queries: [string, (r: Resolver) => Promise<unknown>][] = [
      ['dns-cares-a', (r) => r.resolve4('zeebe-gateway.portsniff.example')],
      ['dns-cares-srv', (r) => r.resolveSrv('_grpclb._tcp.xds.portsniff.example')],
    ];
    for (const [name, q] of queries) {
      got.length = 0;
      tcpGot.length = 0;
      const r = new Resolver({ timeout: 500, tries: 1 });
      r.setServers([`127.0.0.1:${port}`]);
      await q(r).catch(() => undefined);
      if (got[0]) out.push(sample(name, `c-ares ${process.versions.ares} (node ${process.version} dns.Resolver)`, 0, 53, got[0], 17));
      if (tcpGot.length > 0) {
        out.push(sample(`${name}-tcp`, `c-ares ${process.versions.ares} (node ${process.version} dns.Resolver, TCP retry)`, 0, 53, Buffer.concat(tcpGot), 6));
      }
    }
  } finally {
    sock.close();
    await new Promise<void>((r) => tcp!.close(() => r()));
  }
  return out;
}
