import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { buildPcapng, buildPcapngWithOffsets, type PcapngSectionSpec } from '../../src/capture/pcapng-writer.js';
import { CollectingSink, packet, parseBytes } from './helpers.js';

/** Expected (sec, nsec) of a count in units of base^-exp seconds, plus an offset. */
function expectedTs(count: bigint, base: number, exp: number, offset = 0n): [number, number] {
  const u = BigInt(base) ** BigInt(exp);
  return [Number(count / u + offset), Number(((count % u) * 1_000_000_000n) / u)];
}

const T0 = 1_700_000_000_123_456n; // microseconds

function threeSections(): PcapngSectionSpec[] {
  return [
    {
      byteOrder: 'little',
      blocks: [
        { type: 'idb', linkType: 1, snaplen: 65535, name: 'eth0', description: 'uplink' },
        { type: 'idb', linkType: 0, snaplen: 0, name: 'lo0', tsresol: 9 },
        { type: 'epb', interfaceId: 0, ts: T0, data: packet(60, 1) },
        { type: 'epb', interfaceId: 1, ts: 1_700_000_000_999_999_999n, data: packet(33, 2), origLen: 80 },
        { type: 'raw', blockType: 4, body: new Uint8Array(4) }, // NRB with only opt_endofrecord
      ],
    },
    {
      byteOrder: 'big',
      blocks: [
        { type: 'idb', linkType: 101, snaplen: 128, name: 'tun0', tsresol: 0x80 | 20 },
        { type: 'epb', interfaceId: 0, ts: (1_700_000_002n << 20n) + 524_288n, data: packet(20, 3), comment: 'hello' },
        { type: 'spb', data: packet(200, 4), origLen: 1000 },
        { type: 'raw', blockType: 0x00000bad, body: new Uint8Array(8) }, // custom block
      ],
    },
    {
      byteOrder: 'little',
      blocks: [
        { type: 'idb', linkType: 276, snaplen: 262144, tsresol: 3, tsoffset: 1_000_000n },
        { type: 'pb', interfaceId: 0, ts: 5_001n, data: packet(14, 5) },
        { type: 'isb', interfaceId: 0, ts: 0n, stats: { ifrecv: 10, ifdrop: 1, filteraccept: 9, osdrop: 2, usrdeliv: 7 } },
        { type: 'raw', blockType: 0x12345678, body: new Uint8Array(12) },
      ],
    },
  ];
}

describe('pcapng reader: sections, interfaces, packet blocks', () => {
  it('reads several sections in both byte orders with interface ids numbered across the file', () => {
    const bytes = buildPcapng(threeSections());
    const sink = new CollectingSink();
    const { result, error } = parseBytes(bytes, sink, undefined, 'x.pcapng');
    expect(error).toBeUndefined();
    expect(result!.packets).toBe(5);
    expect(result!.skippedBlocks).toBe(3); // NRB, custom block, unknown type
    expect(result!.truncated).toBeUndefined();
    expect(result!.info.format).toBe('pcapng');
    expect(result!.info.sections).toBe(3);
    expect(result!.info.byteOrder).toBe('little');
    expect(result!.info.interfaces).toEqual([
      { id: 0, linkType: 1, snaplen: 65535, name: 'eth0', description: 'uplink', tsUnitsPerSecond: 1e6 },
      { id: 1, linkType: 0, snaplen: 0, name: 'lo0', tsUnitsPerSecond: 1e9 },
      { id: 2, linkType: 101, snaplen: 128, name: 'tun0', tsUnitsPerSecond: 2 ** 20 },
      {
        id: 3,
        linkType: 276,
        snaplen: 262144,
        tsUnitsPerSecond: 1000,
        stats: { received: 10, droppedByInterface: 1, filterAccepted: 9, droppedByOs: 2, delivered: 7 },
      },
    ]);
    expect(sink.frames.map((f) => [f.interfaceId, f.linkType, f.capLen, f.origLen, f.tsSec, f.tsNsec])).toEqual([
      [0, 1, 60, 60, 1_700_000_000, 123_456_000],
      [1, 0, 33, 80, 1_700_000_000, 999_999_999],
      [2, 101, 20, 20, 1_700_000_002, 500_000_000],
      [2, 101, 128, 1000, 0, 0], // SPB: cut to the snaplen, no timestamp
      [3, 276, 14, 14, 1_000_005, 1_000_000], // tsresol 10^-3 plus if_tsoffset
    ]);
    expect(sink.frames[0]!.data).toEqual(Array.from(packet(60, 1)));
    expect(sink.frames[2]!.data).toEqual(Array.from(packet(20, 3)));
    expect(sink.frames[3]!.data).toEqual(Array.from(packet(128, 4)));
    expect(sink.frames[4]!.data).toEqual(Array.from(packet(14, 5)));
    expect(sink.flushed).toBe(bytes.length);
  });

  it('gives the same result fed one byte at a time', () => {
    const bytes = buildPcapng(threeSections());
    const whole = new CollectingSink();
    parseBytes(bytes, whole);
    for (const piece of [1, 5, 13]) {
      const sink = new CollectingSink();
      const { result } = parseBytes(bytes, sink, piece);
      expect(result!.packets).toBe(5);
      expect(sink.frames).toEqual(whole.frames);
      expect(sink.flushed).toBe(bytes.length);
    }
  });

  it('cuts an SPB to the original length and to the block, and without a snaplen', () => {
    const bytes = buildPcapng([
      {
        blocks: [
          { type: 'idb', linkType: 1, snaplen: 0 },
          { type: 'spb', data: packet(64, 1), origLen: 50 }, // block holds 64, packet was 50
          { type: 'spb', data: packet(40, 2), origLen: 9000 }, // block holds 40 of 9000
        ],
      },
    ]);
    const sink = new CollectingSink();
    parseBytes(bytes, sink);
    expect(sink.frames.map((f) => [f.capLen, f.origLen])).toEqual([
      [50, 50],
      [40, 9000],
    ]);
  });

  it('keeps the statistics of the last ISB and ignores an ISB for an interface that does not exist', () => {
    const bytes = buildPcapng([
      {
        blocks: [
          { type: 'idb', linkType: 1 },
          { type: 'isb', interfaceId: 0, stats: { ifrecv: 1 } },
          { type: 'isb', interfaceId: 0, stats: { ifrecv: 2n ** 40n, ifdrop: 3 } },
          { type: 'isb', interfaceId: 5, stats: { ifrecv: 99 } },
        ],
      },
    ]);
    const { result } = parseBytes(bytes, new CollectingSink());
    expect(result!.info.interfaces[0]!.stats).toEqual({ received: 2 ** 40, droppedByInterface: 3 });
    expect(result!.skippedBlocks).toBe(1);
  });

  it('reads a block whose total length leaves out the padding, as Wireshark does', () => {
    const { bytes, blocks } = buildPcapngWithOffsets([
      { blocks: [{ type: 'idb', linkType: 1 }, { type: 'epb', interfaceId: 0, data: packet(61, 1) }, { type: 'epb', interfaceId: 0, data: packet(4, 2) }] },
    ]);
    const epb = blocks[2]!;
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    // 61 data bytes + 3 padding: declare 3 bytes less, in both length fields.
    dv.setUint32(epb.offset + 4, epb.length - 3, true);
    dv.setUint32(epb.offset + epb.length - 4, epb.length - 3, true);
    const sink = new CollectingSink();
    const { result, error } = parseBytes(bytes, sink);
    expect(error).toBeUndefined();
    expect(result!.packets).toBe(2);
    expect(sink.frames[1]!.data).toEqual(Array.from(packet(4, 2)));
  });

  it('names the interfaces of each section anew (an EPB may only use its own section)', () => {
    const bytes = buildPcapng([
      { blocks: [{ type: 'idb', linkType: 1 }, { type: 'idb', linkType: 1 }] },
      { blocks: [{ type: 'idb', linkType: 0 }, { type: 'epb', interfaceId: 0, data: packet(4, 1) }, { type: 'epb', interfaceId: 1, data: packet(4, 1) }] },
    ]);
    const sink = new CollectingSink();
    const { error } = parseBytes(bytes, sink);
    expect(sink.frames.map((f) => [f.interfaceId, f.linkType])).toEqual([[2, 0]]);
    expect(error?.code).toBe(ErrorCode.UnknownInterface);
    expect(error?.message).toContain('names interface 1 but section 2 defines 1 (0-0)');
  });
});

describe('pcapng reader: timestamps', () => {
  const cases: [number, number, number][] = [
    // [if_tsresol byte, base, exponent]
    [6, 10, 6],
    [9, 10, 9],
    [0, 10, 0],
    [12, 10, 12],
    [19, 10, 19],
    [0x80 | 20, 2, 20],
    [0x80 | 8, 2, 8],
    [0x80 | 63, 2, 63],
  ];
  const counts = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n + 12345n, 2n ** 64n - 1n, 1_700_000_000_123_456_789n];
  for (const [raw, base, exp] of cases) {
    it(`converts exactly at if_tsresol 0x${raw.toString(16)} (${base}^-${exp} s)`, () => {
      const blocks: PcapngSectionSpec['blocks'][number][] = [{ type: 'idb', linkType: 1, tsresol: raw, tsoffset: -5 }];
      for (const c of counts) blocks.push({ type: 'epb', interfaceId: 0, ts: c, data: packet(1, 1) });
      const sink = new CollectingSink();
      const { result } = parseBytes(buildPcapng([{ byteOrder: 'big', blocks }]), sink);
      expect(result!.info.interfaces[0]!.tsUnitsPerSecond).toBe(base ** exp);
      const got = sink.frames.map((f) => [f.tsSec, f.tsNsec]);
      const want = counts.map((c) => expectedTs(c, base, exp, -5n));
      for (let i = 0; i < counts.length; i++) {
        // Exact whenever the seconds before the offset are below 2^53.
        if (counts[i]! / BigInt(base) ** BigInt(exp) < 2n ** 53n) expect(got[i]).toEqual(want[i]);
        else {
          // Seconds beyond 2^53 cannot be exact in a number; nanoseconds still are.
          expect(got[i]![1]).toBe(want[i]![1]);
          expect(got[i]![0]! / want[i]![0]!).toBeCloseTo(1, 12);
        }
      }
    });
  }

  it('refuses an if_tsresol finer than 10^-19 or 2^-63 s', () => {
    for (const raw of [20, 0x80 | 64, 0xff]) {
      const bytes = buildPcapng([{ blocks: [{ type: 'idb', linkType: 1, tsresol: raw }] }]);
      const { error } = parseBytes(bytes, new CollectingSink());
      expect(error?.code).toBe(ErrorCode.BadHeader);
      expect(error?.message).toContain(`if_tsresol 0x${raw.toString(16).padStart(2, '0')}`);
      expect(error?.offset).toBe(28 + 20); // SHB 28 bytes, IDB header 16 + option header 4
    }
  });
});

describe('pcapng reader: errors and their offsets', () => {
  function twoPacketsThen(): { bytes: Uint8Array; badAt: number } {
    const { bytes, blocks } = buildPcapngWithOffsets([
      {
        blocks: [
          { type: 'idb', linkType: 1 },
          { type: 'epb', interfaceId: 0, data: packet(10, 1) },
          { type: 'epb', interfaceId: 0, data: packet(20, 2) },
          { type: 'epb', interfaceId: 0, data: packet(30, 3) },
        ],
      },
    ]);
    return { bytes, badAt: blocks[4]!.offset };
  }

  function expectTwoDelivered(bytes: Uint8Array, badAt: number) {
    const sink = new CollectingSink();
    const { error } = parseBytes(bytes, sink, undefined, 'bad.pcapng');
    expect(sink.frames).toHaveLength(2);
    expect(sink.flushed).toBe(badAt);
    expect(sink.framesSinceFlush).toBe(0);
    return error!;
  }

  it('block total length below 12', () => {
    const { bytes, badAt } = twoPacketsThen();
    new DataView(bytes.buffer).setUint32(badAt + 4, 8, true);
    const err = expectTwoDelivered(bytes, badAt);
    expect(err.code).toBe(ErrorCode.BadRecordLength);
    expect(err.offset).toBe(badAt + 4);
    expect(err.message).toContain('pcapng block 5 (EPB) has total length 8, less than the minimum 32');
  });

  it('EPB shorter than its fixed fields', () => {
    const { bytes, badAt } = twoPacketsThen();
    new DataView(bytes.buffer).setUint32(badAt + 4, 28, true);
    const err = expectTwoDelivered(bytes, badAt);
    expect(err.code).toBe(ErrorCode.BadRecordLength);
    expect(err.message).toContain('total length 28, less than the minimum 32');
  });

  it('block longer than 16 MiB', () => {
    const { bytes, badAt } = twoPacketsThen();
    new DataView(bytes.buffer).setUint32(badAt + 4, 0x40000000, true);
    const err = expectTwoDelivered(bytes, badAt);
    expect(err.code).toBe(ErrorCode.BadRecordLength);
    expect(err.offset).toBe(badAt + 4);
    expect(err.message).toContain('more than the maximum 16777216');
  });

  it('trailing length different from the leading one', () => {
    const { bytes, badAt } = twoPacketsThen();
    const len = new DataView(bytes.buffer).getUint32(badAt + 4, true);
    new DataView(bytes.buffer).setUint32(badAt + len - 4, len + 4, true);
    const err = expectTwoDelivered(bytes, badAt);
    expect(err.code).toBe(ErrorCode.BlockLengthMismatch);
    expect(err.offset).toBe(badAt + len - 4);
    expect(err.message).toContain(`starts with total length ${len} but ends with ${len + 4}`);
  });

  it('EPB for an interface with no IDB', () => {
    const { bytes, badAt } = twoPacketsThen();
    new DataView(bytes.buffer).setUint32(badAt + 8, 3, true);
    const err = expectTwoDelivered(bytes, badAt);
    expect(err.code).toBe(ErrorCode.UnknownInterface);
    expect(err.offset).toBe(badAt + 8);
    expect(err.message).toContain('names interface 3 but section 1 defines 1 (0-0)');
  });

  it('EPB whose captured length does not fit in the block', () => {
    const { bytes, badAt } = twoPacketsThen();
    new DataView(bytes.buffer).setUint32(badAt + 20, 1000, true);
    const err = expectTwoDelivered(bytes, badAt);
    expect(err.code).toBe(ErrorCode.BadRecordLength);
    expect(err.offset).toBe(badAt + 20);
    expect(err.message).toContain('claims 1000 captured bytes');
  });

  it('packet blocks before any IDB', () => {
    for (const block of [{ type: 'epb', interfaceId: 0, data: packet(4, 1) }, { type: 'spb', data: packet(4, 1) }] as const) {
      const { error } = parseBytes(buildPcapng([{ blocks: [block] }]), new CollectingSink());
      expect(error?.code).toBe(ErrorCode.UnknownInterface);
      expect(error?.offset).toBe(28 + 8);
      expect(error?.message).toContain('section 1 defines no interface');
    }
  });

  it('section header with a bad byte-order magic, first or later', () => {
    const first = buildPcapng([{ blocks: [] }]);
    first[8] = 0x99;
    const e1 = parseBytes(first, new CollectingSink()).error!;
    expect(e1.code).toBe(ErrorCode.BadMagic);
    expect(e1.offset).toBe(8);
    expect(e1.message).toContain('byte-order magic');

    const { bytes, blocks } = buildPcapngWithOffsets([
      { blocks: [{ type: 'idb', linkType: 1 }, { type: 'epb', interfaceId: 0, data: packet(4, 1) }] },
      { byteOrder: 'big', blocks: [] },
    ]);
    bytes[blocks[3]!.offset + 9] = 0;
    const sink = new CollectingSink();
    const e2 = parseBytes(bytes, sink).error!;
    expect(e2.code).toBe(ErrorCode.BadMagic);
    expect(e2.offset).toBe(blocks[3]!.offset + 8);
    expect(sink.frames).toHaveLength(1);
  });

  it('unsupported section version', () => {
    const { error } = parseBytes(buildPcapng([{ versionMajor: 2, blocks: [] }]), new CollectingSink());
    expect(error?.code).toBe(ErrorCode.BadHeader);
    expect(error?.offset).toBe(12);
    expect(error?.message).toContain('version 2.0; only version 1.x can be read');
  });

  it('section header shorter than 28 bytes', () => {
    const bytes = buildPcapng([{ blocks: [] }]);
    new DataView(bytes.buffer).setUint32(4, 24, true);
    const { error } = parseBytes(bytes, new CollectingSink());
    expect(error?.code).toBe(ErrorCode.BadRecordLength);
    expect(error?.offset).toBe(4);
  });

  it('a file cut inside the first section header is not a capture', () => {
    const bytes = buildPcapng([{ blocks: [{ type: 'idb', linkType: 1 }] }]);
    for (const cut of [4, 8, 11, 12, 27]) {
      const { error } = parseBytes(bytes.subarray(0, cut), new CollectingSink());
      expect(error?.code).toBe(ErrorCode.TruncatedFile);
    }
    expect(parseBytes(bytes.subarray(0, 20), new CollectingSink()).error?.message).toContain(
      'file ends inside pcapng block 1 (section header block): block length says 28 bytes, 20 present',
    );
  });
});
