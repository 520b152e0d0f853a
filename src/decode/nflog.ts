/**
 * Linux NFLOG (LINKTYPE_NFLOG = 239, https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html): what
 * iptables/nftables `log group N` rules hand to userspace. Header: address family (1), version (1,
 * 0), resource id (2, network order: the log group), then TLVs of length (2) and type (2) followed
 * by the value, each padded to a multiple of 4 bytes (the length does not count the padding).
 * NFULA_PAYLOAD (type 9) holds the packet from its IP header on; its version comes from the family
 * (AF_INET 2, AF_INET6 10) or, for any other family, from the version nibble.
 *
 * TLV length and type are in the byte order of the host that captured, which a frame does not
 * record: types are small (below 256), so the order in which the first TLV's type reads small is
 * taken (tcpdump's test trace is little-endian). A TLV shorter than its own header is
 * nflog_bad_header; a message without a payload TLV is nflog_no_payload (not IP).
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be, u16le } from '../util/bytes.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './ethertype.js';
import { cut, malformed, notIp } from './status.js';
import type { DecodedPacket } from './types.js';

export const NFLOG_HEADER_LEN = 4;
const NFLOG_FAMILY = 0;
const NFLOG_VERSION = 1;
const TLV_HEADER_LEN = 4;
const TLV_LENGTH = 0;
const TLV_TYPE = 2;
const NFULA_PAYLOAD = 9;
const NFLOG_AF_INET = 2;
const NFLOG_AF_INET6 = 10;
const TLV_TYPE_MAX = 0xff;

/** Returns the EtherType of the logged packet (out.l3Offset = its IP header) or -1. */
export function decodeNflog(out: DecodedPacket, buf: Uint8Array, off: number, end: number): number {
  if (end - off < NFLOG_HEADER_LEN) return cut(out, Anomaly.truncated_nflog_header);
  if (buf[off + NFLOG_VERSION] !== 0) return malformed(out, Anomaly.nflog_bad_header);
  const family = buf[off + NFLOG_FAMILY]!;
  let p = off + NFLOG_HEADER_LEN;
  if (end - p < TLV_HEADER_LEN) return notIp(out, Anomaly.nflog_no_payload);
  const little = u16le(buf, p + TLV_TYPE) <= TLV_TYPE_MAX || u16be(buf, p + TLV_TYPE) > TLV_TYPE_MAX;
  // Every TLV is at least 4 bytes long, so the walk ends within the captured bytes.
  while (end - p >= TLV_HEADER_LEN) {
    const len = little ? u16le(buf, p + TLV_LENGTH) : u16be(buf, p + TLV_LENGTH);
    const type = little ? u16le(buf, p + TLV_TYPE) : u16be(buf, p + TLV_TYPE);
    if (len < TLV_HEADER_LEN) return malformed(out, Anomaly.nflog_bad_header);
    if (type === NFULA_PAYLOAD) {
      const start = p + TLV_HEADER_LEN;
      out.l3Offset = start;
      if (family === NFLOG_AF_INET) return ETHERTYPE_IPV4;
      if (family === NFLOG_AF_INET6) return ETHERTYPE_IPV6;
      if (end - start < 1) return cut(out, Anomaly.truncated_nflog_header);
      const v = buf[start]! >> 4;
      return v === 4 ? ETHERTYPE_IPV4 : v === 6 ? ETHERTYPE_IPV6 : notIp(out, Anomaly.nflog_no_payload);
    }
    p += (len + 3) & ~3;
  }
  return p > end && !out.truncated ? malformed(out, Anomaly.nflog_bad_header) : notIp(out, Anomaly.nflog_no_payload);
}
