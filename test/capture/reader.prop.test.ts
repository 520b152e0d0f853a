/**
 * Fuzz: mutated and cut copies of valid pcap / pcapng files either read (possibly with a
 * truncation warning) or throw CaptureFormatError; nothing else is thrown, frames stay inside the
 * buffer, nanoseconds stay in range, and reading ends (the property run finishing is the time
 * bound: every feed consumes or stops, so a loop cannot spin).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError } from '../../src/errors.js';
import { buildPcap } from '../../src/capture/pcap-writer.js';
import { buildPcapng } from '../../src/capture/pcapng-writer.js';
import { CountingSink, packet, parseBytes } from './helpers.js';

const RUNS = process.env['CI'] === 'true' ? 10_000 : 2000;

const SEEDS: Uint8Array[] = [
  buildPcap([
    { tsSec: 1, tsFrac: 5, data: packet(40, 1) },
    { tsSec: 2, data: packet(3, 2), origLen: 1500 },
    { tsSec: 3, data: packet(17, 3) },
  ]),
  buildPcap([{ tsSec: 1, data: packet(30, 1) }, { tsSec: 2, data: packet(9, 2) }], { bigEndian: true, nano: true }),
  buildPcapng([
    {
      blocks: [
        { type: 'idb', linkType: 1, name: 'eth0', tsresol: 9 },
        { type: 'idb', linkType: 0, tsresol: 0x80 | 20, tsoffset: 7 },
        { type: 'epb', interfaceId: 0, ts: 123456789n, data: packet(20, 1), comment: 'x' },
        { type: 'epb', interfaceId: 1, ts: 2n ** 60n, data: packet(7, 2) },
        { type: 'isb', interfaceId: 1, stats: { ifrecv: 3, ifdrop: 1 } },
      ],
    },
    {
      byteOrder: 'big',
      blocks: [
        { type: 'idb', linkType: 101, snaplen: 10 },
        { type: 'spb', data: packet(16, 3), origLen: 99 },
        { type: 'pb', interfaceId: 0, ts: 5n, data: packet(5, 4) },
        { type: 'raw', blockType: 0x0bad, body: new Uint8Array(8) },
      ],
    },
  ]),
];

const mutation = fc.record({
  seed: fc.integer({ min: 0, max: SEEDS.length - 1 }),
  edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
  // Some runs overwrite whole 32-bit words with extreme values (lengths, interface ids).
  words: fc.array(fc.tuple(fc.nat(), fc.constantFrom(0, 1, 11, 12, 0x7fffffff, 0xffffffff, 0x0a0d0d0a, 0x1a2b3c4d)), { maxLength: 2 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  piece: fc.integer({ min: 1, max: 300 }),
});

describe('capture readers under mutation', () => {
  it('return or throw CaptureFormatError, never anything else', () => {
    fc.assert(
      fc.property(mutation, ({ seed, edits, words, cut, piece }) => {
        const bytes = SEEDS[seed]!.slice();
        for (const [at, v] of edits) bytes[at % bytes.length] = v;
        for (const [at, v] of words) {
          const p = at % (bytes.length - 3);
          new DataView(bytes.buffer).setUint32(p, v, (at & 1) === 0);
        }
        const input = cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
        const sink = new CountingSink();
        const { result, error } = parseBytes(input, sink, piece);
        if (error !== undefined) {
          expect(error).toBeInstanceOf(CaptureFormatError);
          expect(error.offset).toBeGreaterThanOrEqual(0);
          expect(error.offset).toBeLessThanOrEqual(input.length);
        } else {
          expect(result!.packets).toBe(sink.count);
          expect(result!.bytesRead).toBe(input.length);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
