/**
 * The PROXY protocol (HAProxy, "The PROXY protocol", versions 1 and 2: proxy-protocol.txt): a
 * header a load balancer puts in front of a TCP connection to pass on the real client's address.
 *
 * Never guessed: a listener either expects a header on every connection (proxy-protocol-in) or
 * never looks for one. Both versions are accepted on such a listener (the signatures cannot be
 * confused). The parser is incremental over the bytes received so far: `more` (a valid prefix),
 * `bad` (with the reason; the connection is refused) or `ok` (the header and its length; the bytes
 * after it are the client's payload). It never throws on any input.
 */
import { isIP } from 'node:net';
import { formatAddress, parseAddress } from '../flow/key.js';
import type { Endpoint } from '../pipeline/results.js';
import type { ProxyProtocolVersion } from './mapping.js';

export interface ProxyHeader {
  version: ProxyProtocolVersion;
  /** v2 LOCAL or v1 UNKNOWN: the sender's own connection (health check); no client address. */
  local: boolean;
  /** The real client; null for LOCAL/UNKNOWN and non-IP families (the TCP peer then stands). */
  source: Endpoint | null;
  /** The address the client connected to (the balancer's frontend); null like `source`. */
  destination: Endpoint | null;
}

export type ProxyHeaderResult =
  | { readonly kind: 'more' }
  | { readonly kind: 'bad'; readonly message: string }
  | { readonly kind: 'ok'; readonly header: ProxyHeader; readonly length: number };

const V1_PREFIX = 'PROXY ';
/** proxy-protocol.txt 2.1: the longest v1 line, CRLF included. */
export const V1_MAX_LENGTH = 107;
export const V2_SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
const V2_HEADER = 16;
/** Largest header this parser buffers: the v2 length field's maximum. */
export const MAX_PROXY_HEADER = V2_HEADER + 0xffff;
const MORE: ProxyHeaderResult = Object.freeze({ kind: 'more' });

const AF_UNSPEC = 0;
const AF_INET = 1;
const AF_INET6 = 2;
const AF_UNIX = 3;
const CMD_LOCAL = 0;
const CMD_PROXY = 1;

function bad(message: string): ProxyHeaderResult {
  return { kind: 'bad', message };
}

/** Shows the first bytes of something that is not a header, for the error message. */
function preview(buf: Uint8Array, offset: number, length: number): string {
  const n = Math.min(length, 16);
  let hex = '';
  for (let i = 0; i < n; i++) hex += buf[offset + i]!.toString(16).padStart(2, '0');
  return `0x${hex}${length > n ? '...' : ''}`;
}

/** Parses a header at `buf[offset, offset + length)` (the first bytes of a connection). */
export function parseProxyHeader(buf: Uint8Array, offset: number, length: number): ProxyHeaderResult {
  if (length <= 0) return MORE;
  if (buf[offset] === 0x0d) return parseV2(buf, offset, length);
  if (buf[offset] === 0x50 /* P */) return parseV1(buf, offset, length);
  return bad(`no PROXY protocol header: the connection starts with ${preview(buf, offset, length)}`);
}

function parseV1(buf: Uint8Array, offset: number, length: number): ProxyHeaderResult {
  const n = Math.min(length, V1_MAX_LENGTH);
  for (let i = 0; i < Math.min(n, V1_PREFIX.length); i++) {
    if (buf[offset + i] !== V1_PREFIX.charCodeAt(i)) return bad(`no PROXY protocol header: the connection starts with ${preview(buf, offset, length)}`);
  }
  let lf = -1;
  for (let i = 0; i < n; i++) {
    const c = buf[offset + i]!;
    if (c === 0x0a) {
      lf = i;
      break;
    }
    // The line is printable US-ASCII (and the CR before LF).
    if ((c < 0x20 || c > 0x7e) && c !== 0x0d) return bad(`PROXY v1 header has a non-printable byte 0x${c.toString(16).padStart(2, '0')} at offset ${i}`);
  }
  if (lf < 0) return length >= V1_MAX_LENGTH ? bad(`PROXY v1 header longer than ${V1_MAX_LENGTH} bytes without CRLF`) : MORE;
  if (lf === 0 || buf[offset + lf - 1] !== 0x0d) return bad('PROXY v1 header line does not end with CRLF');
  let line = '';
  for (let i = 0; i < lf - 1; i++) line += String.fromCharCode(buf[offset + i]!);
  const parts = line.split(' ');
  const proto = parts[1];
  if (proto === 'UNKNOWN') return { kind: 'ok', header: { version: 'v1', local: true, source: null, destination: null }, length: lf + 1 };
  if (proto !== 'TCP4' && proto !== 'TCP6') return bad(`PROXY v1 header: protocol '${proto ?? ''}' is not TCP4, TCP6 or UNKNOWN`);
  if (parts.length !== 6) return bad(`PROXY v1 header: expected 'PROXY ${proto} SRC DST SPORT DPORT', got '${line}'`);
  const family = proto === 'TCP4' ? 4 : 6;
  const [, , src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  for (const a of [src, dst]) if (isIP(a) !== family) return bad(`PROXY v1 header: '${a}' is not an IPv${family} address`);
  const sp = v1Port(sport);
  const dp = v1Port(dport);
  if (sp < 0 || dp < 0) return bad(`PROXY v1 header: '${sp < 0 ? sport : dport}' is not a port (0-65535, no leading zeros)`);
  return { kind: 'ok', header: { version: 'v1', local: false, source: { ip: canonical(src), port: sp }, destination: { ip: canonical(dst), port: dp } }, length: lf + 1 };
}

function v1Port(s: string): number {
  if (!/^(0|[1-9]\d{0,4})$/.test(s)) return -1;
  const n = Number(s);
  return n <= 65535 ? n : -1;
}

function parseV2(buf: Uint8Array, offset: number, length: number): ProxyHeaderResult {
  const sig = Math.min(length, V2_SIGNATURE.length);
  for (let i = 0; i < sig; i++) {
    if (buf[offset + i] !== V2_SIGNATURE[i]) return bad(`no PROXY protocol header: the connection starts with ${preview(buf, offset, length)}`);
  }
  if (length < V2_HEADER) return MORE;
  const verCmd = buf[offset + 12]!;
  if (verCmd >> 4 !== 2) return bad(`PROXY v2 header: version ${verCmd >> 4}, expected 2`);
  const cmd = verCmd & 0x0f;
  if (cmd !== CMD_LOCAL && cmd !== CMD_PROXY) return bad(`PROXY v2 header: unknown command ${cmd}`);
  const fam = buf[offset + 13]!;
  const af = fam >> 4;
  const len = (buf[offset + 14]! << 8) | buf[offset + 15]!;
  if (length < V2_HEADER + len) return MORE;
  const total = V2_HEADER + len;
  if (cmd === CMD_LOCAL || af === AF_UNSPEC) {
    return { kind: 'ok', header: { version: 'v2', local: true, source: null, destination: null }, length: total };
  }
  const p = offset + V2_HEADER;
  if (af === AF_INET) {
    if (len < 12) return bad(`PROXY v2 header: ${len} address bytes, IPv4 needs 12`);
    const ip = (o: number): string => `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`;
    return {
      kind: 'ok',
      header: { version: 'v2', local: false, source: { ip: ip(p), port: u16(buf, p + 8) }, destination: { ip: ip(p + 4), port: u16(buf, p + 10) } },
      length: total,
    };
  }
  if (af === AF_INET6) {
    if (len < 36) return bad(`PROXY v2 header: ${len} address bytes, IPv6 needs 36`);
    return {
      kind: 'ok',
      header: { version: 'v2', local: false, source: { ip: ipv6(buf, p), port: u16(buf, p + 32) }, destination: { ip: ipv6(buf, p + 16), port: u16(buf, p + 34) } },
      length: total,
    };
  }
  if (af === AF_UNIX) {
    if (len < 216) return bad(`PROXY v2 header: ${len} address bytes, a UNIX address needs 216`);
    return { kind: 'ok', header: { version: 'v2', local: false, source: null, destination: null }, length: total };
  }
  return bad(`PROXY v2 header: unknown address family ${af}`);
}

function u16(buf: Uint8Array, p: number): number {
  return (buf[p]! << 8) | buf[p + 1]!;
}

function ipv6(buf: Uint8Array, p: number): string {
  const w = (o: number): number => ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
  return formatAddress(6, w(p), w(p + 4), w(p + 8), w(p + 12));
}

/** The canonical text of an address (RFC 5952 for IPv6). */
function canonical(ip: string): string {
  const a = parseAddress(ip);
  return a === null ? ip : formatAddress(a[0], a[1], a[2], a[3], a[4]);
}

/**
 * The header to send upstream for a connection from `source` to `destination` (the listener).
 * Mixed families (an IPv4 client on an IPv6 listener) are sent as IPv6 with the IPv4-mapped form.
 */
export function encodeProxyHeader(version: ProxyProtocolVersion, source: Endpoint, destination: Endpoint): Buffer {
  const s = parseAddress(source.ip);
  const d = parseAddress(destination.ip);
  if (s === null || d === null) {
    // Not an IP connection (cannot happen for TCP listeners): say so without addresses.
    return version === 'v1' ? Buffer.from('PROXY UNKNOWN\r\n', 'latin1') : v2Header(AF_UNSPEC, Buffer.alloc(0), CMD_LOCAL);
  }
  const six = s[0] === 6 || d[0] === 6;
  const words = (a: [number, number, number, number, number]): [number, number, number, number] =>
    a[0] === 4 && six ? [0, 0, 0xffff, a[4]] : [a[1], a[2], a[3], a[4]];
  const sw = words(s);
  const dw = words(d);
  if (version === 'v1') {
    const text = (w: [number, number, number, number]): string => (six ? formatAddress(6, w[0], w[1], w[2], w[3]) : formatAddress(4, 0, 0, 0, w[3]));
    return Buffer.from(`PROXY ${six ? 'TCP6' : 'TCP4'} ${text(sw)} ${text(dw)} ${source.port} ${destination.port}\r\n`, 'latin1');
  }
  const body = Buffer.alloc(six ? 36 : 12);
  if (six) {
    for (let i = 0; i < 4; i++) {
      body.writeUInt32BE(sw[i]! >>> 0, i * 4);
      body.writeUInt32BE(dw[i]! >>> 0, 16 + i * 4);
    }
    body.writeUInt16BE(source.port, 32);
    body.writeUInt16BE(destination.port, 34);
  } else {
    body.writeUInt32BE(sw[3] >>> 0, 0);
    body.writeUInt32BE(dw[3] >>> 0, 4);
    body.writeUInt16BE(source.port, 8);
    body.writeUInt16BE(destination.port, 10);
  }
  return v2Header(six ? AF_INET6 : AF_INET, body, CMD_PROXY);
}

function v2Header(af: number, body: Buffer, cmd: number): Buffer {
  const h = Buffer.alloc(V2_HEADER + body.length);
  h.set(V2_SIGNATURE, 0);
  h[12] = 0x20 | cmd;
  h[13] = (af << 4) | (af === AF_UNSPEC ? 0 : 1); // STREAM
  h.writeUInt16BE(body.length, 14);
  body.copy(h, V2_HEADER);
  return h;
}
