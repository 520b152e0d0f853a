/**
 * pcapng file reader, push style (see CaptureParser). Spec: draft-ietf-opsawg-pcapng
 * (https://pcapng.github.io/pcapng/draft-ietf-opsawg-pcapng.html); leniency follows Wireshark's
 * wiretap/pcapng.c where noted.
 *
 * Blocks: SHB (any number of sections, each in its own byte order), IDB (link type, snaplen,
 * if_name, if_description, if_tsresol, if_tsoffset), EPB, SPB, the obsolete PB, ISB (statistics);
 * every other block type (NRB, DSB, custom blocks, unknown types) is skipped and counted.
 *
 * Interface ids: pcapng numbers interfaces per section; portsniff numbers them across the whole
 * file in IDB order (section 0's interfaces first), so every id in CaptureInfo.interfaces is unique.
 *
 * A sink that takes records in bulk (the engine's fast path, FrameSink.takeRecords()) is offered the
 * blocks of a little-endian section as pcap-reader.ts offers records, after being told which of the
 * section's interfaces carry Ethernet or Linux cooked frames with microsecond or nanosecond timestamps
 * (FrameSink.pcapngInterfaces()): a capture written by dumpcap, Wireshark or tcpdump then takes the
 * same path as a pcap file.
 */
import { CaptureFormatError, ErrorCode } from '../errors.js';
import { parseTsresol, TimestampConverter } from '../util/timestamp.js';
import { BULK_INTERFACES, BulkInterface, LinkType, RecordFormat, type CaptureInfo, type CaptureInterface, type FrameSink } from './types.js';

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
export const BT_PB = 0x00000002;
export const BT_SPB = 0x00000003;
export const BT_NRB = 0x00000004;
export const BT_ISB = 0x00000005;
export const BT_EPB = 0x00000006;
export const BT_DSB = 0x0000000a;
export const BT_CB_COPY = 0x00000bad;
export const BT_CB_NO_COPY = 0x40000bad;
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Block type + total length + trailing total length. */
export const PCAPNG_MIN_BLOCK_LEN = 12;
const MIN_SHB_LEN = 28;
const MIN_IDB_LEN = 20;
const MIN_EPB_LEN = 32;
const MIN_PB_LEN = 32;
const MIN_SPB_LEN = 16;
const MIN_ISB_LEN = 24;
/**
 * Largest block accepted: bounds the reader's buffer against a corrupt length field. (Wireshark
 * uses about 128 MiB + 128 KiB to fit D-Bus messages; no link type portsniff decodes needs that.)
 */
export const PCAPNG_MAX_BLOCK_LEN = 16 * 1024 * 1024;

const OPT_ENDOFOPT = 0;
const OPT_IF_NAME = 2;
const OPT_IF_DESCRIPTION = 3;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const OPT_ISB_IFRECV = 4;
const OPT_ISB_IFDROP = 5;
const OPT_ISB_FILTERACCEPT = 6;
const OPT_ISB_OSDROP = 7;
const OPT_ISB_USRDELIV = 8;

const TWO_32 = 4294967296;
const utf8 = new TextDecoder('utf-8');

function rd32(buf: Uint8Array, p: number, little: boolean): number {
  return little
    ? (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0
    : ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
}

function rd16(buf: Uint8Array, p: number, little: boolean): number {
  return little ? buf[p]! | (buf[p + 1]! << 8) : (buf[p]! << 8) | buf[p + 1]!;
}

/** Unsigned 64-bit value as a number (exact below 2^53). */
function rd64(buf: Uint8Array, p: number, little: boolean): number {
  return little
    ? rd32(buf, p + 4, true) * TWO_32 + rd32(buf, p, true)
    : rd32(buf, p, false) * TWO_32 + rd32(buf, p + 4, false);
}

/** Signed 64-bit value as a number (exact within +-2^53). */
function rdI64(buf: Uint8Array, p: number, little: boolean): number {
  const hi = little ? rd32(buf, p + 4, true) : rd32(buf, p, false);
  const lo = little ? rd32(buf, p, true) : rd32(buf, p + 4, false);
  return (hi | 0) * TWO_32 + lo;
}

/** Block lengths are rounded up to a multiple of 4 as Wireshark does (see feed()). */
function roundUp4(n: number): number {
  return n + ((4 - (n & 3)) & 3);
}

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

export function pcapngBlockName(type: number): string {
  switch (type) {
    case BT_SHB: return 'SHB';
    case BT_IDB: return 'IDB';
    case BT_PB: return 'PB';
    case BT_SPB: return 'SPB';
    case BT_NRB: return 'NRB';
    case BT_ISB: return 'ISB';
    case BT_EPB: return 'EPB';
    case BT_DSB: return 'DSB';
    case BT_CB_COPY:
    case BT_CB_NO_COPY: return 'custom block';
    default: return `type ${hex32(type)}`;
  }
}

function minBlockLen(type: number): number {
  switch (type) {
    case BT_IDB: return MIN_IDB_LEN;
    case BT_EPB: return MIN_EPB_LEN;
    case BT_PB: return MIN_PB_LEN;
    case BT_SPB: return MIN_SPB_LEN;
    case BT_ISB: return MIN_ISB_LEN;
    default: return PCAPNG_MIN_BLOCK_LEN;
  }
}

type ErrorCodeName = (typeof ErrorCode)[keyof typeof ErrorCode];

export class PcapngReader {
  readonly info: CaptureInfo;
  packets = 0;
  skippedBlocks = 0;
  /** Bytes a caller must have from the unconsumed start before the next feed can progress. */
  needBytes = MIN_SHB_LEN;
  /** Set by feed() when it stopped at a bad block; the parser flushes, then throws it. */
  error: CaptureFormatError | null = null;

  private readonly sink: FrameSink;
  private readonly fileName: string;
  /** Byte order of the current section. */
  private little = true;
  /** Blocks fully read (for messages: "block 7"). */
  private blocks = 0;
  /** Global id of the current section's interface 0. */
  private sectionBase = 0;
  // Per interface (global id), kept in plain arrays for the packet path.
  private readonly ifLinkType: number[] = [];
  private readonly ifSnaplen: number[] = [];
  private readonly ifTs: TimestampConverter[] = [];
  /** The current section's interfaces for a bulk-taking sink (BulkInterface by local id), and how many are not None. */
  private readonly bulkKinds = new Uint8Array(BULK_INTERFACES);
  private bulkCount = 0;
  /** The incomplete block at the end of the last feed: its (rounded) length, or -1. */
  private pendingLen = -1;
  private pendingType = 0;

  constructor(sink: FrameSink, fileName: string) {
    this.sink = sink;
    this.fileName = fileName;
    this.info = { format: 'pcapng', byteOrder: 'little', sections: 0, interfaces: [] };
  }

  /** True once the first SHB is complete (before that, a short file is not a capture at all). */
  get headerRead(): boolean {
    return this.info.sections > 0;
  }

  private fail(code: ErrorCodeName, offset: number, detail: string): void {
    this.error = new CaptureFormatError(code, this.fileName, offset, detail);
  }

  /**
   * Delivers every packet in the whole blocks of buf[start, end); `abs` is the stream offset of
   * buf[start]. Returns bytes consumed; on a bad block, stops before it with `error` set.
   */
  feed(buf: Uint8Array, start: number, end: number, abs: number): number {
    const sink = this.sink;
    let p = start;
    this.pendingLen = -1;
    // A sink that takes runs of blocks at once is offered them first (as pcap-reader.ts does); the
    // block it stops at is read below.
    const bulk = sink.takeRecords !== undefined && sink.pcapngInterfaces !== undefined;
    let wait = 0;
    while (end - p >= 8) {
      if (bulk && this.little && this.bulkCount > 0) {
        if (wait > 0) {
          wait--;
        } else {
          const q = sink.takeRecords!(buf, p, end, RecordFormat.Pcapng, 0, 0);
          wait = sink.recordsBeforeOffer!;
          if (q !== p) {
            // Only Enhanced Packet Blocks are taken: one packet each.
            const n = sink.recordsTaken!;
            this.packets += n;
            this.blocks += n;
            p = q;
            if (end - p < 8) break;
          }
        }
      }
      const at = abs + (p - start);
      const blockNo = this.blocks + 1;
      let little = this.little;
      let type: number;
      if (buf[p] === 0x0a && buf[p + 1] === 0x0d && buf[p + 2] === 0x0d && buf[p + 3] === 0x0a) {
        // SHB: its type reads the same in both byte orders; the byte-order magic decides.
        type = BT_SHB;
        if (end - p < 12) {
          this.pendingLen = 12;
          this.pendingType = BT_SHB;
          this.needBytes = 12;
          return p - start;
        }
        if (rd32(buf, p + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) little = true;
        else if (rd32(buf, p + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) little = false;
        else {
          this.fail(
            ErrorCode.BadMagic,
            at + 8,
            `pcapng section header (block ${blockNo}) has byte-order magic ${hex32(rd32(buf, p + 8, false))}, expected 0x1a2b3c4d in either byte order`,
          );
          return p - start;
        }
      } else {
        type = rd32(buf, p, little);
      }
      const declared = rd32(buf, p + 4, little);
      const min = type === BT_SHB ? MIN_SHB_LEN : minBlockLen(type);
      if (declared < min) {
        this.fail(
          ErrorCode.BadRecordLength,
          at + 4,
          `pcapng block ${blockNo} (${pcapngBlockName(type)}) has total length ${declared}, less than the minimum ${min}`,
        );
        return p - start;
      }
      // Wireshark rounds a total length that is not a multiple of 4 up to one ("some example
      // files don't include the padding"), while libpcap refuses the file. We follow Wireshark:
      // the block occupies the rounded length, and the trailing copy is rounded the same way.
      const len = roundUp4(declared);
      if (len > PCAPNG_MAX_BLOCK_LEN) {
        this.fail(
          ErrorCode.BadRecordLength,
          at + 4,
          `pcapng block ${blockNo} (${pcapngBlockName(type)}) has total length ${declared}, more than the maximum ${PCAPNG_MAX_BLOCK_LEN}`,
        );
        return p - start;
      }
      if (end - p < len) {
        this.pendingLen = len;
        this.pendingType = type;
        this.needBytes = len;
        return p - start;
      }
      const trailing = rd32(buf, p + len - 4, little);
      if (roundUp4(trailing) !== len) {
        this.fail(
          ErrorCode.BlockLengthMismatch,
          at + len - 4,
          `pcapng block ${blockNo} (${pcapngBlockName(type)}) starts with total length ${declared} but ends with ${trailing}`,
        );
        return p - start;
      }

      if (type === BT_EPB || type === BT_PB) {
        // EPB: interface id u32; PB (obsolete): interface id u16 + drops count u16. Then both
        // have timestamp high, timestamp low, captured length, original length, data.
        const ifId = type === BT_EPB ? rd32(buf, p + 8, little) : rd16(buf, p + 8, little);
        const g = this.sectionBase + ifId;
        if (g >= this.ifTs.length) {
          this.failUnknownInterface(at + 8, blockNo, type, ifId);
          return p - start;
        }
        const tsHi = rd32(buf, p + 12, little);
        const tsLo = rd32(buf, p + 16, little);
        const capLen = rd32(buf, p + 20, little);
        const origLen = rd32(buf, p + 24, little);
        if (capLen > len - 32) {
          this.fail(
            ErrorCode.BadRecordLength,
            at + 20,
            `pcapng block ${blockNo} (${pcapngBlockName(type)}) claims ${capLen} captured bytes but its length ${declared} leaves room for ${len - 32}`,
          );
          return p - start;
        }
        const ts = this.ifTs[g]!;
        ts.convert(tsHi, tsLo);
        sink.frame(buf, p + 28, capLen, origLen, ts.sec, ts.nsec, this.ifLinkType[g]!, g);
        this.packets++;
      } else if (type === BT_SPB) {
        // SPB: always interface 0 of the section, no timestamp; captured length is the original
        // length cut to the snaplen and to the block (spec section 4.4).
        const g = this.sectionBase;
        if (g >= this.ifTs.length) {
          this.failUnknownInterface(at + 8, blockNo, type, 0);
          return p - start;
        }
        const origLen = rd32(buf, p + 8, little);
        const snap = this.ifSnaplen[g]!;
        let capLen = len - 16;
        if (origLen < capLen) capLen = origLen;
        if (snap !== 0 && snap < capLen) capLen = snap;
        sink.frame(buf, p + 12, capLen, origLen, 0, 0, this.ifLinkType[g]!, g);
        this.packets++;
      } else if (type === BT_SHB) {
        const major = rd16(buf, p + 12, little);
        const minor = rd16(buf, p + 14, little);
        if (major !== 1) {
          this.fail(
            ErrorCode.BadHeader,
            at + 12,
            `pcapng section ${this.info.sections + 1} has version ${major}.${minor}; only version 1.x can be read`,
          );
          return p - start;
        }
        this.little = little;
        this.sectionBase = this.ifTs.length;
        this.bulkKinds.fill(BulkInterface.None);
        this.bulkCount = 0;
        sink.pcapngInterfaces?.(this.bulkKinds);
        this.info.sections++;
        this.info.byteOrder = little ? 'little' : 'big';
      } else if (type === BT_IDB) {
        if (!this.readIdb(buf, p, len, little, at, blockNo)) return p - start;
      } else if (type === BT_ISB) {
        this.readIsb(buf, p, len, little);
      } else {
        this.skippedBlocks++;
      }
      this.blocks++;
      p += len;
    }
    this.needBytes = 8;
    return p - start;
  }

  private failUnknownInterface(offset: number, blockNo: number, type: number, ifId: number): void {
    const count = this.ifTs.length - this.sectionBase;
    const defined = count === 0 ? 'defines no interface' : `defines ${count} (0-${count - 1})`;
    this.fail(
      ErrorCode.UnknownInterface,
      offset,
      `pcapng block ${blockNo} (${pcapngBlockName(type)}) names interface ${ifId} but section ${this.info.sections} ${defined}`,
    );
  }

  private readIdb(buf: Uint8Array, p: number, len: number, little: boolean, at: number, blockNo: number): boolean {
    const linkType = rd16(buf, p + 8, little);
    const snaplen = rd32(buf, p + 12, little);
    const iface: CaptureInterface = { id: this.ifTs.length, linkType, snaplen, tsUnitsPerSecond: 1e6 };
    let base: 2 | 10 = 10;
    let exponent = 6;
    let offsetSec = 0;
    const optEnd = p + len - 4;
    let q = p + 16;
    while (optEnd - q >= 4) {
      const code = rd16(buf, q, little);
      const olen = rd16(buf, q + 2, little);
      const v = q + 4;
      if (code === OPT_ENDOFOPT) break;
      // An option running past the block is ignored with everything after it, as the
      // interface itself is still usable.
      if (v + olen > optEnd) break;
      if (code === OPT_IF_NAME) iface.name = decodeString(buf, v, olen);
      else if (code === OPT_IF_DESCRIPTION) iface.description = decodeString(buf, v, olen);
      else if (code === OPT_IF_TSRESOL && olen >= 1) {
        const raw = buf[v]!;
        const res = parseTsresol(raw);
        if (res === null) {
          this.fail(
            ErrorCode.BadHeader,
            at + (v - p),
            `pcapng block ${blockNo} (IDB) has if_tsresol 0x${raw.toString(16).padStart(2, '0')}, a resolution finer than 10^-19 s or 2^-63 s that cannot be represented`,
          );
          return false;
        }
        base = res.base;
        exponent = res.exponent;
      } else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        offsetSec = rdI64(buf, v, little);
      }
      q = v + roundUp4(olen);
    }
    const conv = new TimestampConverter(base, exponent, offsetSec);
    iface.tsUnitsPerSecond = conv.unitsPerSecond;
    const local = this.ifTs.length - this.sectionBase;
    const usec = linkType === LinkType.ETHERNET ? BulkInterface.EthernetUsec
      : linkType === LinkType.LINUX_SLL ? BulkInterface.SllUsec
      : linkType === LinkType.LINUX_SLL2 ? BulkInterface.Sll2Usec : BulkInterface.None;
    const kind = usec === BulkInterface.None || base !== 10 || offsetSec !== 0 ? BulkInterface.None
      : exponent === 6 ? usec : exponent === 9 ? usec + 1 : BulkInterface.None;
    if (kind !== BulkInterface.None && local < BULK_INTERFACES) {
      this.bulkKinds[local] = kind;
      this.bulkCount++;
      this.sink.pcapngInterfaces?.(this.bulkKinds);
    }
    this.ifLinkType.push(linkType);
    this.ifSnaplen.push(snaplen);
    this.ifTs.push(conv);
    this.info.interfaces.push(iface);
    return true;
  }

  private readIsb(buf: Uint8Array, p: number, len: number, little: boolean): void {
    const ifId = rd32(buf, p + 8, little);
    const g = this.sectionBase + ifId;
    const iface = this.info.interfaces[g];
    if (iface === undefined) {
      // Wireshark ignores statistics for an interface that does not exist; so do we.
      this.skippedBlocks++;
      return;
    }
    const stats: NonNullable<CaptureInterface['stats']> = {};
    const optEnd = p + len - 4;
    let q = p + 20;
    while (optEnd - q >= 4) {
      const code = rd16(buf, q, little);
      const olen = rd16(buf, q + 2, little);
      const v = q + 4;
      if (code === OPT_ENDOFOPT || v + olen > optEnd) break;
      if (olen >= 8) {
        if (code === OPT_ISB_IFRECV) stats.received = rd64(buf, v, little);
        else if (code === OPT_ISB_IFDROP) stats.droppedByInterface = rd64(buf, v, little);
        else if (code === OPT_ISB_FILTERACCEPT) stats.filterAccepted = rd64(buf, v, little);
        else if (code === OPT_ISB_OSDROP) stats.droppedByOs = rd64(buf, v, little);
        else if (code === OPT_ISB_USRDELIV) stats.delivered = rd64(buf, v, little);
      }
      q = v + roundUp4(olen);
    }
    iface.stats = stats;
  }

  /** Describes the incomplete block left at EOF (`present` bytes of it are in the file). */
  truncationMessage(present: number): string {
    const n = this.blocks + 1;
    if (this.pendingLen < 0 || present < 8) {
      return `file ends inside the header of pcapng block ${n}: 8 bytes needed, ${present} present`;
    }
    const what = this.pendingType === BT_SHB ? 'section header block' : pcapngBlockName(this.pendingType);
    if (this.pendingType === BT_SHB && this.pendingLen === 12) {
      return `file ends inside pcapng block ${n} (${what}): 12 bytes needed to read its byte order, ${present} present`;
    }
    const pkt = this.pendingType === BT_EPB || this.pendingType === BT_SPB || this.pendingType === BT_PB
      ? ` (packet ${this.packets + 1})`
      : '';
    return `file ends inside pcapng block ${n} (${what})${pkt}: block length says ${this.pendingLen} bytes, ${present} present`;
  }
}

/** UTF-8 option string; pcapng strings are not NUL-terminated, but some writers add NULs. */
function decodeString(buf: Uint8Array, start: number, len: number): string {
  let end = start + len;
  while (end > start && buf[end - 1] === 0) end--;
  return utf8.decode(buf.subarray(start, end));
}
