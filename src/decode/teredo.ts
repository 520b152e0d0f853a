/**
 * Teredo (RFC 4380 section 5.1.1): IPv6 over UDP to port 3544, optionally preceded by an
 * authentication indicator (0x0001, client id length (1), authentication value length (1), client
 * id, authentication value, nonce (8), confirmation (1)) and then an origin indicator (0x0000,
 * obfuscated port (2), obfuscated IPv4 address (4)). Bubbles and qualification packets are IPv6
 * packets like the rest (no next header, ICMPv6 router solicitations/advertisements).
 *
 * A payload that is not an IPv6 header after the indicators is not Teredo: teredo_bad_payload, and
 * the UDP flow counts it like any other datagram.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be } from '../util/bytes.js';
import { IPV6_HEADER_LEN } from './ipv6.js';
import { note } from './status.js';
import { InnerKind, openTunnel, TunnelType } from './tunnel.js';
import type { DecodedPacket } from './types.js';

const TEREDO_AUTH = 0x0001;
const TEREDO_ORIGIN = 0x0000;
const AUTH_FIXED_LEN = 4;
const AUTH_ID_LEN = 2;
const AUTH_AU_LEN = 3;
const AUTH_NONCE_CONFIRMATION_LEN = 9;
const ORIGIN_LEN = 8;
const INDICATOR_LEN = 2;

/** The Teredo payload at `off` (arguments as decodeVxlan). */
export function decodeTeredo(out: DecodedPacket, buf: Uint8Array, off: number, capEnd: number, declEnd: number): void {
  let p = off;
  if (capEnd - p >= INDICATOR_LEN && u16be(buf, p) === TEREDO_AUTH) {
    if (capEnd - p < AUTH_FIXED_LEN) {
      note(out, Anomaly.truncated_teredo_header);
      return;
    }
    p += AUTH_FIXED_LEN + buf[p + AUTH_ID_LEN]! + buf[p + AUTH_AU_LEN]! + AUTH_NONCE_CONFIRMATION_LEN;
    if (p > capEnd) {
      note(out, Anomaly.truncated_teredo_header);
      return;
    }
  }
  if (capEnd - p >= INDICATOR_LEN && u16be(buf, p) === TEREDO_ORIGIN) {
    p += ORIGIN_LEN;
    if (p > capEnd) {
      note(out, Anomaly.truncated_teredo_header);
      return;
    }
  }
  // The IPv6 header must be there for this to be Teredo at all (the IPv6 decoder checks the rest).
  if (capEnd - p < IPV6_HEADER_LEN || buf[p]! >> 4 !== 6) {
    note(out, Anomaly.teredo_bad_payload);
    return;
  }
  openTunnel(out, TunnelType.TEREDO, 0, false, InnerKind.Ipv6, p, capEnd, declEnd);
}
