import { describe, expect, it } from 'vitest';
import { isPrometheusContentType, pathTags, recognizeHttp1 } from '../../../src/classify/recognize/http1.js';
import { sample, text } from './samples.js';

const r1 = (b: Uint8Array) => recognizeHttp1(b, 0, b.length);

describe('HTTP/1.x requests (curl)', () => {
  it('GET /metrics: prometheus scrape, with host and user agent', () => {
    const e = r1(sample('http1-curl-metrics').bytes);
    expect(e?.protocol).toBe('http1');
    expect(e?.tags).toEqual(['http1', 'http1:prometheus-scrape']);
    expect(e?.detail['httpMethod']).toBe('GET');
    expect(e?.detail['httpPath']).toBe('/metrics');
    expect(e?.detail['host']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(e?.detail['userAgent']).toMatch(/^curl\//);
  });

  it('the other curl requests get their sub-tags', () => {
    expect(r1(sample('http1-curl-rest-xds').bytes)?.tags).toEqual(['http1', 'http1:rest-xds']);
    expect(r1(sample('http1-curl-rest-xds').bytes)?.detail['contentType']).toBe('application/json');
    expect(r1(sample('http1-curl-ready').bytes)?.tags).toEqual(['http1', 'http1:health']);
    expect(r1(sample('http1-curl-prom-api').bytes)?.tags).toEqual(['http1', 'http1:prometheus-api']);
    expect(r1(sample('http1-curl-grafana-api').bytes)?.tags).toEqual(['http1', 'http1:grafana-api']);
    expect(r1(sample('http1-curl-chunked-metrics').bytes)?.detail['httpPath']).toBe('/federate?match[]=up');
  });

  it('path heuristics', () => {
    expect(pathTags('POST', '/v2/discovery:listeners')).toEqual(['http1:rest-xds']);
    expect(pathTags('GET', '/v3/discovery:clusters')).toEqual([]); // REST xDS is POST
    expect(pathTags('GET', '/metrics?name[]=x')).toEqual(['http1:prometheus-scrape']);
    expect(pathTags('GET', '/metrics/cadvisor')).toEqual(['http1:prometheus-scrape']);
    expect(pathTags('GET', '/actuator/prometheus')).toEqual(['http1:prometheus-scrape']);
    expect(pathTags('POST', '/metrics')).toEqual([]);
    expect(pathTags('GET', '/metricsx')).toEqual([]);
    for (const p of ['/ready', '/health', '/healthz', '/-/ready', '/-/healthy', '/livez', '/readyz', '/actuator/health', '/actuator/health/liveness'])
      expect(pathTags('GET', p), p).toEqual(['http1:health']);
    expect(pathTags('GET', '/api/v1/targets')).toEqual(['http1:prometheus-api']);
    expect(pathTags('POST', '/api/v1/query_range')).toEqual(['http1:prometheus-api']);
    expect(pathTags('GET', '/api/dashboards/uid/abc')).toEqual(['http1:grafana-api']);
    expect(pathTags('GET', '/api/health')).toEqual(['http1:grafana-api', 'http1:health']);
    expect(pathTags('GET', '/v1/bdbs')).toEqual([]);
  });

  it('a request line cut inside a long target is http1 with a note; a short cut is not yet', () => {
    const line = 'GET /api/v1/query?query=' + 'x'.repeat(600) + ' HTTP/1.1\r\n';
    const e = recognizeHttp1(text(line), 0, 512);
    expect(e?.tags).toEqual(['http1', 'http1:prometheus-api']);
    expect(e?.detail['note']).toMatch(/cut/);
    expect(e?.incomplete).toBe(true);
    expect(recognizeHttp1(text('GET /metrics HTTP/1.1\r\n\r\n'), 0, 25)?.incomplete).toBeUndefined();
    expect(recognizeHttp1(text('GET /metrics HTTP/1.1\r\n'), 0, 12)).toBeNull();
    expect(recognizeHttp1(text('GET /metrics HTTP/1.1\r\n'), 0, 20)).toBeNull();
    expect(recognizeHttp1(text('GET /metrics HTTP/1.1\r\n'), 0, 22)).toBeNull(); // CR in, LF not yet
    expect(r1(text('GET /metrics HTTP/1.1\n'))?.tags).toContain('http1:prometheus-scrape'); // bare LF tolerated
  });

  it('not HTTP/1', () => {
    for (const s of [
      'get /metrics HTTP/1.1\r\n', // methods are case-sensitive
      'GET /metrics HTTP/2.0\r\n',
      'GET  /metrics HTTP/1.1\r\n',
      'GET /metrics\r\n', // HTTP/0.9
      'FETCH /metrics HTTP/1.1\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      'HTTP/1.1 999 Nope\r\n',
      'HTTP/1.1 2x0 OK\r\n',
      'HTTP/2 200\r\n',
      '*1\r\n$4\r\nPING\r\n',
      'PING\r\n',
    ])
      expect(r1(text(s)), JSON.stringify(s)).toBeNull();
    expect(r1(sample('tls-openssl-client-hello').bytes)).toBeNull();
    expect(r1(sample('h2-curl-prior-knowledge').bytes)).toBeNull();
  });
});

describe('HTTP/1.x responses (node http server)', () => {
  it('Prometheus text by Content-Type', () => {
    const e = r1(sample('http1-curl-metrics-server').bytes);
    expect(e?.tags).toEqual(['http1', 'prometheus-text']);
    expect(e?.detail['httpStatus']).toBe('200');
    expect(e?.detail['contentType']).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('Prometheus text by body, through chunked encoding', () => {
    const e = r1(sample('http1-curl-chunked-metrics-server').bytes);
    expect(e?.tags).toEqual(['http1', 'prometheus-text']);
    expect(e?.detail['transferEncoding']).toBeUndefined();
  });

  it('other responses are http1 only', () => {
    for (const n of ['http1-curl-ready-server', 'http1-curl-prom-api-server', 'http1-curl-grafana-api-server']) {
      expect(r1(sample(n).bytes)?.tags, n).toEqual(['http1']);
    }
    expect(r1(text('HTTP/1.0 404 Not Found\r\n\r\n'))?.detail['httpStatus']).toBe('404');
    expect(r1(text('HTTP/1.1 204\r\n\r\n'))?.detail['httpStatus']).toBe('204');
    expect(r1(text('HTTP/1.1 200 OK'))?.tags).toEqual(['http1']); // status line cut
  });

  it('media types', () => {
    expect(isPrometheusContentType('text/plain; version=0.0.4; charset=utf-8')).toBe(true);
    expect(isPrometheusContentType('text/plain;version=1.0.0;escaping=underscores')).toBe(true);
    expect(isPrometheusContentType('application/openmetrics-text; version=1.0.0; charset=utf-8')).toBe(true);
    expect(isPrometheusContentType('text/plain; charset=utf-8')).toBe(false);
    expect(isPrometheusContentType('text/html; version=0.0.4')).toBe(false);
  });
});
