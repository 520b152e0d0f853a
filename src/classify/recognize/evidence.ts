/**
 * What a payload recogniser returns: the protocol it saw, as tags from the shared vocabulary
 * (src/rules/protocol-tags.ts), plus a few decoded fields for display and export.
 */
import type { ProtocolTag } from '../../rules/protocol-tags.js';

export interface ProtocolEvidence {
  /** The wire protocol recognised, the most specific family among `tags` (e.g. 'grpc', 'http1', 'mdns'). */
  protocol: ProtocolTag;
  /** Every tag the bytes support, general to specific, e.g. ['http2', 'grpc', 'grpc:envoy-xds']. */
  tags: ProtocolTag[];
  /**
   * Decoded fields, all optional, values cut to 256 chars. Keys used: httpMethod, httpPath,
   * httpStatus, host, userAgent, contentType, authority, grpcPath, xdsService, xdsType, sni, alpn,
   * tlsVersion, tlsHandshake, respCommand, respType, dnsQname, dnsQtype, dnsOpcode, dnsQr, note.
   */
  detail: Record<string, string>;
  /**
   * True when more bytes of the same direction may improve this evidence (a ClientHello cut before
   * its SNI, a Zeebe handshake before its first message): the classifier then keeps inspecting
   * that direction within its packet and byte budget instead of stopping here. Every recogniser
   * decides this for its own protocol. Not part of any output.
   */
  incomplete?: boolean;
}

/** The detail of evidence built for a summary alone (recognizePayload's `detail` false): none. */
export const NO_DETAIL: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Which side sent the bytes: the flow's originator (ToServer) or its responder (ToClient). */
export const Direction = { ToServer: 0, ToClient: 1 } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];
