/**
 * Reads every capture of the shared corpus (real third-party files with TShark 4.0 references,
 * see /work/shared/corpus/README.md and make-refs.js) and compares what the readers report with
 * the reference: packet count, link types, interfaces, statistics blocks, per-interface counts.
 * The corpus is read in place, never copied into the repository.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError, ErrorCode } from '../../src/errors.js';
import { readCaptureFile } from '../../src/capture/file.js';
import { CountingSink } from './helpers.js';

const CORPUS = '/work/shared/corpus';
const present = fs.existsSync(CORPUS);
if (!present) console.warn(`capture corpus ${CORPUS} is absent: test/capture/corpus.test.ts is skipped`);

const files = present
  ? fs.readdirSync(CORPUS).filter((f) => !/\.(json|md|txt|js)$/i.test(f)).sort()
  : [];

interface Ref {
  header: {
    format: 'pcap' | 'pcapng';
    endianness?: 'little' | 'big';
    timestamp_resolution?: 'usec' | 'nsec';
    version?: string;
    snaplen?: number;
    linktype?: number;
    sections?: { endianness: 'little' | 'big'; idb_linktypes: number[] }[];
    block_counts?: Record<string, number>;
    block_walk_ok?: boolean;
  };
  capinfos: {
    exit_status: number;
    stderr?: string;
    packets: number | null;
    sections?: number;
    encapsulations_in_use?: { encapsulation: string; packets: number }[];
    interfaces: { index: number; name?: string; description?: string; capture_length?: number; time_precision?: string }[];
  };
  frames: { frames_total: number; frames_by_interface: Record<string, number> };
}

function loadRef(file: string): Ref {
  return JSON.parse(fs.readFileSync(path.join(CORPUS, `${file}.ref.json`), 'utf8')) as Ref;
}

/** Blocks the pcapng reader reads (everything else is skipped and counted). */
const READ_BLOCKS = new Set(['SHB', 'IDB', 'EPB', 'SPB', 'PB', 'ISB']);
const ENCAPSULATION_LINKTYPE: Record<string, number> = { Ethernet: 1, 'NULL/Loopback': 0 };
const PRECISION_UNITS: Record<string, number> = { 'microseconds (6)': 1e6, 'nanoseconds (9)': 1e9 };

describe.skipIf(!present)('capture corpus', () => {
  it('is not empty', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  // Files the reference tools refuse; each has its own expectation below.
  it('libpcap__linktype-reserved-field-not-zero.pcap: refused like libpcap and tshark do', async () => {
    const file = 'libpcap__linktype-reserved-field-not-zero.pcap';
    expect(loadRef(file).capinfos.stderr).toContain('reserved field not zero (0x00300000)');
    const err = await readCaptureFile(path.join(CORPUS, file), new CountingSink()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CaptureFormatError);
    const e = err as CaptureFormatError;
    expect(e.code).toBe(ErrorCode.BadHeader);
    expect(e.offset).toBe(20);
    expect(e.message).toContain('linktype field 0x00300000 has reserved bits 16-25 set');
    expect(e.partial?.packets).toBe(0);
  });

  it('suricata__bug-6875-01_fuzz.pcap: the good packet, then a clear error at the damaged record', async () => {
    // tshark reads 2 frames here only because Wireshark, seeing an impossible 2nd record header,
    // re-guesses the file as a 1999 "modified libpcap" (SS990417: 24-byte record headers) and
    // re-frames it: its 2nd frame is 1 byte of the first record's tail claiming 1 MiB on the wire,
    // and its 3rd header then fails (16711424 bytes). libpcap (tcpdump, Suricata) reads the file
    // as standard pcap, as we do: record 1 (188 bytes) is good, record 2's header at offset 228
    // claims 1409179648 bytes.
    const file = 'suricata__bug-6875-01_fuzz.pcap';
    const ref = loadRef(file);
    expect(ref.capinfos.stderr).toContain('bigger than maximum of 262144');
    const sink = new CountingSink();
    const err = await readCaptureFile(path.join(CORPUS, file), sink).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CaptureFormatError);
    const e = err as CaptureFormatError;
    expect(e.code).toBe(ErrorCode.BadRecordLength);
    expect(e.offset).toBe(228);
    expect(e.message).toContain('pcap record 2 claims 1409179648 captured bytes, more than the maximum 262144');
    expect(sink.count).toBe(1);
    expect(e.partial?.packets).toBe(1);
    expect(e.partial?.packets).toBeLessThanOrEqual(ref.frames.frames_total);
  });

  for (const file of files) {
    const ref = present ? loadRef(file) : undefined;
    if (ref === undefined || ref.capinfos.exit_status !== 0) continue; // refused files: above
    it(file, async () => {
      const sink = new CountingSink();
      const result = await readCaptureFile(path.join(CORPUS, file), sink);
      const h = ref.header;
      // tshark 4.0 also counts pcapng custom blocks as frames; capinfos counts packets only.
      expect(result.packets).toBe(ref.capinfos.packets);
      expect(sink.count).toBe(result.packets);
      expect(result.truncated).toBeUndefined();
      expect(result.bytesRead).toBe(fs.statSync(path.join(CORPUS, file)).size);
      expect(result.info.format).toBe(h.format);
      const ifaces = result.info.interfaces;
      if (h.format === 'pcap') {
        expect(result.info.byteOrder).toBe(h.endianness);
        expect(result.info.tsPrecision).toBe(h.timestamp_resolution === 'nsec' ? 'nano' : 'micro');
        expect(result.info.version).toBe(h.version);
        expect(ifaces).toEqual([
          { id: 0, linkType: h.linktype, snaplen: h.snaplen, tsUnitsPerSecond: h.timestamp_resolution === 'nsec' ? 1e9 : 1e6 },
        ]);
        expect(Object.fromEntries(sink.byInterface)).toEqual(ref.frames.frames_by_interface['none'] === undefined ? {} : { 0: ref.frames.frames_by_interface['none'] });
        return;
      }
      const sections = h.sections!;
      expect(h.block_walk_ok).toBe(true);
      expect(result.info.sections).toBe(sections.length);
      expect(result.info.byteOrder).toBe(sections[sections.length - 1]!.endianness);
      expect(ifaces.map((i) => i.linkType)).toEqual(sections.flatMap((s) => s.idb_linktypes));
      expect(ifaces.map((i) => i.id)).toEqual(ifaces.map((_, n) => n));
      const counts = h.block_counts!;
      const skipped = Object.entries(counts).filter(([k]) => !READ_BLOCKS.has(k)).reduce((a, [, v]) => a + v, 0);
      expect(result.skippedBlocks).toBe(skipped);
      expect(ifaces.some((i) => i.stats !== undefined)).toBe((counts['ISB'] ?? 0) > 0);
      // capinfos lists interface details (for a multi-section file, in global order too).
      const capIfaces = ref.capinfos.interfaces;
      expect(capIfaces).toHaveLength(ifaces.length);
      capIfaces.forEach((ci, n) => {
        const mine = ifaces[n]!;
        expect(mine.name).toBe(ci.name);
        expect(mine.description).toBe(ci.description);
        expect(mine.snaplen).toBe(ci.capture_length);
        const units = ci.time_precision === undefined ? undefined : PRECISION_UNITS[ci.time_precision];
        if (units !== undefined) expect(mine.tsUnitsPerSecond).toBe(units);
      });
      if (sections.length === 1) {
        const want = Object.fromEntries(Object.entries(ref.frames.frames_by_interface).map(([k, v]) => [Number(k), v]));
        expect(Object.fromEntries(sink.byInterface)).toEqual(want);
      } else {
        // tshark 4.0 numbers interfaces per section; compare packets per link type instead.
        const want = Object.fromEntries(
          (ref.capinfos.encapsulations_in_use ?? []).map((e) => [ENCAPSULATION_LINKTYPE[e.encapsulation], e.packets]),
        );
        expect(Object.fromEntries(sink.byLinkType)).toEqual(want);
      }
    });
  }
});
