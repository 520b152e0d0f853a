import { describe, expect, it } from 'vitest';
import { Direction, recognizePayload } from '../../../src/classify/recognize/index.js';
import { isProtocolTag } from '../../../src/rules/protocol-tags.js';
import { cat, samples, text } from './samples.js';
import { buildGossipDatagram } from '../../../fixtures/gen/zeebe-frames.js';

/** Expected tags of every committed sample through the dispatcher. */
const EXPECTED: Record<string, string[]> = {
  'dns-cares-a': ['dns'],
  'dns-cares-a-tcp': ['dns'],
  'dns-cares-srv': ['dns'],
  'dns-cares-srv-tcp': ['dns'],
  'grpc-helloworld': ['http2', 'grpc'],
  'grpc-helloworld-server': ['http2', 'grpc'],
  'grpc-xds-ads-v3': ['http2', 'grpc', 'grpc:envoy-xds'],
  'grpc-xds-ads-v3-server': ['http2', 'grpc'],
  'grpc-xds-cds-v2': ['http2', 'grpc', 'grpc:envoy-xds'],
  'grpc-xds-cds-v2-server': ['http2', 'grpc'],
  'grpc-zeebe-topology': ['http2', 'grpc', 'grpc:zeebe-gateway'],
  'grpc-zeebe-topology-server': ['http2', 'grpc'],
  'h2-curl-prior-knowledge': ['http2'],
  'h2-node-get': ['http2'],
  'h2-node-get-server': ['http2'],
  'http1-curl-chunked-metrics': ['http1', 'http1:prometheus-scrape'],
  'http1-curl-chunked-metrics-server': ['http1', 'prometheus-text'],
  'http1-curl-grafana-api': ['http1', 'http1:grafana-api'],
  'http1-curl-grafana-api-server': ['http1'],
  'http1-curl-metrics': ['http1', 'http1:prometheus-scrape'],
  'http1-curl-metrics-server': ['http1', 'prometheus-text'],
  'http1-curl-prom-api': ['http1', 'http1:prometheus-api'],
  'http1-curl-prom-api-server': ['http1'],
  'http1-curl-ready': ['http1', 'http1:health'],
  'http1-curl-ready-server': ['http1'],
  'http1-curl-rest-xds': ['http1', 'http1:rest-xds'],
  'http1-curl-rest-xds-server': ['http1'],
  'resp-benchmark-set': ['resp'],
  'resp-cli-get': ['resp'],
  'resp-cli-get-server': ['resp'],
  'resp-cli-hello3': ['resp'],
  'resp-cli-hello3-server': ['resp'],
  'resp-cli-incr': ['resp'],
  'resp-cli-incr-server': ['resp'],
  'resp-cli-lrange': ['resp'],
  'resp-cli-lrange-server': ['resp'],
  'resp-cli-ping': ['resp'],
  'resp-cli-ping-server': ['resp'],
  'resp-cli-set': ['resp'],
  'resp-cli-set-server': ['resp'],
  'resp-cli-unknown': ['resp'],
  'resp-cli-unknown-server': ['resp'],
  'resp-inline-ping': ['resp'],
  'resp-inline-ping-server': ['resp'],
  'tls-node-client-hello': ['tls'],
  'tls-openssl-client-hello': ['tls'],
  'tls-openssl-client-hello-tls12': ['tls'],
  'tls-openssl-server-hello': ['tls'],
  'tls-openssl-server-hello-tls12': ['tls'],
};

describe('recognizePayload dispatch over every committed real sample', () => {
  it('covers every sample in samples.json, and every expected sample exists', () => {
    expect(samples().map((s) => s.name).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [name, tags] of Object.entries(EXPECTED)) {
    it(name, () => {
      const s = samples().find((x) => x.name === name)!;
      const e = recognizePayload(s.bytes, 0, s.bytes.length, s.direction, s.transport, s.serverPort);
      expect(e?.tags).toEqual(tags);
      for (const t of e!.tags) expect(isProtocolTag(t)).toBe(true);
      expect(e!.tags).toContain(e!.protocol);
      expect(e!.protocol.includes(':')).toBe(false);
      for (const v of Object.values(e!.detail)) expect(typeof v).toBe('string');
    });
  }

  it('reads only the window [offset, offset+length) of a larger buffer', () => {
    for (const s of samples()) {
      const big = cat(text('garbage!'), s.bytes, text('\r\n*1\r\n$4\r\nPING\r\n'));
      const inside = recognizePayload(big, 8, s.bytes.length, s.direction, s.transport, s.serverPort);
      const alone = recognizePayload(s.bytes, 0, s.bytes.length, s.direction, s.transport, s.serverPort);
      expect(inside, s.name).toEqual(alone);
    }
  });

  it('bad windows and unknown transports give null, never a throw', () => {
    const b = text('GET /metrics HTTP/1.1\r\n\r\n');
    for (const [o, l] of [[-1, 5], [0, 0], [0, -3], [b.length, 4], [1.5, 3], [Number.NaN, 3], [0, Number.POSITIVE_INFINITY]]) {
      expect(recognizePayload(b, o!, l!, Direction.ToServer, 6, 80), `${o},${l}`).toBeNull();
    }
    expect(recognizePayload(b, 0, 1000, Direction.ToServer, 6, 80)?.tags).toEqual(['http1', 'http1:prometheus-scrape']); // length clamped
    expect(recognizePayload(b, 0, b.length, Direction.ToServer, 132, 80)).toBeNull(); // SCTP
    expect(recognizePayload(new Uint8Array(0), 0, 0, Direction.ToServer, 6, 80)).toBeNull();
  });

  it('UDP is DNS or Zeebe gossip, never a TCP protocol', () => {
    const s = samples().find((x) => x.name === 'resp-cli-ping')!;
    expect(recognizePayload(s.bytes, 0, s.bytes.length, Direction.ToServer, 17, 6379)).toBeNull();
    const http = text('GET /metrics HTTP/1.1\r\n\r\n');
    expect(recognizePayload(http, 0, http.length, Direction.ToServer, 17, 80)).toBeNull();
  });

  it('a Zeebe SWIM gossip datagram over UDP is zeebe-atomix (issue 10: the recogniser was never reached)', () => {
    const d = buildGossipDatagram();
    expect(recognizePayload(d, 0, d.length, Direction.ToServer, 17, 26502)?.tags).toEqual(['zeebe-atomix']);
    // The same bytes on a TCP stream are not a Zeebe frame.
    expect(recognizePayload(d, 0, d.length, Direction.ToServer, 6, 26502)).toBeNull();
  });
});
