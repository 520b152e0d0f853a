/**
 * Apple PKTAP (LINKTYPE_PKTAP = 258, https://www.tcpdump.org/linktypes/LINKTYPE_PKTAP.html; struct
 * pktap_header in xnu bsd/net/pktap.h): pth_length (4) = header length, pth_type_next (4),
 * pth_dlt (4) = link type of the frame that follows, then interface name, process info, ... The
 * fixed part is 108 bytes; newer systems write longer headers, so pth_length is what counts.
 * Fields are in the capturing host's byte order: little-endian on every Apple platform, but a
 * big-endian header is accepted when only that reading gives a sensible length.
 */
import { LinkType } from '../capture/types.js';
import { Anomaly } from '../util/anomaly.js';
import { u32be, u32le } from '../util/bytes.js';
import { cut, malformed, notIp } from './status.js';
import type { DecodedPacket } from './types.js';

const PTH_LENGTH = 0;
const PTH_TYPE_NEXT = 4;
const PTH_DLT = 8;
/** Bytes needed to read length, record type and inner link type. */
const PTH_FIXED_FIELDS_LEN = 12;
export const PKTAP_MIN_HEADER_LEN = 108;
/** A header longer than this is not believed. */
const PKTAP_MAX_HEADER_LEN = 0xffff;
/** pth_type_next value for a packet record (others carry no frame). */
const PTH_TYPE_PACKET = 1;

/** BSD DLT_RAW (12; 14 on OpenBSD) differs from LINKTYPE_RAW (101); the other DLTs seen under PKTAP
 * (DLT_NULL 0, DLT_EN10MB 1, DLT_IEEE802_11_RADIO 127) equal their LINKTYPE. */
const DLT_RAW_BSD = 12;
const DLT_RAW_OPENBSD = 14;

/** Returns the inner frame's link type (out.l3Offset = its start) or -1. */
export function decodePktap(out: DecodedPacket, buf: Uint8Array, off: number, end: number): number {
  if (end - off < PTH_FIXED_FIELDS_LEN) return cut(out, Anomaly.truncated_pktap_header);
  let len = u32le(buf, off + PTH_LENGTH);
  let little = true;
  if (len < PKTAP_MIN_HEADER_LEN || len > PKTAP_MAX_HEADER_LEN) {
    const be = u32be(buf, off + PTH_LENGTH);
    if (be < PKTAP_MIN_HEADER_LEN || be > PKTAP_MAX_HEADER_LEN) return malformed(out, Anomaly.pktap_bad_header);
    len = be;
    little = false;
  }
  if (end - off < len) return cut(out, Anomaly.truncated_pktap_header);
  const type = little ? u32le(buf, off + PTH_TYPE_NEXT) : u32be(buf, off + PTH_TYPE_NEXT);
  if (type !== PTH_TYPE_PACKET) return notIp(out, Anomaly.unsupported_link_type);
  out.l3Offset = off + len;
  const dlt = little ? u32le(buf, off + PTH_DLT) : u32be(buf, off + PTH_DLT);
  return dlt === DLT_RAW_BSD || dlt === DLT_RAW_OPENBSD ? LinkType.RAW : dlt;
}
