/** Shared helpers for the capture-reader tests. */
import { CaptureFormatError } from '../../src/errors.js';
import { CaptureParser } from '../../src/capture/parser.js';
import type { CaptureReadResult, FrameSink } from '../../src/capture/types.js';

export interface Frame {
  data: number[];
  capLen: number;
  origLen: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  interfaceId: number;
}

/** Records every frame (bytes copied) and every flushChunk region. */
export class CollectingSink implements FrameSink {
  frames: Frame[] = [];
  /** Total bytes covered by flushChunk calls, and frames seen outside any later flush. */
  flushed = 0;
  framesSinceFlush = 0;
  frame(buf: Uint8Array, offset: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, interfaceId: number): void {
    if (offset < 0 || offset + capLen > buf.length) throw new Error(`frame out of bounds: ${offset}+${capLen} > ${buf.length}`);
    this.frames.push({ data: Array.from(buf.subarray(offset, offset + capLen)), capLen, origLen, tsSec, tsNsec, linkType, interfaceId });
    this.framesSinceFlush++;
  }
  flushChunk(_buf: Uint8Array, start: number, end: number): void {
    if (end < start) throw new Error('flushChunk end < start');
    this.flushed += end - start;
    this.framesSinceFlush = 0;
  }
}

/** Counts frames only (and checks they stay inside the buffer). */
export class CountingSink implements FrameSink {
  count = 0;
  byInterface = new Map<number, number>();
  byLinkType = new Map<number, number>();
  frame(buf: Uint8Array, offset: number, capLen: number, _o: number, _s: number, tsNsec: number, linkType: number, interfaceId: number): void {
    if (offset < 0 || offset + capLen > buf.length) throw new Error('frame out of bounds');
    if (!(tsNsec >= 0 && tsNsec < 1e9)) throw new Error(`tsNsec out of range: ${tsNsec}`);
    this.count++;
    this.byInterface.set(interfaceId, (this.byInterface.get(interfaceId) ?? 0) + 1);
    this.byLinkType.set(linkType, (this.byLinkType.get(linkType) ?? 0) + 1);
  }
}

export interface ParseOutcome {
  result?: CaptureReadResult;
  error?: CaptureFormatError;
  parser: CaptureParser;
}

/**
 * Feeds `bytes` to a CaptureParser the way file.ts does (keep the unconsumed tail, append more),
 * `piece` bytes at a time; then finish(). Non-CaptureFormatError exceptions propagate.
 */
export function parseBytes(bytes: Uint8Array, sink: FrameSink, piece = bytes.length || 1, name = 'test.pcap'): ParseOutcome {
  const parser = new CaptureParser(sink, name);
  let buf = new Uint8Array(0);
  let filled = 0;
  let pos = 0;
  try {
    while (pos < bytes.length) {
      const n = Math.min(piece, bytes.length - pos);
      if (buf.length < filled + n) {
        const b = new Uint8Array(filled + n);
        b.set(buf.subarray(0, filled));
        buf = b;
      }
      buf.set(bytes.subarray(pos, pos + n), filled);
      filled += n;
      pos += n;
      const used = parser.feed(buf, 0, filled);
      buf.copyWithin(0, used, filled);
      filled -= used;
    }
    parser.finish(filled, parser.bytesConsumed);
  } catch (err) {
    if (err instanceof CaptureFormatError) return { error: err, parser };
    throw err;
  }
  const result: CaptureReadResult = {
    info: parser.info,
    packets: parser.packets,
    bytesRead: parser.bytesConsumed + filled,
    skippedBlocks: parser.skippedBlocks,
  };
  if (parser.truncated !== undefined) result.truncated = parser.truncated;
  return { result, parser };
}

/** Deterministic packet bytes. */
export function packet(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}
