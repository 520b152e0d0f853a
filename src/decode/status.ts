/**
 * How a layer gives up. Every decoder returns -1 after calling one of these; the first anomaly
 * recorded for a packet wins (a tolerated oddity noted earlier is kept as the packet's anomaly).
 *
 * Convention: a failing layer writes none of its own fields into DecodedPacket; the fields of the
 * outer layers that did decode are kept (dpkt's "outer layers survive").
 */
import { DecodeStatus, type DecodedPacket } from './types.js';

/**
 * A header the packet needs ends beyond the captured bytes. Truncated when the capture cut the frame
 * (caplen < origlen); with the whole frame captured the packet itself is too short: Malformed.
 */
export function cut(out: DecodedPacket, anomaly: number): number {
  out.status = out.truncated ? DecodeStatus.Truncated : DecodeStatus.Malformed;
  if (out.anomaly === 0) out.anomaly = anomaly;
  return -1;
}

/** The bytes contradict the protocol (impossible length, wrong version, ...). */
export function malformed(out: DecodedPacket, anomaly: number): number {
  out.status = DecodeStatus.Malformed;
  if (out.anomaly === 0) out.anomaly = anomaly;
  return -1;
}

/** Not IP, or a framing portsniff does not decode: counted, no flow. */
export function notIp(out: DecodedPacket, anomaly: number): number {
  out.status = DecodeStatus.NotIp;
  if (out.anomaly === 0) out.anomaly = anomaly;
  return -1;
}

/** A surprising but tolerated value: decoding goes on, the anomaly is counted. */
export function note(out: DecodedPacket, anomaly: number): void {
  if (out.anomaly === 0) out.anomaly = anomaly;
}
