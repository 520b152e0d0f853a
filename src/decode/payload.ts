/** Shared transport-layer bookkeeping: where the payload is. */
import type { DecodedPacket } from './types.js';

/** Source and destination port: the first 4 bytes of TCP, UDP and SCTP headers. */
export const PORTS_LEN = 4;

/**
 * Payload from `start` for `length` bytes (per the headers); `capEnd` is the end of the readable
 * bytes of this layer. payloadOffset never points past capEnd, so payloadOffset + payloadCaptured
 * stays inside the captured frame.
 */
export function setPayload(out: DecodedPacket, start: number, capEnd: number, length: number): void {
  if (start > capEnd) start = capEnd;
  out.payloadOffset = start;
  out.payloadCaptured = capEnd - start;
  out.payloadLength = length > 0 ? length : 0;
}
