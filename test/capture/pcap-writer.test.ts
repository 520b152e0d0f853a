import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/capture/file.js';
import { buildPcap, PcapWriter } from '../../src/capture/pcap-writer.js';
import { CollectingSink, packet, parseBytes } from './helpers.js';

function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

describe('PcapWriter', () => {
  it('writes a little-endian microsecond file the reader reads back (in-memory target)', () => {
    const out: Uint8Array[] = [];
    const w = new PcapWriter(out, { linkType: 1, snaplen: 100, bufferSize: 64 });
    w.writePacket(1_700_000_000, 123_456_789, packet(60, 1));
    w.writePacket(1_700_000_001, 999, packet(150, 2)); // cut to the snaplen
    w.writePacket(1_700_000_002, 0, packet(10, 3), 1514);
    w.close();
    expect(w.packets).toBe(3);
    const bytes = concat(out);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
    const sink = new CollectingSink();
    const { result } = parseBytes(bytes, sink);
    expect(result!.info.interfaces[0]).toMatchObject({ linkType: 1, snaplen: 100, tsUnitsPerSecond: 1e6 });
    expect(sink.frames.map((f) => [f.tsSec, f.tsNsec, f.capLen, f.origLen])).toEqual([
      [1_700_000_000, 123_456_000, 60, 60],
      [1_700_000_001, 0, 100, 150],
      [1_700_000_002, 0, 10, 1514],
    ]);
    expect(sink.frames[1]!.data).toEqual(Array.from(packet(150, 2).subarray(0, 100)));
    expect(() => w.writePacket(0, 0, packet(1, 1))).toThrow(/after close/);
  });

  it('writes nanosecond files to a file descriptor', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portsniff-writer-'));
    try {
      const file = path.join(dir, 'out.pcap');
      const fd = fs.openSync(file, 'w');
      const w = new PcapWriter(fd, { linkType: 101, nano: true });
      for (let i = 0; i < 1000; i++) w.writePacket(i, i * 1000 + 7, packet(100 + (i % 50), i));
      w.close();
      fs.closeSync(fd);
      const sink = new CollectingSink();
      const result = await readCaptureFile(file, sink);
      expect(result.packets).toBe(1000);
      expect(result.info.tsPrecision).toBe('nano');
      expect(sink.frames[999]).toMatchObject({ tsSec: 999, tsNsec: 999_007, capLen: 149, linkType: 101 });
      expect(sink.frames[999]!.data).toEqual(Array.from(packet(149, 999)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('matches buildPcap byte for byte for the same packets', () => {
    const out: Uint8Array[] = [];
    const w = new PcapWriter(out, { linkType: 1, snaplen: 65535 });
    w.writePacket(5, 6000, packet(20, 1));
    w.close();
    expect(concat(out)).toEqual(Buffer.from(buildPcap([{ tsSec: 5, tsFrac: 6, data: packet(20, 1) }], { linkType: 1, snaplen: 65535 })));
  });
});
