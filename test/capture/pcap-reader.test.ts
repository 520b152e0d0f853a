import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { buildPcap, type PcapPacketSpec } from '../../src/capture/pcap-writer.js';
import { CollectingSink, packet, parseBytes } from './helpers.js';

const PACKETS: PcapPacketSpec[] = [
  { tsSec: 1_700_000_000, tsFrac: 0, data: packet(60, 1) },
  { tsSec: 1_700_000_001, tsFrac: 999_999, data: packet(42, 2), origLen: 1514 }, // snaplen-cut
  { tsSec: 0xffffffff, tsFrac: 123_456, data: packet(0, 3) }, // empty record, largest seconds
];

describe('pcap reader: byte order x timestamp precision matrix', () => {
  for (const bigEndian of [false, true]) {
    for (const nano of [false, true]) {
      it(`${bigEndian ? 'big' : 'little'}-endian, ${nano ? 'nanosecond' : 'microsecond'} magic`, () => {
        const pk = PACKETS.map((p) => ({ ...p, tsFrac: nano ? (p.tsFrac ?? 0) * 1000 + 7 : p.tsFrac }));
        const bytes = buildPcap(pk, { bigEndian, nano, linkType: 113, snaplen: 9000 });
        const sink = new CollectingSink();
        const { result, error } = parseBytes(bytes, sink);
        expect(error).toBeUndefined();
        expect(result!.packets).toBe(3);
        expect(result!.truncated).toBeUndefined();
        expect(result!.bytesRead).toBe(bytes.length);
        expect(result!.info).toEqual({
          format: 'pcap',
          byteOrder: bigEndian ? 'big' : 'little',
          tsPrecision: nano ? 'nano' : 'micro',
          version: '2.4',
          sections: 1,
          interfaces: [{ id: 0, linkType: 113, snaplen: 9000, tsUnitsPerSecond: nano ? 1e9 : 1e6 }],
        });
        expect(sink.frames.map((f) => [f.tsSec, f.tsNsec])).toEqual([
          [1_700_000_000, nano ? 7 : 0],
          [1_700_000_001, nano ? 999_999_007 : 999_999_000],
          [0xffffffff, nano ? 123_456_007 : 123_456_000],
        ]);
        expect(sink.frames.map((f) => [f.capLen, f.origLen, f.linkType, f.interfaceId])).toEqual([
          [60, 60, 113, 0],
          [42, 1514, 113, 0],
          [0, 0, 113, 0],
        ]);
        expect(sink.frames[0]!.data).toEqual(Array.from(packet(60, 1)));
        expect(sink.frames[1]!.data).toEqual(Array.from(packet(42, 2)));
        expect(sink.flushed).toBe(bytes.length);
      });
    }
  }
});

describe('pcap reader: header fields', () => {
  const one = [{ tsSec: 1, data: packet(20, 9) }];

  it('takes the link type from bits 0-15 and ignores the FCS bits (field 0x30000001)', () => {
    const sink = new CollectingSink();
    const { result } = parseBytes(buildPcap(one, { linkTypeField: 0x30000001 }), sink);
    expect(result!.info.interfaces[0]!.linkType).toBe(1);
    expect(sink.frames[0]!.linkType).toBe(1);
  });

  it('refuses reserved linktype bits 16-25 like libpcap (field 0x00300000)', () => {
    const { error } = parseBytes(buildPcap(one, { linkTypeField: 0x00300000 }), new CollectingSink(), undefined, 'lt.pcap');
    expect(error?.code).toBe(ErrorCode.BadHeader);
    expect(error?.offset).toBe(20);
    expect(error?.message).toContain('0x00300000');
    expect(error?.message).toMatch(/^lt\.pcap: pcap linktype field 0x00300000 has reserved bits 16-25 set/);
  });

  it.each([
    [1, 4],
    [3, 0],
    [0, 0],
  ])('refuses version %i.%i', (major, minor) => {
    const { error } = parseBytes(buildPcap(one, { versionMajor: major, versionMinor: minor }), new CollectingSink());
    expect(error?.code).toBe(ErrorCode.BadHeader);
    expect(error?.offset).toBe(4);
    expect(error?.message).toContain(`unsupported pcap version ${major}.${minor}`);
  });

  it('swaps caplen and len for versions before 2.3, as libpcap does', () => {
    // Written in the old order: first field = original length, second = captured length.
    const bytes = buildPcap([{ tsSec: 1, data: packet(10, 1), capLenField: 1500, origLen: 10 }], { versionMinor: 2 });
    const sink = new CollectingSink();
    parseBytes(bytes, sink);
    expect(sink.frames.map((f) => [f.capLen, f.origLen])).toEqual([[10, 1500]]);
  });

  it('in version 2.3, swaps only records whose caplen exceeds len', () => {
    const bytes = buildPcap(
      [
        { tsSec: 1, data: packet(10, 1), capLenField: 1500, origLen: 10 },
        { tsSec: 2, data: packet(8, 2), origLen: 100 },
      ],
      { versionMinor: 3 },
    );
    const sink = new CollectingSink();
    parseBytes(bytes, sink);
    expect(sink.frames.map((f) => [f.capLen, f.origLen])).toEqual([
      [10, 1500],
      [8, 100],
    ]);
  });

  it('keeps caplen > origlen as written in version 2.4', () => {
    const sink = new CollectingSink();
    parseBytes(buildPcap([{ tsSec: 1, data: packet(30, 1), origLen: 20 }]), sink);
    expect(sink.frames.map((f) => [f.capLen, f.origLen])).toEqual([[30, 20]]);
  });

  it('carries a fraction of a second or more into the seconds', () => {
    const sink = new CollectingSink();
    parseBytes(buildPcap([{ tsSec: 10, tsFrac: 2_500_000, data: packet(4, 1) }]), sink);
    parseBytes(buildPcap([{ tsSec: 10, tsFrac: 0xffffffff, data: packet(4, 1) }], { nano: true }), sink);
    expect(sink.frames.map((f) => [f.tsSec, f.tsNsec])).toEqual([
      [12, 500_000_000],
      [14, 294_967_295],
    ]);
  });

  it('accepts any snaplen, including 0 and 0xffffffff', () => {
    for (const snaplen of [0, 1, 65535, 0xffffffff]) {
      const { result } = parseBytes(buildPcap(one, { snaplen }), new CollectingSink());
      expect(result!.packets).toBe(1);
      expect(result!.info.interfaces[0]!.snaplen).toBe(snaplen);
    }
  });
});

describe('pcap reader: impossible record lengths', () => {
  const good = [
    { tsSec: 1, data: packet(50, 1) },
    { tsSec: 2, data: packet(70, 2) },
  ];
  const thirdAt = 24 + 16 + 50 + 16 + 70;

  it('stops at a record larger than max(snaplen, 262144), after delivering the records before it', () => {
    const bytes = buildPcap([...good, { tsSec: 3, data: packet(8, 3), capLenField: 16_777_216 }], { snaplen: 65535 });
    const sink = new CollectingSink();
    const { error, parser } = parseBytes(bytes, sink, undefined, 'big.pcap');
    expect(error?.code).toBe(ErrorCode.BadRecordLength);
    expect(error?.offset).toBe(thirdAt);
    expect(error?.message).toContain('record 3 claims 16777216 captured bytes, more than the maximum 262144');
    expect(error?.message).toContain(`at byte offset ${thirdAt}`);
    expect(sink.frames).toHaveLength(2);
    expect(sink.flushed).toBe(thirdAt); // the delivered prefix was flushed before the throw
    expect(sink.framesSinceFlush).toBe(0);
    expect(parser.packets).toBe(2);
    // The parser stays failed.
    expect(() => parser.feed(bytes, 0, bytes.length)).toThrow(error!);
  });

  it('lets a large snaplen raise the limit, up to the hard ceiling of 16 MiB', () => {
    const ok = buildPcap([{ tsSec: 1, data: packet(300_000, 1) }], { snaplen: 400_000 });
    expect(parseBytes(ok, new CollectingSink()).result!.packets).toBe(1);
    const over = buildPcap([{ tsSec: 1, data: packet(8, 1), capLenField: 400_001 }], { snaplen: 400_000 });
    expect(parseBytes(over, new CollectingSink()).error?.message).toContain('claims 400001 captured bytes, more than the maximum 400000');
    const huge = buildPcap([{ tsSec: 1, data: packet(8, 1), capLenField: 0x7fffffff }], { snaplen: 0xffffffff });
    expect(parseBytes(huge, new CollectingSink()).error?.message).toContain('more than the maximum 16777216');
  });

  it('reports the same error at the same offset however the bytes are split', () => {
    const bytes = buildPcap([...good, { tsSec: 3, data: packet(8, 3), capLenField: 1 << 30 }]);
    for (const piece of [1, 3, 16, 100]) {
      const sink = new CollectingSink();
      const { error } = parseBytes(bytes, sink, piece);
      expect(error?.offset).toBe(thirdAt);
      expect(sink.frames).toHaveLength(2);
    }
  });
});

describe('pcap reader: magic and short files', () => {
  it('rejects an unknown magic with the bytes it saw', () => {
    const { error } = parseBytes(Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4), new CollectingSink(), undefined, 'a.zip');
    expect(error?.code).toBe(ErrorCode.BadMagic);
    expect(error?.offset).toBe(0);
    expect(error?.message).toContain('not a pcap or pcapng capture: the first bytes are 50 4b 03 04');
  });

  it('hints at double compression for a gzip magic', () => {
    const { error } = parseBytes(Uint8Array.of(0x1f, 0x8b, 8, 0), new CollectingSink());
    expect(error?.message).toContain('gzip-compressed');
  });

  it('rejects a bad magic as soon as the first bytes cannot start one', () => {
    const { error } = parseBytes(Uint8Array.of(0x00, 0x01), new CollectingSink());
    expect(error?.code).toBe(ErrorCode.BadMagic);
  });

  it('calls an empty file and a too-short file truncated, not a bad magic', () => {
    const empty = parseBytes(new Uint8Array(0), new CollectingSink());
    expect(empty.error?.code).toBe(ErrorCode.TruncatedFile);
    expect(empty.error?.message).toContain('empty (0 bytes)');
    const three = parseBytes(Uint8Array.of(0xd4, 0xc3, 0xb2), new CollectingSink());
    expect(three.error?.code).toBe(ErrorCode.TruncatedFile);
    expect(three.error?.message).toContain('only 3 bytes long');
    const header = parseBytes(buildPcap([]).subarray(0, 10), new CollectingSink());
    expect(header.error?.code).toBe(ErrorCode.TruncatedFile);
    expect(header.error?.message).toContain('file ends inside the pcap file header: 24 bytes needed, 10 present');
  });

  it('reads a header-only file as zero packets', () => {
    const { result } = parseBytes(buildPcap([], { linkType: 101 }), new CollectingSink());
    expect(result!.packets).toBe(0);
    expect(result!.truncated).toBeUndefined();
    expect(result!.info.interfaces[0]!.linkType).toBe(101);
  });
});

