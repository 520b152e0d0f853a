/**
 * Whole-file frame reading for tests, through the project's own reader (src/capture), so tests
 * never carry a second pcap parser. Stops quietly at a damaged record (the reader's own tests cover
 * the errors).
 */
import { readFileSync } from 'node:fs';
import { CaptureParser } from '../../src/capture/parser.js';
import { CaptureFormatError } from '../../src/errors.js';

export interface CapturedFrame {
  /** The frame's bytes are data[offset, offset + capLen). */
  data: Uint8Array;
  offset: number;
  capLen: number;
  origLen: number;
  linkType: number;
  tsSec: number;
  tsNsec: number;
}

export function readFramesSync(path: string): CapturedFrame[] {
  return readFramesFromBytes(new Uint8Array(readFileSync(path)), path);
}

/** The frames of a capture held in memory (`name` for error messages). */
export function readFramesFromBytes(data: Uint8Array, name = 'memory.pcap'): CapturedFrame[] {
  const path = name;
  const frames: CapturedFrame[] = [];
  const parser = new CaptureParser(
    {
      frame(buf, offset, capLen, origLen, tsSec, tsNsec, linkType) {
        frames.push({ data: buf, offset, capLen, origLen, linkType, tsSec, tsNsec });
      },
    },
    path,
  );
  try {
    const used = parser.feed(data, 0, data.length);
    parser.finish(data.length - used, used);
  } catch (err) {
    if (!(err instanceof CaptureFormatError)) throw err;
  }
  return frames;
}
