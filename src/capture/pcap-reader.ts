/**
 * Classic pcap ("libpcap") file reader, push style: the CaptureParser feeds byte ranges, this
 * reader delivers every whole record in them to the FrameSink and reports how many bytes it used.
 *
 * Format: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap (file header 24 bytes, record
 * header 16 bytes); behaviour checked against libpcap sf-pcap.c and Wireshark wiretap/libpcap.c.
 * Both byte orders, microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magics.
 *
 * Decisions (each follows libpcap, which tcpdump and Suricata use):
 *  - reserved linktype bits 16-25 set: the file is refused (BadHeader); FCS bits 26-31 are ignored.
 *  - only major version 2 is read; versions 2.0-2.2 have caplen/len swapped, 2.3 maybe (see below).
 *  - a record may not claim more than max(snaplen, 262144) captured bytes (hard cap 16 MiB).
 *  - Wireshark's guessing of 1999 "modified libpcap" variants (24-byte record headers, same magic)
 *    is not done: when a standard record header is impossible, that is the error we report.
 */
import { CaptureFormatError, ErrorCode } from '../errors.js';
import { RecordFormat, type CaptureInfo, type FrameSink } from './types.js';

export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/** libpcap's MAXIMUM_SNAPLEN: the largest record libpcap accepts for ordinary link types. */
export const PCAP_DEFAULT_MAX_CAPLEN = 262144;
/** Hard ceiling on one record whatever the header's snaplen says (bounds the reader's buffer). */
export const PCAP_HARD_MAX_CAPLEN = 16 * 1024 * 1024;
/** Linktype field bits 16-25: reserved, must be zero (libpcap LT_RESERVED1). */
const LINKTYPE_RESERVED_MASK = 0x03ff0000;

export class PcapReader {
  readonly info: CaptureInfo;
  packets = 0;
  /** Bytes a caller must have from the unconsumed start before the next feed can progress. */
  needBytes = PCAP_FILE_HEADER_LEN;
  /** Set by feed() when it stopped at a bad record; the parser flushes, then throws it. */
  error: CaptureFormatError | null = null;

  private readonly sink: FrameSink;
  private readonly fileName: string;
  private readonly little: boolean;
  private readonly nano: boolean;
  private headerDone = false;
  private linkType = 0;
  private snaplen = 0;
  private maxCapLen = PCAP_DEFAULT_MAX_CAPLEN;
  /** 0: caplen/len in 2.3+ order; 1: always swapped (versions < 2.3); 2: swapped when caplen > len (2.3). */
  private lengthsSwapped = 0;
  /** Record header of the incomplete record at the end of the last feed (-1 when none). */
  private pendingCapLen = -1;

  constructor(sink: FrameSink, fileName: string, little: boolean, nano: boolean) {
    this.sink = sink;
    this.fileName = fileName;
    this.little = little;
    this.nano = nano;
    this.info = {
      format: 'pcap',
      byteOrder: little ? 'little' : 'big',
      tsPrecision: nano ? 'nano' : 'micro',
      sections: 1,
      interfaces: [],
    };
  }

  get headerRead(): boolean {
    return this.headerDone;
  }

  private u32(buf: Uint8Array, p: number): number {
    return this.little
      ? (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0
      : ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
  }

  private u16(buf: Uint8Array, p: number): number {
    return this.little ? buf[p]! | (buf[p + 1]! << 8) : (buf[p]! << 8) | buf[p + 1]!;
  }

  private fail(code: (typeof ErrorCode)[keyof typeof ErrorCode], offset: number, detail: string): void {
    this.error = new CaptureFormatError(code, this.fileName, offset, detail);
  }

  /** Reads the 24-byte file header at buf[p]; false (with `error` set) when it is unusable. */
  private readHeader(buf: Uint8Array, p: number, abs: number): boolean {
    const major = this.u16(buf, p + 4);
    const minor = this.u16(buf, p + 6);
    const snaplen = this.u32(buf, p + 16);
    const field = this.u32(buf, p + 20);
    // libpcap reads 2.0-2.4 (and 543.0 from DG/UX); any other major is a different format.
    if (major !== 2) {
      this.fail(ErrorCode.BadHeader, abs + 4, `unsupported pcap version ${major}.${minor} (only version 2.x can be read)`);
      return false;
    }
    // The linktype field: bits 0-15 link type, 16-25 reserved (must be 0), 26 "FCS length
    // present", 28-31 FCS length. libpcap (sf-pcap.c, LT_RESERVED1) and Wireshark both refuse a
    // file whose reserved bits are set, so we do too; the FCS bits are accepted and ignored (the
    // tcpdump test tcp_header_heapoverflow.pcap has field 0x30000001 and reads as Ethernet).
    if ((field & LINKTYPE_RESERVED_MASK) !== 0) {
      const hex = (field >>> 0).toString(16).padStart(8, '0');
      const bits = ((field & LINKTYPE_RESERVED_MASK) >>> 0).toString(16).padStart(8, '0');
      this.fail(
        ErrorCode.BadHeader,
        abs + 20,
        `pcap linktype field 0x${hex} has reserved bits 16-25 set (0x${bits}); libpcap and Wireshark refuse such files`,
      );
      return false;
    }
    this.linkType = field & 0xffff;
    this.snaplen = snaplen;
    this.maxCapLen = Math.min(Math.max(snaplen, PCAP_DEFAULT_MAX_CAPLEN), PCAP_HARD_MAX_CAPLEN);
    // Before 2.3 the caplen and len fields were in the other order; some 2.3 writers still used
    // it, so libpcap swaps 2.3 records whose caplen exceeds len. We do the same.
    this.lengthsSwapped = minor < 3 ? 1 : minor === 3 ? 2 : 0;
    this.info.version = `${major}.${minor}`;
    this.info.interfaces.push({
      id: 0,
      linkType: this.linkType,
      snaplen,
      tsUnitsPerSecond: this.nano ? 1e9 : 1e6,
    });
    this.headerDone = true;
    return true;
  }

  /**
   * Delivers the whole records in buf[start, end); `abs` is the stream offset of buf[start].
   * Returns the bytes consumed. On a bad record, stops before it with `error` set.
   */
  feed(buf: Uint8Array, start: number, end: number, abs: number): number {
    let p = start;
    if (!this.headerDone) {
      if (end - p < PCAP_FILE_HEADER_LEN) {
        this.needBytes = PCAP_FILE_HEADER_LEN;
        return 0;
      }
      if (!this.readHeader(buf, p, abs)) return 0;
      p += PCAP_FILE_HEADER_LEN;
    }
    const sink = this.sink;
    const little = this.little;
    const fracPerSec = this.nano ? 1e9 : 1e6;
    const fracToNsec = this.nano ? 1 : 1000;
    const maxCapLen = this.maxCapLen;
    const linkType = this.linkType;
    const swapped = this.lengthsSwapped;
    // Every way out of the loop goes through the same code after it. An exit that optimized code
    // has never seen taken deoptimizes it; with a chunk ending exactly between records now and
    // then, that recompiled this function (and the sink inlined into it) dozens of times per run.
    let pending = -1;
    let need = PCAP_RECORD_HEADER_LEN;
    // A sink that takes runs of records at once (the engine's fast path) is offered them first; the
    // record it stops at comes through frame() below.
    const bulk = little && swapped === 0 && sink.takeRecords !== undefined;
    let wait = 0;
    while (end - p >= PCAP_RECORD_HEADER_LEN) {
      if (bulk) {
        if (wait > 0) {
          wait--;
        } else {
          const q = sink.takeRecords!(buf, p, end, this.nano ? RecordFormat.PcapNsec : RecordFormat.PcapUsec, maxCapLen, linkType);
          wait = sink.recordsBeforeOffer!;
          if (q !== p) {
            this.packets += sink.recordsTaken!;
            p = q;
            if (end - p < PCAP_RECORD_HEADER_LEN) break;
          }
        }
      }
      let sec: number;
      let frac: number;
      let capLen: number;
      let origLen: number;
      if (little) {
        sec = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
        frac = (buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24)) >>> 0;
        capLen = (buf[p + 8]! | (buf[p + 9]! << 8) | (buf[p + 10]! << 16) | (buf[p + 11]! << 24)) >>> 0;
        origLen = (buf[p + 12]! | (buf[p + 13]! << 8) | (buf[p + 14]! << 16) | (buf[p + 15]! << 24)) >>> 0;
      } else {
        sec = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
        frac = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!) >>> 0;
        capLen = ((buf[p + 8]! << 24) | (buf[p + 9]! << 16) | (buf[p + 10]! << 8) | buf[p + 11]!) >>> 0;
        origLen = ((buf[p + 12]! << 24) | (buf[p + 13]! << 16) | (buf[p + 14]! << 8) | buf[p + 15]!) >>> 0;
      }
      if (swapped !== 0 && (swapped === 1 || capLen > origLen)) {
        const t = capLen;
        capLen = origLen;
        origLen = t;
      }
      if (capLen > maxCapLen) {
        this.fail(
          ErrorCode.BadRecordLength,
          abs + (p - start),
          `pcap record ${this.packets + 1} claims ${capLen} captured bytes, more than the maximum ${maxCapLen}` +
            ` (the larger of the snaplen ${this.snaplen} and ${PCAP_DEFAULT_MAX_CAPLEN})`,
        );
        break;
      }
      const total = PCAP_RECORD_HEADER_LEN + capLen;
      if (end - p < total) {
        pending = capLen;
        need = total;
        break;
      }
      // A fractional part of a second or more (seen in fuzzed files) is carried into the seconds
      // so that tsNsec stays 0..999_999_999 as FrameSink promises.
      if (frac >= fracPerSec) {
        const carry = Math.floor(frac / fracPerSec);
        sec += carry;
        frac -= carry * fracPerSec;
      }
      // caplen > origlen is kept as written (some writers do this; decoders see capLen bytes).
      sink.frame(buf, p + PCAP_RECORD_HEADER_LEN, capLen, origLen, sec, frac * fracToNsec, linkType, 0);
      this.packets++;
      p += total;
    }
    this.pendingCapLen = pending;
    this.needBytes = need;
    return p - start;
  }

  /** Describes the incomplete record left at EOF (`present` bytes of it are in the file). */
  truncationMessage(present: number): string {
    if (!this.headerDone) {
      return `file ends inside the pcap file header: ${PCAP_FILE_HEADER_LEN} bytes needed, ${present} present`;
    }
    const n = this.packets + 1;
    if (present < PCAP_RECORD_HEADER_LEN || this.pendingCapLen < 0) {
      return `file ends inside the header of pcap record ${n}: ${PCAP_RECORD_HEADER_LEN} bytes needed, ${present} present`;
    }
    return (
      `file ends inside pcap record ${n}: header says ${this.pendingCapLen} captured bytes, ` +
      `${present - PCAP_RECORD_HEADER_LEN} present`
    );
  }
}
