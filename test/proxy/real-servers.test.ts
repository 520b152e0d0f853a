/**
 * `portsniff proxy` (the built CLI) in front of real servers on loopback, ephemeral ports only:
 * redis-server, @grpc/grpc-js servers with the Envoy ADS (xDS) and Zeebe gateway services,
 * openssl s_server with SNI, and HTTP sent to a RESP upstream.
 *
 * The classification must use the UPSTREAM port. Servers cannot sit on the documented fixed ports
 * here, so: redis-server runs on a free port inside Redis Enterprise's documented database range
 * (10000-19999, shipped rules, no help); gRPC and TLS servers run on random ports and a test rule
 * file moves the shipped rules there with `override:` (same ids, protocols and exposure). Both
 * directions of "which port decides" are checked: a listen port documented as something else does
 * not change the verdict, and a listen port inside the Redis range in front of an undocumented
 * upstream port gives `unknown`.
 */
import * as grpc from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../fixtures/real/lib.js';
import { makeCert } from '../../fixtures/real/tls.js';
import { compileRules } from '../../src/rules/compile.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { freePortIn, haveTool, readFlows, startCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'portsniff-proxy-real-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const shipped = compileRules(loadRuleDirs([defaultRulesDir()]));
const undocumented = (port: number): boolean => shipped.lookup(6, port) === 0;
/** Ports of 10000-19999 where the database-endpoints range is the only match (not EdgeComet's 10070, ...). */
const dbEndpoint = (port: number): boolean => {
  const best = shipped.group(shipped.lookup(6, port)).best;
  return best.length === 1 && best[0]!.id === 'redis-enterprise.database-endpoints';
};

/** A rule file that moves shipped rules to other ports (override: same id). */
function overrideRules(name: string, rules: Array<{ id: string; product: string; component: string; port: number; protocols: string[]; tls: string; exposure: string[] }>): string {
  const path = join(dir, `${name}.yaml`);
  const body = rules.map((r) =>
    [
      `  - id: ${r.id}`,
      `    override: ${r.id}`,
      `    product: ${r.product}`,
      `    component: ${r.component}`,
      '    transport: tcp',
      `    ports: [${r.port}]`,
      '    purpose: the shipped rule, moved to a test port',
      `    exposure: [${r.exposure.join(', ')}]`,
      `    protocols: [${r.protocols.join(', ')}]`,
      `    tls: ${r.tls}`,
      '    cite: { line: 1, text: "test placement" }',
    ].join('\n'),
  );
  writeFileSync(path, ['schema: 1', 'source: { doc: proxy-test.txt, product: Test, title: ports moved for the proxy tests }', 'rules:', ...body, ''].join('\n'));
  return path;
}

const redisOk = haveTool('redis-server', 'proxy tests against redis-server') && haveTool('redis-cli', 'proxy tests against redis-server');

async function redisServer(port: number): Promise<Daemon> {
  const d = new Daemon('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await d.waitFor(/Ready to accept connections/);
  return d;
}

function redisCli(port: number, ...args: string[]): string {
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000 });
  return r.stdout.trim();
}

describe.skipIf(!redisOk)('redis-server behind the proxy', () => {
  it('RESP is verified on the documented Redis Enterprise database port (the upstream port); the listen port is recorded', async () => {
    const redisPort = await freePortIn(10000, 20000, dbEndpoint);
    const redis = await redisServer(redisPort);
    const flowsPath = join(dir, 'redis.ndjson');
    const p = await startCli(['--map', `0=127.0.0.1:${redisPort}`, '--flows', flowsPath, '--json']);
    try {
      expect(redisCli(p.ports[0]!, 'PING')).toBe('PONG');
      expect(redisCli(p.ports[0]!, 'SET', 'k', 'v')).toBe('OK');
      expect(redisCli(p.ports[0]!, 'GET', 'k')).toBe('v');
    } finally {
      const exit = await p.stop('SIGINT');
      await redis.stop();
      expect(exit.code).toBe(0);
      const summary = JSON.parse(exit.stdout);
      expect(summary.services).toEqual([expect.objectContaining({ key: 'redis-enterprise.database-endpoints', flows: 3, verdicts: expect.objectContaining({ verified: 3 }) })]);
    }
    const flows = readFlows(flowsPath);
    expect(flows).toHaveLength(3);
    for (const f of flows) {
      expect(f).toMatchObject({
        server: { port: redisPort },
        service: { id: 'redis-enterprise.database-endpoints' },
        verdict: 'verified',
        basis: 'server-port',
        evidence: { protocol: 'resp' },
        exposure: { status: 'ok', client: 'loopback' },
        proxy: { listener: { port: p.ports[0] }, upstream: { port: redisPort } },
      });
    }
    expect(flows.map((f) => f.evidence!['respCommand']).sort()).toEqual(['GET', 'PING', 'SET']);
  });

  it('the upstream port decides, not the listen port: a listen port documented as HTTP, and one inside the Redis range', async () => {
    const documentedRedis = await freePortIn(10000, 20000, dbEndpoint);
    const undocumentedRedis = await freePortIn(40000, 60000, undocumented);
    const listenDecoy = await freePortIn(40000, 60000, (p) => undocumented(p) && p !== undocumentedRedis);
    const listenInRange = await freePortIn(10000, 20000, (p) => dbEndpoint(p) && p !== documentedRedis);
    const rules = join(dir, 'decoy.yaml');
    writeFileSync(
      rules,
      [
        'schema: 1',
        'source: { doc: proxy-test.txt, product: Test, title: a decoy on the listen port }',
        'rules:',
        '  - id: decoy.listen-port',
        '    product: decoy',
        '    component: web',
        '    transport: tcp',
        `    ports: [${listenDecoy}]`,
        '    purpose: a plaintext HTTP port (decoy)',
        '    exposure: [internal]',
        '    protocols: [http1]',
        '    tls: none',
        '    cite: { line: 1, text: "decoy" }',
        '',
      ].join('\n'),
    );
    const a = await redisServer(documentedRedis);
    const b = await redisServer(undocumentedRedis);
    const flowsPath = join(dir, 'decoy.ndjson');
    const p = await startCli(['--rules', rules, '--map', `${listenDecoy}=127.0.0.1:${documentedRedis}`, '--map', `${listenInRange}=127.0.0.1:${undocumentedRedis}`, '--flows', flowsPath, '--json']);
    try {
      expect(p.ports).toEqual([listenDecoy, listenInRange]);
      expect(redisCli(listenDecoy, 'PING')).toBe('PONG');
      expect(redisCli(listenInRange, 'PING')).toBe('PONG');
    } finally {
      expect((await p.stop()).code).toBe(0);
      await a.stop();
      await b.stop();
    }
    const flows = readFlows(flowsPath);
    const viaDecoy = flows.find((f) => f.proxy!.listener.port === listenDecoy)!;
    const viaRange = flows.find((f) => f.proxy!.listener.port === listenInRange)!;
    expect(viaDecoy).toMatchObject({ service: { id: 'redis-enterprise.database-endpoints' }, verdict: 'verified', basis: 'server-port' });
    expect(viaRange).toMatchObject({ service: null, verdict: 'unknown', basis: 'none', evidence: { protocol: 'resp' } });
  });

  it('HTTP spoken to a RESP upstream is a mismatch', async () => {
    const redisPort = await freePortIn(10000, 20000, dbEndpoint);
    const redis = await redisServer(redisPort);
    const flowsPath = join(dir, 'mismatch.ndjson');
    const p = await startCli(['--map', `0=127.0.0.1:${redisPort}`, '--flows', flowsPath]);
    try {
      const r = spawnSync('curl', ['-s', '-m', '5', '--http1.1', `http://127.0.0.1:${p.ports[0]}/metrics`], { encoding: 'utf8' });
      expect(r.status).not.toBe(0); // redis answers with RESP errors, not HTTP
    } finally {
      const exit = await p.stop();
      await redis.stop();
      expect(exit.stdout).toMatch(/redis-enterprise\.database-endpoints\s+redis-enterprise\s+1\s+\S+ \S+\s+0\s+1\s+0\s+0\s+0/);
    }
    const [f] = readFlows(flowsPath);
    expect(f).toMatchObject({ verdict: 'mismatch', service: { id: 'redis-enterprise.database-endpoints' }, evidence: { protocol: 'http1', httpMethod: 'GET', httpPath: '/metrics' } });
  });
});

// ---------------------------------------------------------------------------------------------
// gRPC (@grpc/grpc-js, HTTP/2 cleartext): Envoy ADS and the Zeebe gateway's Topology.

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const TOPOLOGY_PATH = '/gateway_protocol.Gateway/Topology';
const id = (b: Buffer): Buffer => b;
const method = (path: string, req: boolean, res: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path, requestStream: req, responseStream: res, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id,
});

async function grpcServer(port: number): Promise<grpc.Server> {
  const server = new grpc.Server();
  server.addService({ ads: method(ADS_PATH, true, true) } as grpc.ServiceDefinition, {
    ads: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', () => call.write(Buffer.from([0x0a, 0x02, 0x76, 0x31]))); // version_info "v1"
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
  });
  server.addService({ topology: method(TOPOLOGY_PATH, false, false) } as grpc.ServiceDefinition, {
    topology: (_c: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from([0x10, 0x01])), // clusterSize 1
  });
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  return server;
}

describe('gRPC servers behind the proxy', () => {
  it('Envoy xDS (ADS) and the Zeebe gateway are verified by their gRPC service names', async () => {
    const xdsPort = await freePortIn(40000, 60000, undocumented);
    const zeebePort = await freePortIn(40000, 60000, (p) => undocumented(p) && p !== xdsPort);
    const rules = overrideRules('grpc', [
      { id: 'gloo-mesh.gloo-xds', product: 'gloo-mesh', component: 'gloo', port: xdsPort, protocols: ['grpc:envoy-xds'], tls: 'unknown', exposure: ['internal'] },
      { id: 'zeebe.gateway-grpc', product: 'zeebe', component: 'gateway', port: zeebePort, protocols: ['grpc:zeebe-gateway'], tls: 'unknown', exposure: ['external'] },
    ]);
    const xds = await grpcServer(xdsPort);
    const zeebe = await grpcServer(zeebePort);
    const flowsPath = join(dir, 'grpc.ndjson');
    const p = await startCli(['--rules', rules, '--map', `0=127.0.0.1:${xdsPort}`, '--map', `0=127.0.0.1:${zeebePort}`, '--flows', flowsPath]);
    try {
      const adsClient = new grpc.Client(`127.0.0.1:${p.ports[0]}`, grpc.credentials.createInsecure());
      await new Promise<void>((resolve, reject) => {
        const call = adsClient.makeBidiStreamRequest(ADS_PATH, id, id, new grpc.Metadata());
        call.on('data', () => call.end());
        call.on('error', reject);
        call.on('status', () => resolve());
        call.write(Buffer.from([0x22, 0x05, 0x74, 0x79, 0x70, 0x65, 0x73])); // type_url "types"
      });
      adsClient.close();
      const zeebeClient = new grpc.Client(`127.0.0.1:${p.ports[1]}`, grpc.credentials.createInsecure());
      const reply = await new Promise<Buffer>((resolve, reject) =>
        zeebeClient.makeUnaryRequest(TOPOLOGY_PATH, id, id, Buffer.alloc(0), (err, res) => (err ? reject(err) : resolve(res!))),
      );
      expect([...reply]).toEqual([0x10, 0x01]);
      zeebeClient.close();
    } finally {
      expect((await p.stop()).code).toBe(0);
      xds.forceShutdown();
      zeebe.forceShutdown();
    }
    const flows = readFlows(flowsPath);
    const ads = flows.find((f) => f.server.port === xdsPort)!;
    const gw = flows.find((f) => f.server.port === zeebePort)!;
    expect(ads).toMatchObject({ service: { id: 'gloo-mesh.gloo-xds' }, verdict: 'verified', evidence: { grpcPath: ADS_PATH } });
    expect(ads.evidence!['tags']).toContain('grpc:envoy-xds');
    expect(gw).toMatchObject({ service: { id: 'zeebe.gateway-grpc' }, verdict: 'verified', evidence: { grpcPath: TOPOLOGY_PATH } });
    expect(gw.evidence!['tags']).toContain('grpc:zeebe-gateway');
  });
});

// ---------------------------------------------------------------------------------------------
// TLS passthrough: openssl s_server / s_client with SNI and ALPN.

describe.skipIf(!haveTool('openssl', 'proxy TLS passthrough test'))('TLS through the proxy', () => {
  it('the handshake passes untouched; SNI and ALPN come from the ClientHello; verified on a TLS-required port', async () => {
    const tlsPort = await freePortIn(40000, 60000, undocumented);
    const rules = overrideRules('tls', [
      { id: 'redis-enterprise.rest-api-https', product: 'redis-enterprise', component: 'REST API', port: tlsPort, protocols: ['tls'], tls: 'required', exposure: ['internal', 'external', 'active-active'] },
    ]);
    const { cert, key } = await makeCert(dir, 'api.cluster.redis.example');
    const server = new Daemon('openssl s_server', 'openssl', ['s_server', '-accept', `127.0.0.1:${tlsPort}`, '-cert', cert, '-key', key, '-www', '-naccept', '1', '-alpn', 'h2,http/1.1']);
    const flowsPath = join(dir, 'tls.ndjson');
    try {
      await server.waitFor(/ACCEPT/);
      const p = await startCli(['--rules', rules, '--map', `0=127.0.0.1:${tlsPort}`, '--flows', flowsPath]);
      try {
        const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${p.ports[0]}`, '-servername', 'api.cluster.redis.example', '-alpn', 'http/1.1', '-ign_eof'], {
          input: 'GET / HTTP/1.0\r\n\r\n',
          encoding: 'utf8',
          timeout: 15_000,
        });
        // The end-to-end TLS session worked: the certificate is the server's, the page came through.
        expect(r.stdout).toMatch(/subject=CN ?= ?api\.cluster\.redis\.example/);
        expect(r.stdout).toMatch(/HTTP\/1\.0 200 ok/);
        expect(r.stdout).toMatch(/ALPN protocol: http\/1\.1/);
      } finally {
        expect((await p.stop()).code).toBe(0);
      }
    } finally {
      await server.stop();
    }
    const [f] = readFlows(flowsPath);
    expect(f).toMatchObject({
      service: { id: 'redis-enterprise.rest-api-https' },
      verdict: 'verified',
      evidence: { protocol: 'tls', sni: 'api.cluster.redis.example', alpn: 'http/1.1', tlsHandshake: 'client_hello' },
    });
    expect(f!.payloadBytes.toServer).toBeGreaterThan(200);
    expect(f!.payloadBytes.toClient).toBeGreaterThan(500);
  });
});
