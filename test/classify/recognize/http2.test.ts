import { describe, expect, it } from 'vitest';
import { recognizeHttp2, isServerPreface, HTTP2_PREFACE } from '../../../src/classify/recognize/http2.js';
import { huffmanEncode } from '../../../src/classify/recognize/huffman.js';
import { parseGrpcPath, grpcServiceTag } from '../../../src/classify/recognize/grpc.js';
import { cat, hex, sample, text } from './samples.js';

const TO_SERVER = 0;
const TO_CLIENT = 1;
const r2 = (b: Uint8Array, dir: 0 | 1 = TO_SERVER) => recognizeHttp2(b, 0, b.length, dir);

/** RFC 9113 §4.1 frame: 24-bit length, type, flags, stream. */
const frame = (type: number, flags: number, stream: number, payload: Uint8Array): Uint8Array =>
  cat(hex((payload.length.toString(16).padStart(6, '0')) + type.toString(16).padStart(2, '0') + flags.toString(16).padStart(2, '0') + stream.toString(16).padStart(8, '0')), payload);

/** HPACK literal without indexing, indexed name `nameIdx`, Huffman-coded value (RFC 7541 §6.2.2). */
const litHuff = (nameIdx: number, value: string): Uint8Array => {
  const v = huffmanEncode(value);
  if (v.length > 126) throw new Error('test helper: value too long');
  return cat(Uint8Array.of(nameIdx), Uint8Array.of(0x80 | v.length), v);
};
const SETTINGS_EMPTY = frame(4, 0, 0, new Uint8Array(0));
/** :method POST, :scheme http, :path <path>, content-type application/grpc */
const grpcBlock = (path: string) => {
  const ct = huffmanEncode('application/grpc');
  // content-type is static index 31: with a 4-bit prefix that is 0x0f then 31 - 15 = 0x10 (§5.1)
  return cat(hex('8386'), litHuff(4, path), hex('0f10'), Uint8Array.of(0x80 | ct.length), ct);
};

describe('HTTP/2 client side: preface, frames, HEADERS, HPACK', () => {
  it('grpc-js ADS request: http2 + grpc + grpc:envoy-xds', () => {
    const s = sample('grpc-xds-ads-v3');
    const e = r2(s.bytes);
    expect(e?.protocol).toBe('grpc');
    expect(e?.tags).toEqual(['http2', 'grpc', 'grpc:envoy-xds']);
    expect(e?.detail['grpcPath']).toBe('/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources');
    expect(e?.detail['httpMethod']).toBe('POST');
    expect(e?.detail['contentType']).toBe('application/grpc');
    expect(e?.detail['userAgent']).toMatch(/^grpc-node-js\//);
    expect(e?.detail['note']).toBeUndefined();
  });

  it('grpc-js v2 CDS, Zeebe gateway and a plain gRPC service', () => {
    expect(r2(sample('grpc-xds-cds-v2').bytes)?.tags).toEqual(['http2', 'grpc', 'grpc:envoy-xds']);
    const z = r2(sample('grpc-zeebe-topology').bytes);
    expect(z?.tags).toEqual(['http2', 'grpc', 'grpc:zeebe-gateway']);
    expect(z?.detail['grpcPath']).toBe('/gateway_protocol.Gateway/Topology');
    expect(r2(sample('grpc-helloworld').bytes)?.tags).toEqual(['http2', 'grpc']);
  });

  it('node http2 and curl --http2-prior-knowledge requests: http2 only, path decoded', () => {
    const n = r2(sample('h2-node-get').bytes);
    expect(n?.protocol).toBe('http2');
    expect(n?.tags).toEqual(['http2']);
    expect(n?.detail['httpMethod']).toBe('GET');
    expect(n?.detail['httpPath']).toBe('/dashboard/index.html?tab=overview');
    const c = r2(sample('h2-curl-prior-knowledge').bytes);
    expect(c?.tags).toEqual(['http2']);
    expect(c?.detail['httpPath']).toBe('/metrics');
    expect(c?.detail['userAgent']).toMatch(/^curl\//);
  });

  it('every cut of a real request is http2 once the preface is in, and never wrong', () => {
    const b = sample('grpc-xds-ads-v3').bytes;
    for (let n = 0; n <= b.length; n++) {
      const e = recognizeHttp2(b, 0, n, TO_SERVER);
      if (n < HTTP2_PREFACE.length) expect(e).toBeNull();
      else {
        expect(e?.tags[0]).toBe('http2');
        if (e?.detail['grpcPath'] !== undefined) expect(e.tags).toContain('grpc:envoy-xds');
      }
    }
    // A cut inside the :path literal: still http2, no path, and a note says why.
    const headersAt = findFrame(b, 1);
    const cutInPath = recognizeHttp2(b, 0, headersAt + 9 + 6, TO_SERVER);
    expect(cutInPath?.tags).toEqual(['http2']);
    expect(cutInPath?.detail['httpPath']).toBeUndefined();
    expect(cutInPath?.detail['note']).toMatch(/HEADERS frame cut/);
  });

  it('HEADERS with PADDED and PRIORITY flags, after SETTINGS and WINDOW_UPDATE', () => {
    const block = grpcBlock('/envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters');
    const payload = cat(Uint8Array.of(3), hex('80000000ff'), block, new Uint8Array(3));
    const bytes = cat(HTTP2_PREFACE, SETTINGS_EMPTY, frame(8, 0, 0, hex('7fff0000')), frame(1, 0x8 | 0x20 | 0x4, 1, payload));
    const e = r2(bytes);
    expect(e?.tags).toEqual(['http2', 'grpc', 'grpc:envoy-xds']);
    expect(e?.detail['grpcPath']).toBe('/envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters');
    expect(e?.detail['contentType']).toBe('application/grpc');
  });

  it('joins CONTINUATION frames; dynamic-table references inside the block', () => {
    const path = '/gateway_protocol.Gateway/ActivateJobs';
    // literal with incremental indexing (":path", index 4), then an indexed reference to it (62)
    const v = huffmanEncode(path);
    const block = cat(hex('8386'), Uint8Array.of(0x44, 0x80 | v.length), v, hex('be'));
    const a = block.subarray(0, 10);
    const b = block.subarray(10);
    const bytes = cat(HTTP2_PREFACE, SETTINGS_EMPTY, frame(1, 0, 3, a), frame(9, 0x4, 3, b));
    const e = r2(bytes);
    expect(e?.tags).toEqual(['http2', 'grpc', 'grpc:zeebe-gateway']);
    expect(e?.detail['grpcPath']).toBe(path);
  });

  it('a gRPC path alone is enough for grpc (content-type not in the bytes)', () => {
    const bytes = cat(HTTP2_PREFACE, frame(1, 0x4, 1, cat(hex('8386'), litHuff(4, '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources'))));
    expect(r2(bytes)?.tags).toEqual(['http2', 'grpc', 'grpc:envoy-xds']);
  });

  it('preface without HEADERS: http2 with a note; HEADERS on stream 0 or bad padding: http2 only', () => {
    const e = r2(cat(HTTP2_PREFACE, SETTINGS_EMPTY));
    expect(e?.tags).toEqual(['http2']);
    expect(e?.detail['note']).toMatch(/no HEADERS/);
    expect(r2(cat(HTTP2_PREFACE, frame(1, 0x4, 0, hex('82'))))?.detail['note']).toMatch(/stream 0/);
    expect(r2(cat(HTTP2_PREFACE, frame(1, 0xc, 1, hex('ff82'))))?.detail['note']).toMatch(/padding/);
  });

  it('not HTTP/2: other bytes, a partial preface, HTTP/1', () => {
    expect(r2(HTTP2_PREFACE.subarray(0, 23))).toBeNull();
    expect(r2(text('PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n'))).toBeNull();
    expect(r2(sample('http1-curl-metrics').bytes)).toBeNull();
    expect(r2(sample('tls-openssl-client-hello').bytes)).toBeNull();
  });
});

describe('HTTP/2 server side: SETTINGS preface', () => {
  it('grpc-js server: http2 + grpc (from content-type), weaker: a note says so', () => {
    const e = r2(sample('grpc-xds-ads-v3-server').bytes, TO_CLIENT);
    expect(e?.tags).toEqual(['http2', 'grpc']);
    expect(e?.detail['httpStatus']).toBe('200');
    expect(e?.detail['contentType']).toMatch(/^application\/grpc/);
    expect(e?.detail['note']).toMatch(/server SETTINGS preface/);
  });

  it('complete once the first response HEADERS block is decoded; SETTINGS alone or a cut block are incomplete', () => {
    const bytes = sample('grpc-xds-ads-v3-server').bytes;
    expect(r2(bytes, TO_CLIENT)?.incomplete).toBeUndefined();
    // Only the SETTINGS frame: no HEADERS yet, more bytes can add them.
    const settingsOnly = bytes.subarray(0, 9 + ((bytes[0]! << 16) | (bytes[1]! << 8) | bytes[2]!));
    const early = r2(settingsOnly, TO_CLIENT);
    expect(early?.tags).toEqual(['http2']);
    expect(early?.incomplete).toBe(true);
    // Every cut inside the first HEADERS frame stays incomplete.
    let headers = 0;
    while (bytes[headers + 3] !== 0x1) headers += 9 + ((bytes[headers]! << 16) | (bytes[headers + 1]! << 8) | bytes[headers + 2]!);
    const headersEnd = headers + 9 + ((bytes[headers]! << 16) | (bytes[headers + 1]! << 8) | bytes[headers + 2]!);
    for (let cut = headers; cut < headersEnd; cut++) expect(r2(bytes.subarray(0, cut), TO_CLIENT)?.incomplete).toBe(true);
  });

  it('node http2 server: http2 with :status', () => {
    const e = r2(sample('h2-node-get-server').bytes, TO_CLIENT);
    expect(e?.tags).toEqual(['http2']);
    expect(e?.detail['httpStatus']).toBe('200');
  });

  it('SETTINGS checks: ACK, stream id, length, ENABLE_PUSH, MAX_FRAME_SIZE', () => {
    const ok = (b: Uint8Array) => isServerPreface(b, 0, b.length);
    expect(ok(SETTINGS_EMPTY)).toBe(true);
    expect(ok(frame(4, 0, 0, hex('000300000064 000400100000')))).toBe(true);
    expect(ok(frame(4, 1, 0, new Uint8Array(0)))).toBe(false); // ACK
    expect(ok(frame(4, 0, 1, new Uint8Array(0)))).toBe(false); // stream 1
    expect(ok(frame(4, 0, 0, hex('0003000000')))).toBe(false); // 5 bytes
    expect(ok(frame(4, 0, 0, hex('000200000002')))).toBe(false); // ENABLE_PUSH = 2
    expect(ok(frame(4, 0, 0, hex('000500000100')))).toBe(false); // MAX_FRAME_SIZE 256
    expect(ok(frame(1, 4, 1, hex('88')))).toBe(false); // HEADERS first
    expect(ok(SETTINGS_EMPTY.subarray(0, 8))).toBe(false);
    // The client preface is not server bytes, and server bytes are not a client preface.
    expect(r2(sample('grpc-helloworld').bytes, TO_CLIENT)).toBeNull();
    expect(r2(sample('grpc-helloworld-server').bytes, TO_SERVER)).toBeNull();
  });
});

describe('gRPC paths', () => {
  it('parses /pkg.Service/Method and rejects other shapes', () => {
    expect(parseGrpcPath('/helloworld.Greeter/SayHello')).toEqual({ service: 'helloworld.Greeter', method: 'SayHello' });
    for (const p of ['/', '/index.html', '/Greeter/SayHello', '/a.b/c/d', '/a.b/c?x=1', 'a.b/c', '/a..b/c', '/a.b/', '/api/v1.0/x'])
      expect(parseGrpcPath(p), p).toBeNull();
  });

  it('names xDS services (listed v2/v3, and unlisted envoy.*DiscoveryService) and the Zeebe gateway', () => {
    expect(grpcServiceTag('envoy.service.secret.v3.SecretDiscoveryService')).toBe('grpc:envoy-xds');
    expect(grpcServiceTag('envoy.service.discovery.v2.AggregatedDiscoveryService')).toBe('grpc:envoy-xds');
    expect(grpcServiceTag('envoy.service.foo.v4.FooDiscoveryService')).toBe('grpc:envoy-xds');
    expect(grpcServiceTag('envoy.service.ratelimit.v3.RateLimitService')).toBeNull();
    expect(grpcServiceTag('gateway_protocol.Gateway')).toBe('grpc:zeebe-gateway');
    expect(grpcServiceTag('grpc.health.v1.Health')).toBeNull();
  });
});

/** Offset of the first frame of `type` after the preface. */
function findFrame(b: Uint8Array, type: number): number {
  let p = HTTP2_PREFACE.length;
  while (p + 9 <= b.length) {
    if (b[p + 3] === type) return p;
    p += 9 + ((b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!);
  }
  throw new Error('frame not found');
}
