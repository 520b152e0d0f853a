/**
 * Payload verification: which protocol do the first bytes of one direction of a flow speak?
 *
 * recognizePayload() runs the recognisers in a fixed order and returns the first evidence found:
 * - TCP: HTTP/2, TLS, HTTP/1, RESP (each skipped when it cannot start with the first byte: one
 *   table lookup), then Zeebe's messaging transport and DNS over TCP (any first byte);
 * - UDP: DNS/mDNS, then Zeebe's SWIM gossip datagram.
 * Each recogniser is a pure function over bytes, exported on its own, never throws and allocates
 * only once it has matched. Called a few times per flow (classifier.ts bounds it), not per packet.
 */
import { windowEnd } from './bytes.js';
import { dnsOverTcpNeverMatches, recognizeDns } from './dns.js';
import { IpProto } from '../../util/ip-proto.js';
import { Direction, type ProtocolEvidence } from './evidence.js';
import { mayStartHttp1, recognizeHttp1 } from './http1.js';
import { recognizeHttp2 } from './http2.js';
import { mayStartResp, recognizeResp, respNeverMatches } from './resp.js';
import { recognizeTls } from './tls.js';
import { recognizeZeebe, recognizeZeebeUnicast, zeebeNeverMatches } from './zeebe.js';

export { Direction, type ProtocolEvidence } from './evidence.js';
export { recognizeDns, readName, MDNS_PORT } from './dns.js';
export { recognizeHttp1, pathTags, isPrometheusContentType, HTTP1_METHODS } from './http1.js';
export { recognizeHttp2, isServerPreface, HTTP2_PREFACE } from './http2.js';
export { HpackDecoder, HPACK_STATIC_TABLE, headerValue, type HpackResult, type HpackStop } from './hpack.js';
export { huffmanDecode, huffmanEncode, huffmanCode } from './huffman.js';
export { parseGrpcPath, grpcServiceTag, ENVOY_XDS_SERVICES, ZEEBE_GATEWAY_SERVICE } from './grpc.js';
export { recognizeResp, RESP_INLINE_COMMANDS } from './resp.js';
export { recognizeTls, tlsVersionName } from './tls.js';

const CAN_HTTP2 = 1;
const CAN_TLS = 2;
const CAN_HTTP1 = 4;
const CAN_RESP = 8;

/** First byte -> which TCP recognisers can match (DNS over TCP starts with a length: any byte). */
const FIRST_BYTE = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  let m = 0;
  if (b === 0x50 /* P: preface */ || b === 0x00 /* server SETTINGS length */) m |= CAN_HTTP2;
  if (b === 0x16 /* handshake */ || b === 0x15 /* alert */) m |= CAN_TLS;
  if (mayStartHttp1(b)) m |= CAN_HTTP1;
  if (mayStartResp(b)) m |= CAN_RESP;
  FIRST_BYTE[b] = m;
}

/**
 * `buf[offset, offset+length)` = the first payload bytes of ONE direction of a flow (TCP: up to
 * the classifier's INSPECT_BYTES, concatenated in order; UDP: one datagram), possibly cut
 * mid-message. Returns null when nothing is recognised (yet).
 * `transport` is the IP protocol number (6 TCP, 17 UDP); `serverPort` the responder's port.
 * `detail` false: nobody will read the decoded fields, so the recognisers skip building them and
 * return evidence with the same protocol, tags and completeness and an empty detail (where they
 * can, one shared frozen object per answer, which the classifier keys by identity).
 * Never throws, on any input.
 */
export function recognizePayload(
  buf: Uint8Array,
  offset: number,
  length: number,
  direction: Direction,
  transport: number,
  serverPort: number,
  detail = true,
): ProtocolEvidence | null {
  try {
    if (windowEnd(buf, offset, length) < 0) return null;
    if (transport === IpProto.UDP) return recognizeDns(buf, offset, length, transport, serverPort, detail) ?? recognizeZeebeUnicast(buf, offset, length, serverPort, detail);
    if (transport !== IpProto.TCP) return null;
    const m = FIRST_BYTE[buf[offset]!]!;
    let e: ProtocolEvidence | null = null;
    if (m & CAN_HTTP2) e = recognizeHttp2(buf, offset, length, direction, detail);
    if (e === null && m & CAN_TLS) e = recognizeTls(buf, offset, length, detail);
    if (e === null && m & CAN_HTTP1) e = recognizeHttp1(buf, offset, length, detail);
    if (e === null && m & CAN_RESP) e = recognizeResp(buf, offset, length, direction, detail);
    // Zeebe's messaging handshake starts with a hash of the cluster name: any first byte.
    if (e === null) e = recognizeZeebe(buf, offset, length, direction, serverPort, detail);
    if (e === null) e = recognizeDns(buf, offset, length, transport, serverPort, detail);
    return e;
  } catch {
    // Each recogniser is fuzzed on its own to never throw; this guard keeps a missed case from
    // taking down the pipeline (the flow just stays unverified).
    return null;
  }
}

/**
 * True when no bytes appended to `buf[offset, offset+length)`, the first bytes of one direction of
 * a TCP stream, could make recognizePayload answer: its first byte starts none of HTTP/2, TLS and
 * HTTP/1, and RESP (when the byte could start it), Zeebe and DNS are refused by the bytes already
 * there. False when that cannot be told yet (it is conservative: a false "not yet" costs no more
 * than reading on). The classifier then stops recognising and copying that direction's bytes.
 */
export function tcpNeverRecognised(buf: Uint8Array, offset: number, length: number, direction: Direction): boolean {
  const end = windowEnd(buf, offset, length);
  if (end <= offset) return false;
  const m = FIRST_BYTE[buf[offset]!]!;
  if (m !== 0 && (m !== CAN_RESP || !respNeverMatches(buf, offset, end, direction))) return false;
  return zeebeNeverMatches(buf, offset, end) && dnsOverTcpNeverMatches(buf, offset, end);
}
