/**
 * First payloads for the benchmark captures: the bytes a real client and server of each documented
 * service put in their first segment, so that payload verification in portsniff does its full work
 * (HPACK decoding, TLS extension walks, RESP parsing, DNS name parsing) on the benchmark file.
 *
 * Built from the specs, not captured: RESP (redis.io protocol spec), HTTP/1.1 (RFC 9112), HTTP/2
 * (RFC 9113 §3.4 preface, §4.1 frames, §6.5 SETTINGS) with HPACK (RFC 7541; literal header fields
 * without indexing, Huffman-coded values as grpc-go and grpc-java send them), gRPC over HTTP/2
 * (grpc/doc/PROTOCOL-HTTP2.md), TLS 1.3 ClientHello/ServerHello (RFC 8446 §4.1.2-4.1.3, SNI
 * RFC 6066 §3, ALPN RFC 7301), DNS (RFC 1035 §4.1), SSH banners (RFC 4253 §4.2) and the Zeebe
 * framing from fixtures/gen/zeebe-frames.ts. Only the outer bytes matter for verification; bodies
 * (protobuf messages, key shares, metric values) are plausible filler from the seeded PRNG.
 *
 * Not a hot path: each builder runs a few dozen times per generated file (variants are built once
 * and reused by many flows).
 */
import { huffmanEncode } from '../src/classify/recognize/huffman.js';
import { concat } from '../fixtures/gen/packet-builder.js';
import {
  REPLY_STATUS,
  apiSubject,
  buildExecuteCommandRequest,
  buildExecuteCommandResponse,
  buildHandshake,
  buildReplyFrame,
  buildRequestFrame,
  kryoPlaceholder,
  raftSubject,
} from '../fixtures/gen/zeebe-frames.js';
import type { Prng } from './prng.js';

const enc = new TextEncoder();
const ascii = (s: string): Uint8Array => enc.encode(s);

export const cat = concat;

const u8 = (...v: number[]): Uint8Array => Uint8Array.from(v);
const u16 = (v: number): Uint8Array => u8((v >>> 8) & 0xff, v & 0xff);
const u24 = (v: number): Uint8Array => u8((v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
const u32 = (v: number): Uint8Array => u8((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);

/** A client request and the server's first reply, as they go on the wire (each one TCP segment). */
export interface Exchange {
  toServer: Uint8Array;
  toClient: Uint8Array;
  /** The server speaks first (SSH banner). */
  serverFirst?: boolean;
}

// ---------------------------------------------------------------------------------------------
// RESP (Redis)

const REDIS_COMMANDS = ['GET', 'SET', 'HGETALL', 'INCR', 'EXPIRE', 'LPUSH', 'ZADD', 'MGET', 'AUTH', 'PING', 'HELLO'];

function bulk(s: string | Uint8Array): Uint8Array {
  const b = typeof s === 'string' ? ascii(s) : s;
  return cat(ascii(`$${b.length}\r\n`), b, ascii('\r\n'));
}

function respArray(items: (string | Uint8Array)[]): Uint8Array {
  return cat(ascii(`*${items.length}\r\n`), ...items.map(bulk));
}

export function respExchange(r: Prng): Exchange {
  const cmd = r.pick(REDIS_COMMANDS);
  const key = `session:${r.range(1, 999_999).toString(16)}`;
  switch (cmd) {
    case 'SET': {
      const v = 'v'.repeat(r.range(8, 200));
      return { toServer: respArray(['SET', key, v, 'EX', '3600']), toClient: ascii('+OK\r\n') };
    }
    case 'HGETALL':
      return {
        toServer: respArray(['HGETALL', key]),
        toClient: cat(ascii('*4\r\n'), bulk('user'), bulk(`u${r.range(1, 99999)}`), bulk('ttl'), bulk('3600')),
      };
    case 'INCR':
      return { toServer: respArray(['INCR', `counter:${r.range(1, 999)}`]), toClient: ascii(`:${r.range(1, 1_000_000)}\r\n`) };
    case 'EXPIRE':
      return { toServer: respArray(['EXPIRE', key, '600']), toClient: ascii(':1\r\n') };
    case 'LPUSH':
      return { toServer: respArray(['LPUSH', `queue:${r.range(1, 99)}`, 'job-' + r.range(1, 1e6)]), toClient: ascii(`:${r.range(1, 500)}\r\n`) };
    case 'ZADD':
      return { toServer: respArray(['ZADD', 'leaderboard', String(r.range(1, 99999)), key]), toClient: ascii(':1\r\n') };
    case 'MGET':
      return {
        toServer: respArray(['MGET', key, key + ':a', key + ':b']),
        toClient: cat(ascii('*3\r\n'), bulk('x'.repeat(r.range(4, 64))), ascii('$-1\r\n'), bulk('y')),
      };
    case 'AUTH':
      return { toServer: respArray(['AUTH', 'default', 'p' + r.range(1e6, 9e6)]), toClient: ascii('+OK\r\n') };
    case 'PING':
      // Inline form, as health checkers send it.
      return { toServer: ascii('PING\r\n'), toClient: ascii('+PONG\r\n') };
    case 'HELLO':
      return {
        toServer: respArray(['HELLO', '3']),
        toClient: cat(ascii('%2\r\n'), ascii('+server\r\n'), ascii('+redis\r\n'), ascii('+version\r\n'), ascii('+7.2.4\r\n')),
      };
    default:
      return { toServer: respArray(['GET', key]), toClient: bulk('z'.repeat(r.range(1, 300))) };
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1

const PROM_UA = ['Prometheus/2.51.2', 'Prometheus/2.45.0', 'vm_promscrape', 'OpenTelemetry Collector Contrib/0.98.0'];

function prometheusBody(r: Prng, bytes: number): string {
  const names = ['jvm_memory_used_bytes', 'process_cpu_seconds_total', 'http_server_requests_seconds_count',
    'zeebe_exporter_events_total', 'go_goroutines', 'envoy_cluster_upstream_cx_active', 'redis_connected_clients'];
  let s = '';
  while (s.length < bytes) {
    const n = r.pick(names);
    s += `# HELP ${n} Auto-generated help for ${n}.\n# TYPE ${n} gauge\n`;
    for (let i = 0; i < 3; i++) s += `${n}{area="heap",id="pool-${i}"} ${(r.float() * 1e9).toFixed(1)}\n`;
  }
  return s.slice(0, bytes);
}

export function metricsExchange(r: Prng, host: string, port: number): Exchange {
  const path = r.pick(['/metrics', '/metrics', '/metrics', '/actuator/prometheus']);
  const req =
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: ${r.pick(PROM_UA)}\r\n` +
    'Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,' +
    'text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n' +
    'X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n';
  const head =
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n' +
    'Date: Mon, 01 Jan 2024 00:00:00 GMT\r\nTransfer-Encoding: chunked\r\n\r\n';
  const body = prometheusBody(r, r.range(200, 1200));
  return { toServer: ascii(req), toClient: ascii(`${head}${body.length.toString(16)}\r\n${body}`) };
}

export function httpExchange(r: Prng, host: string, port: number): Exchange {
  const target = r.pick(['/api/v1/render?url=https%3A%2F%2Fexample.com%2F', '/healthz', '/api/search?query=',
    '/', '/static/app.js', '/api/v1/query?query=up', '/ready', '/cache/v1/items/' + r.range(1, 99999)]);
  const method = r.chance(0.85) ? 'GET' : 'POST';
  const req =
    `${method} ${target} HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: ${r.pick(['curl/8.5.0', 'Go-http-client/1.1', 'kube-probe/1.29'])}\r\n` +
    `Accept: */*\r\n${method === 'POST' ? 'Content-Type: application/json\r\nContent-Length: 17\r\n\r\n{"query":"hello"}' : '\r\n'}`;
  const body = `{"status":"ok","id":${r.range(1, 1e6)}}`;
  const resp = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  return { toServer: ascii(req), toClient: ascii(resp) };
}

// ---------------------------------------------------------------------------------------------
// HTTP/2 + HPACK + gRPC

export const HTTP2_PREFACE = ascii('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

function h2frame(type: number, flags: number, stream: number, payload: Uint8Array): Uint8Array {
  return cat(u24(payload.length), u8(type, flags), u32(stream & 0x7fffffff), payload);
}

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1); `high` = the bits above the prefix. */
function hpackInt(value: number, prefixBits: number, high: number): Uint8Array {
  const max = (1 << prefixBits) - 1;
  if (value < max) return u8(high | value);
  const out = [high | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** HPACK string literal, Huffman-coded (§5.2). */
function hpackString(s: string): Uint8Array {
  const h = huffmanEncode(s);
  return cat(hpackInt(h.length, 7, 0x80), h);
}

/** Literal header field without indexing, indexed name (§6.2.2). */
function litIndexedName(index: number, value: string): Uint8Array {
  return cat(hpackInt(index, 4, 0x00), hpackString(value));
}

/** Literal header field without indexing, new name (§6.2.2). */
function litNewName(name: string, value: string): Uint8Array {
  return cat(u8(0x00), hpackString(name), hpackString(value));
}

/** Static table indices (RFC 7541 appendix A). */
const H_AUTHORITY = 1;
const H_PATH = 4;
const H_CONTENT_TYPE = 31;
const H_USER_AGENT = 58;
const H_METHOD_POST = 3; // ":method: POST", fully indexed
const H_SCHEME_HTTP = 6;
const H_STATUS_200 = 8;

const SETTINGS_ENABLE_PUSH = 0x2;
const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const SETTINGS_MAX_FRAME_SIZE = 0x5;
const SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

function settings(pairs: [number, number][]): Uint8Array {
  return h2frame(0x4, 0, 0, cat(...pairs.map(([id, v]) => cat(u16(id), u32(v)))));
}

/** A gRPC length-prefixed message (uncompressed) carrying `n` bytes of protobuf-looking filler. */
function grpcMessage(r: Prng, n: number): Uint8Array {
  const body = new Uint8Array(n);
  r.fill(body);
  body[0] = 0x0a; // field 1, length-delimited: the shape of most request messages
  body[1] = Math.min(n - 2, 120);
  return cat(u8(0), u32(n), body);
}

export const XDS_PATHS = [
  '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
  '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
  '/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters',
  '/envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints',
];

export const ZEEBE_GATEWAY_PATHS = [
  '/gateway_protocol.Gateway/ActivateJobs',
  '/gateway_protocol.Gateway/CompleteJob',
  '/gateway_protocol.Gateway/Topology',
  '/gateway_protocol.Gateway/CreateProcessInstance',
  '/gateway_protocol.Gateway/StreamActivatedJobs',
];

/** gRPC call: client preface + SETTINGS + WINDOW_UPDATE + HEADERS + DATA; server SETTINGS + ACK + HEADERS + DATA. */
export function grpcExchange(r: Prng, path: string, authority: string, userAgent: string): Exchange {
  const clientSettings = r.chance(0.5)
    ? settings([[SETTINGS_ENABLE_PUSH, 0], [SETTINGS_INITIAL_WINDOW_SIZE, 4_194_304], [SETTINGS_MAX_HEADER_LIST_SIZE, 16_384]])
    : settings([[SETTINGS_ENABLE_PUSH, 0], [SETTINGS_MAX_HEADER_LIST_SIZE, 8192]]);
  const windowUpdate = h2frame(0x8, 0, 0, u32(4_128_769));
  const block = cat(
    u8(0x80 | H_METHOD_POST),
    u8(0x80 | H_SCHEME_HTTP),
    litIndexedName(H_PATH, path),
    litIndexedName(H_AUTHORITY, authority),
    litIndexedName(H_CONTENT_TYPE, 'application/grpc'),
    litNewName('te', 'trailers'),
    litIndexedName(H_USER_AGENT, userAgent),
    litNewName('grpc-accept-encoding', 'identity,deflate,gzip'),
  );
  const headers = h2frame(0x1, 0x4 /* END_HEADERS */, 1, block);
  const data = h2frame(0x0, 0, 1, grpcMessage(r, r.range(40, 400)));
  const toServer = cat(HTTP2_PREFACE, clientSettings, windowUpdate, headers, data);

  const serverSettings = settings([[SETTINGS_MAX_CONCURRENT_STREAMS, 100], [SETTINGS_MAX_FRAME_SIZE, 16_384]]);
  const settingsAck = h2frame(0x4, 0x1, 0, new Uint8Array(0));
  const respBlock = cat(u8(0x80 | H_STATUS_200), litIndexedName(H_CONTENT_TYPE, 'application/grpc'), litNewName('grpc-encoding', 'identity'));
  const respHeaders = h2frame(0x1, 0x4, 1, respBlock);
  const respData = h2frame(0x0, 0, 1, grpcMessage(r, r.range(60, 900)));
  return { toServer, toClient: cat(serverSettings, settingsAck, respHeaders, respData) };
}

// ---------------------------------------------------------------------------------------------
// TLS 1.3 ClientHello / ServerHello

function ext(type: number, body: Uint8Array): Uint8Array {
  return cat(u16(type), u16(body.length), body);
}

function vec16(b: Uint8Array): Uint8Array {
  return cat(u16(b.length), b);
}

function vec8(b: Uint8Array): Uint8Array {
  return cat(u8(b.length), b);
}

const CIPHER_SUITES = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];

export function tlsExchange(r: Prng, sni: string, alpn: readonly string[]): Exchange {
  const random = r.fill(new Uint8Array(32));
  const sessionId = r.fill(new Uint8Array(32));
  const keyShare = r.fill(new Uint8Array(32));
  const suites = cat(...CIPHER_SUITES.map(u16));
  const name = ascii(sni);
  const exts = cat(
    ext(0, vec16(cat(u8(0), vec16(name)))), // server_name: host_name
    ext(23, new Uint8Array(0)), // extended_master_secret
    ext(65281, u8(0)), // renegotiation_info
    ext(10, vec16(cat(u16(0x001d), u16(0x0017), u16(0x0018)))), // supported_groups
    ext(11, vec8(u8(0))), // ec_point_formats
    ext(35, new Uint8Array(0)), // session_ticket
    ext(16, vec16(cat(...alpn.map((p) => vec8(ascii(p)))))), // ALPN
    ext(5, u8(1, 0, 0, 0, 0)), // status_request
    ext(13, vec16(cat(...[0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601].map(u16)))), // signature_algorithms
    ext(18, new Uint8Array(0)), // signed_certificate_timestamp
    ext(51, vec16(cat(u16(0x001d), vec16(keyShare)))), // key_share x25519
    ext(45, vec8(u8(1))), // psk_key_exchange_modes
    ext(43, vec8(cat(u16(0x0304), u16(0x0303)))), // supported_versions
  );
  const hello = cat(u16(0x0303), random, vec8(sessionId), vec16(suites), vec8(u8(0)), vec16(exts));
  const handshake = cat(u8(1), u24(hello.length), hello);
  const toServer = cat(u8(22), u16(0x0301), u16(handshake.length), handshake);

  const sRandom = r.fill(new Uint8Array(32));
  const sKey = r.fill(new Uint8Array(32));
  const sExts = cat(ext(43, u16(0x0304)), ext(51, cat(u16(0x001d), vec16(sKey))));
  const sHello = cat(u16(0x0303), sRandom, vec8(sessionId), u16(0x1301), u8(0), vec16(sExts));
  const sHandshake = cat(u8(2), u24(sHello.length), sHello);
  const ccs = cat(u8(20), u16(0x0303), u16(1), u8(1));
  const encrypted = r.fill(new Uint8Array(r.range(600, 1100)));
  const appData = cat(u8(23), u16(0x0303), u16(encrypted.length), encrypted);
  return { toServer, toClient: cat(u8(22), u16(0x0303), u16(sHandshake.length), sHandshake, ccs, appData) };
}

// ---------------------------------------------------------------------------------------------
// DNS

function dnsName(name: string): Uint8Array {
  const parts = name.split('.').filter((p) => p.length > 0);
  return cat(...parts.map((p) => vec8(ascii(p))), u8(0));
}

/** A query and its answer (one A or AAAA record, name compressed to the question). */
export function dnsExchange(r: Prng, name: string, aaaa: boolean): Exchange {
  const id = r.int(0x10000);
  const qtype = aaaa ? 28 : 1;
  const question = cat(dnsName(name), u16(qtype), u16(1));
  const query = cat(u16(id), u16(0x0100), u16(1), u16(0), u16(0), u16(0), question);
  const rdata = r.fill(new Uint8Array(aaaa ? 16 : 4));
  if (!aaaa) rdata[0] = 10;
  const answer = cat(u16(0xc00c), u16(qtype), u16(1), u32(r.range(5, 300)), vec16(rdata));
  const response = cat(u16(id), u16(0x8180), u16(1), u16(1), u16(0), u16(0), question, answer);
  return { toServer: query, toClient: response };
}

export const DNS_NAMES = (r: Prng, n: number): string[] => {
  const out: string[] = [];
  const svc = ['redis', 'gloo', 'zeebe-gateway', 'edge-gateway', 'render-service', 'cache-daemon', 'prometheus', 'grafana', 'api', 'auth'];
  const ns = ['default', 'gloo-system', 'camunda', 'monitoring', 'redis-enterprise', 'edgecomet'];
  for (let i = 0; i < n; i++) {
    out.push(
      r.chance(0.7)
        ? `${r.pick(svc)}-${r.range(0, 40)}.${r.pick(ns)}.svc.cluster.local`
        : `${r.pick(['www', 'api', 'cdn', 'auth', 'telemetry'])}.${r.pick(['example.com', 'example.org', 'example.net'])}`,
    );
  }
  return out;
};

// ---------------------------------------------------------------------------------------------
// Zeebe (26501 command API, 26502 internal API): handshake + first message, one segment each way

export function zeebeCommandExchange(r: Prng): Exchange {
  const gw = { host: `zeebe-gateway-${r.range(0, 2)}.zeebe-gateway`, port: 26502 };
  const broker = { host: `zeebe-${r.range(0, 2)}.zeebe-broker-service`, port: 26501 };
  const id = r.range(1, 100000);
  const partitionId = r.range(1, 3);
  return {
    toServer: cat(
      buildHandshake(),
      buildRequestFrame({ sender: gw, id, subject: apiSubject('command', partitionId), payload: buildExecuteCommandRequest({ partitionId, key: BigInt(r.range(1, 1e6)), valueType: 19, intent: 0 }) }),
    ),
    toClient: cat(
      buildHandshake(),
      buildReplyFrame({ sender: broker, id, status: REPLY_STATUS.OK, payload: buildExecuteCommandResponse({ partitionId, key: 2251799813685249n + BigInt(id), recordType: 0, valueType: 19, intent: 1 }) }),
    ),
  };
}

export function zeebeInternalExchange(r: Prng): Exchange {
  const sender = { host: `zeebe-${r.range(0, 2)}.zeebe-broker-service`, port: 26502 };
  const id = r.range(1, 100000);
  return {
    toServer: cat(buildHandshake(), buildRequestFrame({ sender, id, subject: raftSubject(r.pick(['append-versioned', 'poll', 'vote']), r.range(1, 3)), payload: kryoPlaceholder(r.range(40, 300), id) })),
    toClient: cat(buildHandshake(), buildReplyFrame({ sender, id, status: REPLY_STATUS.OK, payload: kryoPlaceholder(r.range(20, 80), id + 1) })),
  };
}

// ---------------------------------------------------------------------------------------------
// Unknown services

export function sshExchange(r: Prng): Exchange {
  return {
    toClient: ascii(`SSH-2.0-OpenSSH_${r.pick(['9.2p1 Debian-2+deb12u2', '8.9p1 Ubuntu-3ubuntu0.6', '9.6'])}\r\n`),
    toServer: ascii(`SSH-2.0-${r.pick(['OpenSSH_9.2p1 Debian-2+deb12u2', 'Go', 'paramiko_3.4.0'])}\r\n`),
    serverFirst: true,
  };
}

/** Opaque bytes both ways (a database or a proprietary protocol portsniff has no recogniser for). */
export function opaqueExchange(r: Prng): Exchange {
  const a = r.fill(new Uint8Array(r.range(16, 300)));
  const b = r.fill(new Uint8Array(r.range(16, 600)));
  // Keep the first byte away from the recognisers' dispatch letters so it stays "not recognised".
  a[0] = 0x01;
  b[0] = 0x02;
  return { toServer: a, toClient: b };
}
