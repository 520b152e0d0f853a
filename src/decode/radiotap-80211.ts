/**
 * IEEE 802.11 data frames, bare (LINKTYPE_IEEE802_11 = 105) or behind a radiotap header
 * (LINKTYPE_IEEE802_11_RADIOTAP = 127, https://www.radiotap.org).
 *
 * Radiotap: version (1) = 0, pad (1), length (2, little-endian), present bitmap(s) (4 each, bit 31 =
 * another word follows), then the fields, each aligned to its natural size from the header start.
 * Only two are read: TSFT (bit 0, 8 bytes) to locate Flags (bit 1, 1 byte), whose 0x10 says the
 * frame ends with a 4-byte FCS and 0x20 that the 802.11 header is padded to a 4-byte multiple.
 *
 * 802.11 MAC header (IEEE Std 802.11-2020 clause 9.2.3, 9.3.2.1): frame control (2), duration (2),
 * address 1-3 (18), sequence control (2) = 24; address 4 (6) when ToDS and FromDS are both set;
 * QoS control (2) for QoS subtypes; HT control (4) when a QoS frame has the +HTC/Order bit. The body
 * of an unprotected data frame is LLC/SNAP (RFC 1042); an A-MSDU body starts with a 14-byte subframe
 * header (DA, SA, length) before the first LLC/SNAP. Management, control and null-data frames are
 * not IP; Protected frames are encrypted and cannot be decoded.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16le, u32le } from '../util/bytes.js';
import { decodeLlcSnap } from './llc-snap.js';
import { cut, malformed, notIp } from './status.js';
import type { DecodedPacket } from './types.js';

// Radiotap
const RT_VERSION = 0;
const RT_LEN = 2;
const RT_PRESENT = 4;
const RT_MIN_LEN = 8;
const RT_PRESENT_TSFT = 0x01;
const RT_PRESENT_FLAGS = 0x02;
const RT_PRESENT_EXT = 0x80000000;
const RT_TSFT_LEN = 8;
/** More chained present words than this is treated as a broken header (bounded work). */
const RT_MAX_PRESENT_WORDS = 8;
const RT_FLAG_FCS = 0x10;
const RT_FLAG_DATAPAD = 0x20;
const FCS_LEN = 4;

// 802.11 MAC header
const WLAN_FC0 = 0;
const WLAN_FC1 = 1;
const FC0_VERSION_MASK = 0x03;
const FC0_TYPE_MASK = 0x0c;
const FC0_TYPE_DATA = 0x08;
/** Subtype bit 3 (QoS). */
const FC0_SUBTYPE_QOS = 0x80;
/** Subtype bit 2: null / CF-only data subtypes carry no body. */
const FC0_SUBTYPE_NO_DATA = 0x40;
const FC1_DS_MASK = 0x03;
const FC1_PROTECTED = 0x40;
const FC1_ORDER = 0x80;
const WLAN_HEADER_LEN = 24;
const WLAN_ADDR4_LEN = 6;
const WLAN_QOS_LEN = 2;
const WLAN_HTC_LEN = 4;
const QOS_AMSDU_PRESENT = 0x80;
const AMSDU_SUBFRAME_HEADER_LEN = 14;

/** LINKTYPE_IEEE802_11_RADIOTAP: returns the SNAP EtherType (out.l3Offset set) or -1. */
export function decodeRadiotap(out: DecodedPacket, buf: Uint8Array, off: number, end: number): number {
  if (end - off < RT_MIN_LEN) return cut(out, Anomaly.truncated_radiotap_header);
  const len = u16le(buf, off + RT_LEN);
  if (buf[off + RT_VERSION] !== 0 || len < RT_MIN_LEN) return malformed(out, Anomaly.radiotap_bad_header);
  if (len > end - off) return cut(out, Anomaly.truncated_radiotap_header);
  const present = u32le(buf, off + RT_PRESENT);
  // Chained present words come before every field; the standard-namespace bits of the first word
  // (TSFT, Flags) describe the first fields after the last word.
  let p = RT_PRESENT;
  let word = present;
  for (let n = 1; (word & RT_PRESENT_EXT) !== 0; n++) {
    p += 4;
    if (n === RT_MAX_PRESENT_WORDS || p + 4 > len) return malformed(out, Anomaly.radiotap_bad_header);
    word = u32le(buf, off + p);
  }
  let field = p + 4;
  if ((present & RT_PRESENT_TSFT) !== 0) field = ((field + 7) & ~7) + RT_TSFT_LEN;
  let flags = 0;
  if ((present & RT_PRESENT_FLAGS) !== 0 && field < len) flags = buf[off + field]!;
  // The FCS is the last 4 bytes only when the frame was captured whole.
  const frameEnd = (flags & RT_FLAG_FCS) !== 0 && !out.truncated ? end - FCS_LEN : end;
  return decodeIeee80211(out, buf, off + len, frameEnd, (flags & RT_FLAG_DATAPAD) !== 0);
}

/**
 * LINKTYPE_IEEE802_11 (and the frame after radiotap): returns the SNAP EtherType of an unprotected
 * data frame (out.l3Offset set) or -1. `dataPad`: the header is padded to a multiple of 4 bytes.
 */
export function decodeIeee80211(out: DecodedPacket, buf: Uint8Array, off: number, end: number, dataPad: boolean): number {
  if (end - off < 2) return cut(out, Anomaly.truncated_ieee80211_header);
  const fc0 = buf[off + WLAN_FC0]!;
  const fc1 = buf[off + WLAN_FC1]!;
  if (
    (fc0 & FC0_VERSION_MASK) !== 0 ||
    (fc0 & FC0_TYPE_MASK) !== FC0_TYPE_DATA ||
    (fc0 & FC0_SUBTYPE_NO_DATA) !== 0
  ) {
    return notIp(out, Anomaly.ieee80211_non_data_frame);
  }
  if ((fc1 & FC1_PROTECTED) !== 0) return notIp(out, Anomaly.ieee80211_protected_frame);
  let hdr = WLAN_HEADER_LEN;
  if ((fc1 & FC1_DS_MASK) === FC1_DS_MASK) hdr += WLAN_ADDR4_LEN;
  const qos = (fc0 & FC0_SUBTYPE_QOS) !== 0;
  const qosOff = hdr;
  if (qos) {
    hdr += WLAN_QOS_LEN;
    if ((fc1 & FC1_ORDER) !== 0) hdr += WLAN_HTC_LEN;
  }
  if (dataPad) hdr = (hdr + 3) & ~3;
  if (end - off < hdr) return cut(out, Anomaly.truncated_ieee80211_header);
  let body = off + hdr;
  if (qos && (buf[off + qosOff]! & QOS_AMSDU_PRESENT) !== 0) body += AMSDU_SUBFRAME_HEADER_LEN;
  return decodeLlcSnap(out, buf, body, end);
}
