/**
 * HTTP/2 and gRPC recogniser (RFC 9113; gRPC over HTTP/2, grpc/doc/PROTOCOL-HTTP2.md).
 *
 * Client side: the 24-byte connection preface (RFC 9113 §3.4), then frames (§4.1: 24-bit length,
 * type, flags, 31-bit stream id). The first HEADERS frame is found (usually after SETTINGS and
 * WINDOW_UPDATE), its PADDED/PRIORITY fields are skipped (§6.2), CONTINUATION frames are joined,
 * and the HPACK block is decoded to read :method, :path, content-type. A HEADERS frame cut by the
 * end of the bytes is decoded as far as it goes.
 *
 * Server side: there is no preface string; the server's first frame must be SETTINGS (type 4,
 * stream 0, no ACK, length a multiple of 6). That is weaker evidence (detail.note says so); a
 * following response HEADERS block with content-type application/grpc adds 'grpc'.
 */
import type { ProtocolTag } from '../../rules/protocol-tags.js';
import { ascii, matchBytes, MAX_DETAIL_CHARS, windowEnd } from './bytes.js';
import { Direction, NO_DETAIL, type ProtocolEvidence } from './evidence.js';
import { grpcServiceTag, parseGrpcPath } from './grpc.js';
import { HPACK_DEFAULT_TABLE_SIZE, HpackDecoder, headerValue, type HpackResult } from './hpack.js';

/** RFC 9113 §3.4 client connection preface. */
export const HTTP2_PREFACE = ascii('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

const FRAME_HEADER_LEN = 9;
const TYPE_HEADERS = 0x1;
const TYPE_SETTINGS = 0x4;
const TYPE_CONTINUATION = 0x9;
const FLAG_ACK = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
const PRIORITY_FIELDS_LEN = 5; // exclusive bit + stream dependency (4) + weight (1)
const SETTING_LEN = 6;
/** A server preface with more settings than this is not believed (RFC 9113 defines 6, extensions a few). */
const MAX_PREFACE_SETTINGS = 16;
/**
 * Frames walked before giving up on finding HEADERS: a client sends a handful first (SETTINGS,
 * WINDOW_UPDATE, PRIORITY); the bound keeps garbage cheap (the classifier's 2 KiB per direction
 * could hold ~220 empty frames).
 */
const MAX_FRAMES = 64;
const SETTINGS_ENABLE_PUSH = 0x2;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const SETTINGS_MAX_FRAME_SIZE = 0x5;

/** Header-block bytes joined from HEADERS + CONTINUATION frames; reused (recognisers are not re-entrant). */
const BLOCK_SCRATCH = new Uint8Array(4096);

/** The only header fields that decide tags: what a block decodes to when no detail is wanted. */
const TAG_FIELDS: readonly string[] = Object.freeze([':path', 'content-type']);

/**
 * HTTP/2 client or server bytes; see the file comment. Never throws. `detail` false: only the
 * fields that decide tags are decoded (`:path`, `content-type`) and the detail is empty (nothing will
 * print it); protocol, tags and completeness are the same.
 */
export function recognizeHttp2(
  buf: Uint8Array,
  offset: number,
  length: number,
  direction: Direction,
  detail = true,
): ProtocolEvidence | null {
  const end = windowEnd(buf, offset, length);
  if (end < 0) return null;
  const only = detail ? null : TAG_FIELDS;
  if (direction === Direction.ToServer) {
    if (!matchBytes(buf, offset, end, HTTP2_PREFACE)) return null;
    const found = findHeaders(buf, offset + HTTP2_PREFACE.length, end, only);
    return detail ? fromHeaders(found, true, null) : slimFromHeaders(found, true);
  }
  if (!isServerPreface(buf, offset, end)) return null;
  const found = findHeaders(buf, offset, end, only);
  return detail ? fromHeaders(found, false, 'server SETTINGS preface (no preface string on this side)') : slimFromHeaders(found, false);
}

/** True when the bytes start with a SETTINGS frame a server could send first (§3.4, §6.5). */
export function isServerPreface(buf: Uint8Array, p: number, end: number): boolean {
  if (end - p < FRAME_HEADER_LEN) return false;
  const len = (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!;
  if (buf[p + 3] !== TYPE_SETTINGS || (buf[p + 4]! & FLAG_ACK) !== 0) return false;
  if ((buf[p + 5]! & 0x7f) | buf[p + 6]! | buf[p + 7]! | buf[p + 8]!) return false; // stream 0
  if (len % SETTING_LEN !== 0 || len > SETTING_LEN * MAX_PREFACE_SETTINGS) return false;
  // Check the values RFC 9113 §6.5.2 constrains, for the settings that are in the buffer.
  const stop = Math.min(end, p + FRAME_HEADER_LEN + len);
  for (let s = p + FRAME_HEADER_LEN; s + SETTING_LEN <= stop; s += SETTING_LEN) {
    const id = (buf[s]! << 8) | buf[s + 1]!;
    const v = buf[s + 2]! * 0x1000000 + ((buf[s + 3]! << 16) | (buf[s + 4]! << 8) | buf[s + 5]!);
    if (id === 0) return false;
    if (id === SETTINGS_ENABLE_PUSH && v > 1) return false;
    if (id === SETTINGS_INITIAL_WINDOW_SIZE && v > 0x7fffffff) return false;
    if (id === SETTINGS_MAX_FRAME_SIZE && (v < 16384 || v > 0xffffff)) return false;
  }
  return true;
}

interface FoundHeaders {
  result: HpackResult | null;
  /** Why no (complete) block: for detail.note. */
  note: string | null;
}

/**
 * Walks frames from `p` to the first HEADERS frame and decodes its header block (only the fields
 * named in `only` when it is not null: HpackDecoder's `only`).
 */
function findHeaders(buf: Uint8Array, p: number, end: number, only: readonly string[] | null): FoundHeaders {
  for (let frames = 0; frames < MAX_FRAMES && p + FRAME_HEADER_LEN <= end; frames++) {
    const len = (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!;
    const type = buf[p + 3]!;
    const flags = buf[p + 4]!;
    const stream = ((buf[p + 5]! & 0x7f) << 24) | (buf[p + 6]! << 16) | (buf[p + 7]! << 8) | buf[p + 8]!;
    const payload = p + FRAME_HEADER_LEN;
    const frameEnd = payload + len;
    if (type !== TYPE_HEADERS) {
      p = frameEnd;
      continue;
    }
    if (stream === 0) return { result: null, note: 'HEADERS frame on stream 0' };
    let s = payload;
    let pad = 0;
    if (flags & FLAG_PADDED) {
      if (s >= end) return { result: null, note: 'HEADERS frame cut before its fields' };
      pad = buf[s]!;
      s++;
    }
    if (flags & FLAG_PRIORITY) s += PRIORITY_FIELDS_LEN;
    const fragEnd = frameEnd - pad;
    if (s > fragEnd) return { result: null, note: 'HEADERS padding and priority fields longer than the frame' };
    if (s > end) return { result: null, note: 'HEADERS frame cut before its fields' };
    const decoder = new HpackDecoder(HPACK_DEFAULT_TABLE_SIZE, only);
    if (fragEnd > end) {
      return { result: decoder.decode(buf, s, end), note: 'HEADERS frame cut by the end of the bytes' };
    }
    if ((flags & FLAG_END_HEADERS) !== 0) return { result: decoder.decode(buf, s, fragEnd), note: null };
    if (frameEnd >= end) {
      return { result: decoder.decode(buf, s, fragEnd), note: 'header block continues past the end of the bytes' };
    }
    // The block continues in CONTINUATION frames on the same stream (§6.10): join the fragments.
    let n = copyInto(buf, s, fragEnd, 0);
    let q = frameEnd;
    while (q + FRAME_HEADER_LEN <= end && n < BLOCK_SCRATCH.length) {
      const clen = (buf[q]! << 16) | (buf[q + 1]! << 8) | buf[q + 2]!;
      const cstream = ((buf[q + 5]! & 0x7f) << 24) | (buf[q + 6]! << 16) | (buf[q + 7]! << 8) | buf[q + 8]!;
      if (buf[q + 3] !== TYPE_CONTINUATION || cstream !== stream) break;
      const cEnd = q + FRAME_HEADER_LEN + clen;
      n = copyInto(buf, q + FRAME_HEADER_LEN, Math.min(cEnd, end), n);
      if (buf[q + 4]! & FLAG_END_HEADERS) break;
      q = cEnd;
    }
    return { result: decoder.decode(BLOCK_SCRATCH, 0, n), note: null };
  }
  return { result: null, note: 'no HEADERS frame in the bytes seen' };
}

function copyInto(buf: Uint8Array, s: number, e: number, n: number): number {
  const take = Math.min(e - s, BLOCK_SCRATCH.length - n);
  if (take > 0) BLOCK_SCRATCH.set(buf.subarray(s, s + take), n);
  return n + Math.max(take, 0);
}

/** More bytes help until the first HEADERS block has been decoded to its end. */
function isIncomplete(found: FoundHeaders): boolean {
  return found.note !== null || found.result === null || found.result.stop !== 'end';
}

/** The tags after 'http2' that `path` (client side only) and `contentType` support: fromHeaders' rule. */
function grpcTags(client: boolean, path: string | undefined, contentType: string | undefined): ProtocolTag[] | null {
  const grpcPath = client && path !== undefined ? parseGrpcPath(path) : null;
  const grpcType = contentType !== undefined && contentType.toLowerCase().startsWith('application/grpc');
  if (!grpcType && grpcPath === null) return null;
  const sub = grpcPath !== null ? grpcServiceTag(grpcPath.service) : null;
  return sub !== null ? ['http2', 'grpc', sub] : ['http2', 'grpc'];
}

/**
 * fromHeaders without the detail: the same protocol, tags and completeness, as a shared (frozen)
 * object per tag list and completeness (made when first needed; the classifier keys them by identity).
 */
function slimFromHeaders(found: FoundHeaders, client: boolean): ProtocolEvidence {
  const fields = found.result?.fields ?? [];
  const tags = grpcTags(client, headerValue(fields, ':path'), headerValue(fields, 'content-type'));
  const incomplete = isIncomplete(found);
  if (tags === null) return incomplete ? SLIM_HTTP2_PARTIAL : SLIM_HTTP2;
  // ['http2', 'grpc'] or ['http2', 'grpc', the service's tag]: keyed by the last.
  const slim = incomplete ? SLIM_GRPC_PARTIAL : SLIM_GRPC;
  const key = tags[tags.length - 1]!;
  let e = slim.get(key);
  if (e === undefined) {
    const frozen = Object.freeze(tags);
    e = Object.freeze(incomplete ? { protocol: 'grpc', tags: frozen, detail: NO_DETAIL, incomplete } : { protocol: 'grpc', tags: frozen, detail: NO_DETAIL }) as ProtocolEvidence;
    slim.set(key, e);
  }
  return e;
}

const SLIM_GRPC = new Map<string, ProtocolEvidence>();
const SLIM_GRPC_PARTIAL = new Map<string, ProtocolEvidence>();

const SLIM_HTTP2: ProtocolEvidence = Object.freeze({ protocol: 'http2', tags: Object.freeze(['http2']), detail: NO_DETAIL }) as ProtocolEvidence;
const SLIM_HTTP2_PARTIAL: ProtocolEvidence = Object.freeze({ protocol: 'http2', tags: SLIM_HTTP2.tags, detail: NO_DETAIL, incomplete: true }) as ProtocolEvidence;

function fromHeaders(found: FoundHeaders, client: boolean, note: string | null): ProtocolEvidence {
  const detail: Record<string, string> = {};
  const notes: string[] = [];
  if (note !== null) notes.push(note);
  if (found.note !== null) notes.push(found.note);
  const fields = found.result?.fields ?? [];
  if (found.result !== null && found.result.stop !== 'end') notes.push(`header block: ${found.result.stop}`);
  const method = headerValue(fields, ':method');
  const path = headerValue(fields, ':path');
  const status = headerValue(fields, ':status');
  const authority = headerValue(fields, ':authority');
  const contentType = headerValue(fields, 'content-type');
  const userAgent = headerValue(fields, 'user-agent');
  if (method !== undefined) detail['httpMethod'] = cut(method);
  if (path !== undefined) detail['httpPath'] = cut(path);
  if (status !== undefined) detail['httpStatus'] = cut(status);
  if (authority !== undefined) detail['authority'] = cut(authority);
  if (contentType !== undefined) detail['contentType'] = cut(contentType);
  if (userAgent !== undefined) detail['userAgent'] = cut(userAgent);
  const grpc = grpcTags(client, path, contentType);
  if (grpc !== null && path !== undefined) {
    detail['grpcPath'] = cut(path);
    // grpcTags only names a service for a path parseGrpcPath accepts.
    if (grpc[2] === 'grpc:envoy-xds') detail['xdsService'] = parseGrpcPath(path)!.service;
  }
  if (notes.length > 0) detail['note'] = notes.join('; ');
  const tags: ProtocolTag[] = grpc ?? ['http2'];
  const protocol = grpc !== null ? 'grpc' : 'http2';
  // The server-side caveat (`note` argument) is about that side, not about missing bytes.
  const incomplete = isIncomplete(found);
  return incomplete ? { protocol, tags, detail, incomplete } : { protocol, tags, detail };
}

function cut(s: string): string {
  return s.length > MAX_DETAIL_CHARS ? s.slice(0, MAX_DETAIL_CHARS) : s;
}
