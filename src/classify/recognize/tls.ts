/**
 * TLS recogniser (RFC 8446 §5.1 record layer, §4.1.2 ClientHello, §4.1.3 ServerHello; RFC 5246
 * for TLS 1.0-1.2; extensions: RFC 6066 §3 server_name, RFC 7301 ALPN, RFC 8446 §4.2.1
 * supported_versions).
 *
 * A handshake record (content type 22, record version 0x0301-0x0304) carrying a ClientHello (type
 * 1) or ServerHello (type 2). A handshake message split over several records is joined; one cut by
 * the end of the bytes is parsed as far as it goes (detail.note says where it stopped), so a
 * ClientHello whose SNI lies past the bytes the classifier keeps per direction (INSPECT_BYTES) is
 * still 'tls', just without detail.sni.
 * A lone alert record (type 21, length 2) is also TLS: servers answer a bad hello with one.
 */
import { detailString, windowEnd } from './bytes.js';
import { NO_DETAIL, type ProtocolEvidence } from './evidence.js';

const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const RECORD_HEADER_LEN = 5;
/** RFC 8446 §5.2: TLSCiphertext length may reach 2^14 + 256; allow the TLS 1.2 bound 2^14 + 2048. */
const MAX_RECORD_LEN = 16384 + 2048;
const HS_CLIENT_HELLO = 1;
const HS_SERVER_HELLO = 2;
const HS_HEADER_LEN = 4;
const RANDOM_LEN = 32;
const MAX_SESSION_ID = 32;
/** Smallest possible bodies: version + random + session id length + suite + compression (+ lengths). */
const MIN_SERVER_HELLO = 2 + RANDOM_LEN + 1 + 2 + 1;
const MIN_CLIENT_HELLO = 2 + RANDOM_LEN + 1 + 2 + 2 + 1 + 1;
/** Hellos longer than this are not believed (real ones stay well under 16 KiB). */
const MAX_HELLO_LEN = 0xffff;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;
const SNI_HOST_NAME = 0;

/**
 * Handshake bytes joined from consecutive records; reused (recognisers are not re-entrant). Sized
 * for the largest first message the proxy collects (16 KiB: post-quantum key shares, ECH and big
 * PSK lists make ClientHellos of several KiB); capture mode passes at most 2 KiB.
 */
const HS_SCRATCH = new Uint8Array(16 * 1024);

function recordVersionOk(major: number, minor: number): boolean {
  return major === 3 && minor >= 1 && minor <= 4;
}

/** "1.0".."1.3", "ssl3", or hex for anything else (GREASE is filtered before this). */
export function tlsVersionName(v: number): string {
  switch (v) {
    case 0x0300:
      return 'ssl3';
    case 0x0301:
      return '1.0';
    case 0x0302:
      return '1.1';
    case 0x0303:
      return '1.2';
    case 0x0304:
      return '1.3';
    default:
      return '0x' + v.toString(16).padStart(4, '0');
  }
}

/** RFC 8701 GREASE values: 0x0a0a, 0x1a1a, ... 0xfafa. */
function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/**
 * TLS handshake (or alert) bytes, either direction. Never throws. `detail` false: the hello's
 * extensions are walked but not read, and the detail is empty (nothing will print it); protocol,
 * tags and completeness are the same.
 */
export function recognizeTls(buf: Uint8Array, offset: number, length: number, detail = true): ProtocolEvidence | null {
  const end = windowEnd(buf, offset, length);
  if (end < 0 || end - offset < RECORD_HEADER_LEN) return null;
  const type = buf[offset]!;
  if (!recordVersionOk(buf[offset + 1]!, buf[offset + 2]!)) return null;
  const recLen = (buf[offset + 3]! << 8) | buf[offset + 4]!;
  if (recLen === 0 || recLen > MAX_RECORD_LEN) return null;
  if (type === CT_ALERT) {
    const a = alert(buf, offset, end, recLen);
    return a === null || detail ? a : SLIM_TLS_PARTIAL;
  }
  if (type !== CT_HANDSHAKE) return null;
  const n = joinHandshakeRecords(buf, offset, end);
  if (n < HS_HEADER_LEN + 2) return null;
  const hsType = HS_SCRATCH[0]!;
  if (hsType !== HS_CLIENT_HELLO && hsType !== HS_SERVER_HELLO) return null;
  const hsLen = (HS_SCRATCH[1]! << 16) | (HS_SCRATCH[2]! << 8) | HS_SCRATCH[3]!;
  const min = hsType === HS_CLIENT_HELLO ? MIN_CLIENT_HELLO : MIN_SERVER_HELLO;
  if (hsLen < min || hsLen > MAX_HELLO_LEN) return null;
  const legacy = (HS_SCRATCH[4]! << 8) | HS_SCRATCH[5]!;
  if (HS_SCRATCH[4] !== 3 || HS_SCRATCH[5]! > 4) return null;
  return parseHello(hsType, legacy, Math.min(n, HS_HEADER_LEN + hsLen), n < HS_HEADER_LEN + hsLen, detail);
}

const SLIM_TLS: ProtocolEvidence = Object.freeze({ protocol: 'tls', tags: Object.freeze(['tls']), detail: NO_DETAIL }) as ProtocolEvidence;
const SLIM_TLS_PARTIAL: ProtocolEvidence = Object.freeze({ protocol: 'tls', tags: SLIM_TLS.tags, detail: NO_DETAIL, incomplete: true }) as ProtocolEvidence;

function alert(buf: Uint8Array, p: number, end: number, recLen: number): ProtocolEvidence | null {
  // An unencrypted alert is 2 bytes: level 1 (warning) or 2 (fatal), then the description.
  if (recLen !== 2 || end - p < RECORD_HEADER_LEN + 2) return null;
  const level = buf[p + 5]!;
  if (level !== 1 && level !== 2) return null;
  return {
    protocol: 'tls',
    tags: ['tls'],
    detail: { tlsAlert: String(buf[p + 6]!), note: level === 2 ? 'fatal alert' : 'warning alert' },
    // A handshake may still follow a warning; after a fatal alert the peer closes anyway.
    incomplete: true,
  };
}

/** Copies the payloads of consecutive handshake records into HS_SCRATCH; returns the byte count. */
function joinHandshakeRecords(buf: Uint8Array, p: number, end: number): number {
  let n = 0;
  while (p + RECORD_HEADER_LEN <= end && n < HS_SCRATCH.length) {
    if (buf[p] !== CT_HANDSHAKE || !recordVersionOk(buf[p + 1]!, buf[p + 2]!)) break;
    const len = (buf[p + 3]! << 8) | buf[p + 4]!;
    const s = p + RECORD_HEADER_LEN;
    const e = Math.min(s + len, end, s + HS_SCRATCH.length - n);
    HS_SCRATCH.set(buf.subarray(s, e), n);
    n += e - s;
    if (n >= HS_HEADER_LEN) {
      // Stop once the first handshake message is complete.
      const hsLen = (HS_SCRATCH[1]! << 16) | (HS_SCRATCH[2]! << 8) | HS_SCRATCH[3]!;
      if (n >= HS_HEADER_LEN + hsLen) break;
    }
    p = s + len;
  }
  return n;
}

/**
 * Parses a ClientHello/ServerHello body in HS_SCRATCH[0, end); `cut`: the message goes on past end.
 * `withDetail` false: the same walk, without reading the extensions it finds.
 */
function parseHello(hsType: number, legacy: number, end: number, cut: boolean, withDetail: boolean): ProtocolEvidence {
  const h = HS_SCRATCH;
  const client = hsType === HS_CLIENT_HELLO;
  const detail: Record<string, string> = withDetail ? { tlsHandshake: client ? 'client_hello' : 'server_hello' } : NO_DETAIL;
  let version = legacy;
  const out = (note: string | null): ProtocolEvidence => {
    if (!withDetail) return note === null ? SLIM_TLS : SLIM_TLS_PARTIAL;
    detail['tlsVersion'] = tlsVersionName(version);
    if (note === null) return { protocol: 'tls', tags: ['tls'], detail };
    // The note says where the hello stopped: the rest of it may be in the next bytes.
    detail['note'] = note;
    return { protocol: 'tls', tags: ['tls'], detail, incomplete: true };
  };
  let p = HS_HEADER_LEN + 2 + RANDOM_LEN;
  if (p + 1 > end) return out('hello cut before the session id');
  const sid = h[p]!;
  if (sid > MAX_SESSION_ID) return out('session id longer than 32 bytes');
  p += 1 + sid;
  if (client) {
    if (p + 2 > end) return out('hello cut before the cipher suites');
    const cs = (h[p]! << 8) | h[p + 1]!;
    p += 2 + cs;
    if (p + 1 > end) return out('hello cut before the compression methods');
    p += 1 + h[p]!;
  } else {
    p += 2 + 1; // cipher suite, compression method
  }
  if (p + 2 > end) return out(cut ? 'hello cut before the extensions' : null);
  const declaredEnd = p + 2 + ((h[p]! << 8) | h[p + 1]!);
  const extEnd = Math.min(end, declaredEnd);
  p += 2;
  while (p + 4 <= extEnd) {
    const type = (h[p]! << 8) | h[p + 1]!;
    const len = (h[p + 2]! << 8) | h[p + 3]!;
    const s = p + 4;
    const e = s + len;
    if (e > extEnd) return out(withDetail ? `hello cut inside extension ${type}` : '');
    if (!withDetail) {
      p = e;
      continue;
    }
    if (type === EXT_SERVER_NAME && client) readSni(s, e, detail);
    else if (type === EXT_ALPN) readAlpn(s, e, detail);
    else if (type === EXT_SUPPORTED_VERSIONS) version = readVersions(s, e, client, version);
    p = e;
  }
  return out(cut || declaredEnd > end ? 'hello cut inside the extensions' : null);
}

function readSni(p: number, end: number, detail: Record<string, string>): void {
  const h = HS_SCRATCH;
  if (p + 2 > end) return;
  const listEnd = Math.min(end, p + 2 + ((h[p]! << 8) | h[p + 1]!));
  p += 2;
  while (p + 3 <= listEnd) {
    const nameType = h[p]!;
    const len = (h[p + 1]! << 8) | h[p + 2]!;
    const s = p + 3;
    if (s + len > listEnd) return;
    if (nameType === SNI_HOST_NAME && len > 0) {
      detail['sni'] = detailString(h, s, s + len);
      return;
    }
    p = s + len;
  }
}

function readAlpn(p: number, end: number, detail: Record<string, string>): void {
  const h = HS_SCRATCH;
  if (p + 2 > end) return;
  const listEnd = Math.min(end, p + 2 + ((h[p]! << 8) | h[p + 1]!));
  p += 2;
  const protos: string[] = [];
  while (p < listEnd && protos.length < 16) {
    const len = h[p]!;
    if (len === 0 || p + 1 + len > listEnd) break;
    protos.push(detailString(h, p + 1, p + 1 + len));
    p += 1 + len;
  }
  if (protos.length > 0) detail['alpn'] = protos.join(',');
}

/** Highest non-GREASE version offered (ClientHello) or the one selected (ServerHello). */
function readVersions(p: number, end: number, client: boolean, fallback: number): number {
  const h = HS_SCRATCH;
  if (!client) return p + 2 <= end ? (h[p]! << 8) | h[p + 1]! : fallback;
  if (p + 1 > end) return fallback;
  const listEnd = Math.min(end, p + 1 + h[p]!);
  let best = -1;
  for (let q = p + 1; q + 2 <= listEnd; q += 2) {
    const v = (h[q]! << 8) | h[q + 1]!;
    if (!isGrease(v) && v > best) best = v;
  }
  return best >= 0 ? best : fallback;
}
