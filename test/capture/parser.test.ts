import { describe, expect, it } from 'vitest';
import { CaptureFormatError, ErrorCode } from '../../src/errors.js';
import { CaptureParser } from '../../src/capture/parser.js';
import { buildPcap } from '../../src/capture/pcap-writer.js';
import { buildPcapngWithOffsets } from '../../src/capture/pcapng-writer.js';
import { CollectingSink, packet, parseBytes } from './helpers.js';

interface Sample {
  name: string;
  bytes: Uint8Array;
  /** End offset of the file header (pcap) or the first SHB (pcapng): shorter files are errors. */
  headerEnd: number;
  /** End offset of each record/block after the header, in order, and whether it is a packet. */
  boundaries: { end: number; packet: boolean }[];
}

function samples(): Sample[] {
  const out: Sample[] = [];
  for (const [bigEndian, nano] of [
    [false, false],
    [true, true],
  ] as const) {
    const sizes = [20, 1, 33];
    const bytes = buildPcap(
      sizes.map((n, i) => ({ tsSec: 100 + i, tsFrac: i, data: packet(n, i) })),
      { bigEndian, nano },
    );
    let end = 24;
    out.push({
      name: `pcap ${bigEndian ? 'BE' : 'LE'} ${nano ? 'nsec' : 'usec'}`,
      bytes,
      headerEnd: 24,
      boundaries: sizes.map((n) => ({ end: (end += 16 + n), packet: true })),
    });
  }
  const { bytes, blocks } = buildPcapngWithOffsets([
    {
      byteOrder: 'big',
      blocks: [
        { type: 'idb', linkType: 1, name: 'a' },
        { type: 'epb', interfaceId: 0, ts: 5n, data: packet(20, 1) },
        { type: 'raw', blockType: 0x77, body: new Uint8Array(4) },
        { type: 'spb', data: packet(3, 2) },
        { type: 'epb', interfaceId: 0, ts: 6n, data: packet(33, 3) },
      ],
    },
  ]);
  out.push({
    name: 'pcapng BE',
    bytes,
    headerEnd: blocks[0]!.length,
    boundaries: blocks.slice(1).map((b) => ({ end: b.offset + b.length, packet: b.kind === 'epb' || b.kind === 'spb' })),
  });
  return out;
}

describe('CaptureParser: a file cut at every byte length', () => {
  for (const s of samples()) {
    it(`${s.name}: keeps the packets before the cut and warns about the partial record`, () => {
      const whole = new CollectingSink();
      parseBytes(s.bytes, whole);
      expect(whole.frames).toHaveLength(3);
      for (let cut = 0; cut <= s.bytes.length; cut++) {
        for (const piece of [cut || 1, 7]) {
          const sink = new CollectingSink();
          const { result, error } = parseBytes(s.bytes.subarray(0, cut), sink, piece);
          if (cut < s.headerEnd) {
            expect(error, `cut ${cut}`).toBeInstanceOf(CaptureFormatError);
            expect(error!.code).toBe(ErrorCode.TruncatedFile);
            expect(sink.frames).toHaveLength(0);
            continue;
          }
          expect(error, `cut ${cut}`).toBeUndefined();
          const complete = s.boundaries.filter((b) => b.end <= cut);
          const packets = complete.filter((b) => b.packet).length;
          const lastEnd = complete.length > 0 ? complete[complete.length - 1]!.end : s.headerEnd;
          expect(result!.packets, `cut ${cut}`).toBe(packets);
          expect(sink.frames).toEqual(whole.frames.slice(0, packets));
          expect(sink.flushed).toBe(lastEnd);
          expect(result!.bytesRead).toBe(cut);
          if (cut === lastEnd) {
            expect(result!.truncated, `cut ${cut}`).toBeUndefined();
          } else {
            expect(result!.truncated?.offset, `cut ${cut}`).toBe(lastEnd);
            expect(result!.truncated?.message).toMatch(/^file ends inside /);
          }
        }
      }
    });
  }

  it('says which record was cut and how much of it is present', () => {
    const s = samples()[0]!; // pcap LE: records of 20, 1, 33 bytes
    const cutInThirdData = 24 + 36 + 17 + 16 + 5;
    const { result } = parseBytes(s.bytes.subarray(0, cutInThirdData), new CollectingSink());
    expect(result!.truncated).toEqual({
      offset: 24 + 36 + 17,
      message: 'file ends inside pcap record 3: header says 33 captured bytes, 5 present',
    });
    const { result: r2 } = parseBytes(s.bytes.subarray(0, 24 + 36 + 3), new CollectingSink());
    expect(r2!.truncated!.message).toBe('file ends inside the header of pcap record 2: 16 bytes needed, 3 present');
    const ng = samples()[2]!;
    const lastEpb = ng.boundaries[ng.boundaries.length - 2]!.end;
    const { result: r3 } = parseBytes(ng.bytes.subarray(0, lastEpb + 40), new CollectingSink());
    expect(r3!.truncated!.message).toBe('file ends inside pcapng block 6 (EPB) (packet 3): block length says 68 bytes, 40 present');
  });
});

describe('CaptureParser: feeding contract', () => {
  it('consumes only whole records and reports what the next call needs', () => {
    const bytes = buildPcap([{ tsSec: 1, data: packet(100, 1) }]);
    const parser = new CaptureParser(new CollectingSink(), 'x');
    expect(parser.feed(bytes, 0, 2)).toBe(0);
    expect(parser.needBytes).toBe(4);
    expect(parser.feed(bytes, 0, 30)).toBe(24);
    expect(parser.feed(bytes, 24, 24 + 50)).toBe(0);
    expect(parser.needBytes).toBe(116);
    expect(parser.feed(bytes, 24, bytes.length)).toBe(116);
    expect(parser.packets).toBe(1);
    parser.finish(0, bytes.length);
    expect(parser.truncated).toBeUndefined();
    expect(() => parser.feed(bytes, 0, 1)).toThrow(/after finish/);
  });

  it('delivers frames as offsets into the buffer it was given, in a sub-range too', () => {
    const file = buildPcap([{ tsSec: 1, data: packet(10, 4) }]);
    const big = new Uint8Array(file.length + 100);
    big.set(file, 50);
    const offsets: number[] = [];
    const flushes: [number, number][] = [];
    const parser = new CaptureParser(
      {
        frame: (buf, off, cap) => {
          expect(buf).toBe(big);
          offsets.push(off, cap);
        },
        flushChunk: (_b, s, e) => flushes.push([s, e]),
      },
      'x',
    );
    expect(parser.feed(big, 50, 50 + file.length)).toBe(file.length);
    expect(offsets).toEqual([50 + 24 + 16, 10]);
    expect(flushes).toEqual([[50, 50 + file.length]]);
  });

  it('computes error offsets from the start of the stream across feeds', () => {
    const bytes = buildPcap([
      { tsSec: 1, data: packet(10, 1) },
      { tsSec: 2, data: packet(10, 2), capLenField: 1 << 29 },
    ]);
    const parser = new CaptureParser(new CollectingSink(), 'x');
    expect(parser.feed(bytes, 0, 24 + 26)).toBe(50);
    let caught: unknown;
    try {
      parser.feed(bytes, 50, bytes.length);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CaptureFormatError);
    expect((caught as CaptureFormatError).offset).toBe(50);
    expect(() => parser.finish(0, 50)).toThrow(caught as Error);
  });
});
