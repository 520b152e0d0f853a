/**
 * HTTP/1.x recogniser (RFC 9112 §3 request line, §4 status line, §5 header fields).
 *
 * A request is `method SP target SP HTTP/1.0|HTTP/1.1 CRLF` with the method from a fixed list; a
 * response is `HTTP/1.x SP 3DIGIT [SP reason] CRLF`. Header fields after the start line are read
 * as far as the bytes go (Host, User-Agent, Content-Type, Transfer-Encoding).
 *
 * Path heuristics for the sub-tags (on the path without its query string):
 * - 'http1:rest-xds': POST /v2|v3/discovery:<type> (Envoy REST xDS, e.g. /v3/discovery:clusters)
 * - 'http1:prometheus-scrape': GET /metrics, /metrics/..., /federate, /actuator/prometheus
 * - 'http1:health': /ready /health /healthz /-/ready /-/healthy /livez /readyz /live /startup
 *   /actuator/health[/...] /api/health (Grafana's health endpoint also gets 'http1:grafana-api')
 * - 'http1:prometheus-api': /api/v1 and /api/v1/... (the Prometheus HTTP API)
 * - 'http1:grafana-api': any other /api/... path. Grafana serves its HTTP API under /api/ without
 *   a version segment (/api/search, /api/dashboards/uid/x, /api/datasources), while Prometheus uses
 *   /api/v1/. This is a guess from the path alone: other products also use /api/; the port rule
 *   decides whether the guess matters.
 * A response whose Content-Type is the Prometheus text format (text/plain; version=0.0.4 or 1.0.0,
 * application/openmetrics-text) or whose body starts with "# HELP " / "# TYPE " gets
 * 'prometheus-text'.
 */
import type { ProtocolTag } from '../../rules/protocol-tags.js';
import { ascii, detailString, isDigit, isVisible, latin1, matchBytes, matchLower, windowEnd } from './bytes.js';
import { NO_DETAIL, type ProtocolEvidence } from './evidence.js';

/** Request methods accepted (RFC 9110 §9 plus PATCH, RFC 5789). */
export const HTTP1_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
const METHOD_BYTES = HTTP1_METHODS.map(ascii);

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;
const HTTP_SLASH_1 = ascii('HTTP/1.');
/** Longest request target we scan; a longer one cut by the buffer end is still accepted (see MIN_CUT_TARGET). */
const MAX_TARGET = 8192;
/** A request line cut inside the target is accepted once this many target bytes were seen. */
const MIN_CUT_TARGET = 32;
const MAX_HEADER_LINES = 64;

const H_HOST = ascii('host');
const H_USER_AGENT = ascii('user-agent');
const H_CONTENT_TYPE = ascii('content-type');
const H_TRANSFER_ENCODING = ascii('transfer-encoding');
const HASH_HELP = ascii('# HELP ');
const HASH_TYPE = ascii('# TYPE ');

/** True when `b` can start an HTTP/1 request or response (cheap dispatch check). */
export function mayStartHttp1(b: number): boolean {
  return b === 0x47 || b === 0x48 || b === 0x50 || b === 0x44 || b === 0x43 || b === 0x4f || b === 0x54;
}

/**
 * HTTP/1.x request or response bytes (either direction). Never throws. `detail` false: a request's
 * header fields are not read, a response's only those that decide tags, and the detail is empty
 * (nothing will print it); protocol, tags and completeness are the same.
 */
export function recognizeHttp1(buf: Uint8Array, offset: number, length: number, detail = true): ProtocolEvidence | null {
  const end = windowEnd(buf, offset, length);
  if (end < 0) return null;
  if (matchBytes(buf, offset, end, HTTP_SLASH_1)) return response(buf, offset, end, detail);
  return request(buf, offset, end, detail);
}

function request(buf: Uint8Array, start: number, end: number, detail: boolean): ProtocolEvidence | null {
  let m = -1;
  for (let i = 0; i < METHOD_BYTES.length; i++) {
    const mb = METHOD_BYTES[i]!;
    if (matchBytes(buf, start, end, mb) && buf[start + mb.length] === SP) {
      m = i;
      break;
    }
  }
  if (m < 0) return null;
  const tStart = start + METHOD_BYTES[m]!.length + 1;
  let p = tStart;
  const tLimit = Math.min(end, tStart + MAX_TARGET);
  while (p < tLimit && isVisible(buf[p]!)) p++;
  const tEnd = p;
  let note: string | null = null;
  let lineEnd = -1;
  if (tEnd === tStart) return null;
  if (p >= end) {
    // Cut inside the target: believe it only when a long run of target bytes was seen.
    if (tEnd - tStart < MIN_CUT_TARGET) return null;
    note = 'request line cut by the end of the bytes';
  } else {
    if (buf[p] !== SP) return null;
    p++;
    if (!matchBytes(buf, p, end, HTTP_SLASH_1) || p + 8 > end) return null;
    const minor = buf[p + 7]!;
    if (minor !== 0x30 && minor !== 0x31) return null;
    p += 8;
    if (p < end && buf[p] === CR) p++;
    if (p >= end) return null; // the line ending is not in yet: need more data
    if (buf[p] !== LF) return null;
    lineEnd = p + 1;
  }
  const method = HTTP1_METHODS[m]!;
  const target = detailString(buf, tStart, tEnd);
  const bits = pathTagBits(method, target);
  // Without details the header fields are not read: only the request line decides tags and
  // completeness, and the answer is a shared object.
  if (!detail) return slimRequest(bits, note !== null);
  const tags: ProtocolTag[] = ['http1', ...tagsOfBits(bits)];
  const fields: Record<string, string> = { httpMethod: method, httpPath: target };
  if (note !== null) fields['note'] = note;
  if (lineEnd >= 0) readHeaders(buf, lineEnd, end, fields, true);
  delete fields['transferEncoding'];
  // A request line cut by the end of the bytes: the rest of it (and the headers) may follow.
  return note === null ? { protocol: 'http1', tags, detail: fields } : { protocol: 'http1', tags, detail: fields, incomplete: true };
}

/** The sub-tags a request path can have, in the order they are listed; bit i of pathTagBits() is PATH_TAGS[i]. */
const PATH_TAGS: readonly ProtocolTag[] = ['http1:rest-xds', 'http1:prometheus-scrape', 'http1:prometheus-api', 'http1:grafana-api', 'http1:health'];

/** Sub-tags for a request path; see the file comment. */
export function pathTags(method: string, target: string): ProtocolTag[] {
  return tagsOfBits(pathTagBits(method, target));
}

function tagsOfBits(bits: number): ProtocolTag[] {
  const out: ProtocolTag[] = [];
  for (let i = 0; i < PATH_TAGS.length; i++) if ((bits & (1 << i)) !== 0) out.push(PATH_TAGS[i]!);
  return out;
}

function pathTagBits(method: string, target: string): number {
  const q = target.indexOf('?');
  const path = q >= 0 ? target.slice(0, q) : target;
  let bits = 0;
  if (method === 'POST' && /^\/v[23]\/discovery:[a-z_-]+$/.test(path)) bits |= 1;
  if (method === 'GET' && (path === '/metrics' || path.startsWith('/metrics/') || path === '/federate' || path === '/actuator/prometheus')) bits |= 2;
  if (path === '/api/v1' || path.startsWith('/api/v1/')) bits |= 4;
  else if (path.startsWith('/api/')) bits |= 8;
  if (HEALTH_PATHS.has(path) || path.startsWith('/actuator/health/')) bits |= 16;
  return bits;
}

/** Requests without details, one shared (frozen) object per sub-tag set and completeness, made when first needed. */
const SLIM_REQUESTS: Array<ProtocolEvidence | undefined> = [];

function slimRequest(bits: number, incomplete: boolean): ProtocolEvidence {
  const at = bits * 2 + (incomplete ? 1 : 0);
  let e = SLIM_REQUESTS[at];
  if (e === undefined) {
    const tags = Object.freeze(['http1', ...tagsOfBits(bits)]);
    e = Object.freeze(incomplete ? { protocol: 'http1', tags, detail: NO_DETAIL, incomplete: true } : { protocol: 'http1', tags, detail: NO_DETAIL }) as ProtocolEvidence;
    SLIM_REQUESTS[at] = e;
  }
  return e;
}

const HEALTH_PATHS: ReadonlySet<string> = new Set([
  '/ready', '/health', '/healthz', '/-/ready', '/-/healthy', '/livez', '/readyz', '/live', '/startup',
  '/actuator/health', '/api/health',
]);

const SLIM_RESPONSE: ProtocolEvidence = Object.freeze({ protocol: 'http1', tags: Object.freeze(['http1']), detail: NO_DETAIL }) as ProtocolEvidence;
const SLIM_PROMETHEUS_RESPONSE: ProtocolEvidence = Object.freeze({ protocol: 'http1', tags: Object.freeze(['http1', 'prometheus-text']), detail: NO_DETAIL }) as ProtocolEvidence;

function response(buf: Uint8Array, start: number, end: number, withDetail: boolean): ProtocolEvidence | null {
  // HTTP/1.x SP 3DIGIT (SP reason)? CRLF
  let p = start + HTTP_SLASH_1.length;
  if (p + 5 > end) return null;
  const minor = buf[p]!;
  if (minor !== 0x30 && minor !== 0x31) return null;
  if (buf[p + 1] !== SP || !isDigit(buf[p + 2]!) || !isDigit(buf[p + 3]!) || !isDigit(buf[p + 4]!)) return null;
  if (buf[p + 2]! < 0x31 || buf[p + 2]! > 0x35) return null; // status classes 1xx..5xx
  const status = withDetail ? latin1(buf, p + 2, p + 5) : '';
  p += 5;
  // Reason phrase: SP then any visible/space/tab bytes (obs-text allowed) up to the line end.
  if (p < end && buf[p] === SP) {
    p++;
    while (p < end && buf[p] !== CR && buf[p] !== LF) {
      const b = buf[p]!;
      if (b < 0x20 && b !== 0x09) return null;
      if (b === 0x7f) return null;
      p++;
    }
  }
  const detail: Record<string, string> = withDetail ? { httpStatus: status } : {};
  let prom = false;
  if (p < end && buf[p] === CR) p++;
  if (p < end) {
    if (buf[p] !== LF) return null;
    const bodyStart = readHeaders(buf, p + 1, end, detail, withDetail);
    const ct = detail['contentType']?.toLowerCase();
    prom = ct !== undefined && isPrometheusContentType(ct);
    if (!prom && bodyStart >= 0) prom = bodyLooksLikePrometheus(buf, bodyStart, end, detail['transferEncoding'] === 'chunked');
  }
  // else: the status line is cut by the end of the bytes; "HTTP/1.x NNN" is specific enough.
  if (!withDetail) return prom ? SLIM_PROMETHEUS_RESPONSE : SLIM_RESPONSE;
  delete detail['transferEncoding'];
  return { protocol: 'http1', tags: prom ? ['http1', 'prometheus-text'] : ['http1'], detail };
}

/** Prometheus text exposition (0.0.4 or 1.0.0) or OpenMetrics media type. */
export function isPrometheusContentType(ct: string): boolean {
  if (ct.startsWith('application/openmetrics-text')) return true;
  return ct.startsWith('text/plain') && /;\s*version=(0\.0\.4|1\.0\.0)\b/.test(ct);
}

function bodyLooksLikePrometheus(buf: Uint8Array, p: number, end: number, chunked: boolean): boolean {
  if (chunked) {
    // Skip the first chunk-size line: hex digits, optional extensions, CRLF.
    let q = p;
    while (q < end && q - p < 32 && buf[q] !== LF) q++;
    if (q >= end || buf[q] !== LF) return false;
    p = q + 1;
  }
  return matchBytes(buf, p, end, HASH_HELP) || matchBytes(buf, p, end, HASH_TYPE);
}

/**
 * Reads header lines from `p` into detail (host and userAgent when `all`; contentType,
 * transferEncoding). Returns the offset of the body when the empty line ending the header section
 * was seen, else -1.
 */
function readHeaders(buf: Uint8Array, p: number, end: number, detail: Record<string, string>, all: boolean): number {
  for (let lines = 0; lines < MAX_HEADER_LINES && p < end; lines++) {
    let e = p;
    while (e < end && buf[e] !== LF) e++;
    if (e >= end) return -1; // line cut by the end of the bytes
    const lineEnd = e > p && buf[e - 1] === CR ? e - 1 : e;
    if (lineEnd === p) return e + 1;
    let c = p;
    while (c < lineEnd && buf[c] !== COLON) c++;
    if (c < lineEnd) {
      let v = c + 1;
      while (v < lineEnd && (buf[v] === SP || buf[v] === 0x09)) v++;
      const n = c - p;
      if (n === H_HOST.length && matchLower(buf, p, c, H_HOST)) {
        if (all) detail['host'] = detailString(buf, v, lineEnd);
      } else if (n === H_USER_AGENT.length && matchLower(buf, p, c, H_USER_AGENT)) {
        if (all) detail['userAgent'] = detailString(buf, v, lineEnd);
      } else if (n === H_CONTENT_TYPE.length && matchLower(buf, p, c, H_CONTENT_TYPE)) detail['contentType'] = detailString(buf, v, lineEnd);
      else if (n === H_TRANSFER_ENCODING.length && matchLower(buf, p, c, H_TRANSFER_ENCODING)) {
        detail['transferEncoding'] = detailString(buf, v, lineEnd).toLowerCase().trim();
      }
    }
    p = e + 1;
  }
  return -1;
}
