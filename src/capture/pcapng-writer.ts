/**
 * In-memory pcapng builder for tests and fixture generators: several sections (each little- or
 * big-endian), IDBs with if_name / if_description / if_tsresol / if_tsoffset, EPB, SPB, the
 * obsolete PB, ISB statistics and blocks of any other type (raw bodies).
 * Not on any hot path: BigInt is used freely here.
 */
import { BT_EPB, BT_IDB, BT_ISB, BT_PB, BT_SHB, BT_SPB, PCAPNG_BYTE_ORDER_MAGIC } from './pcapng-reader.js';

export type PcapngBlockSpec =
  | {
      type: 'idb';
      linkType: number;
      snaplen?: number;
      name?: string;
      description?: string;
      /** Raw if_tsresol byte (e.g. 6, 9, 0x80 | 20); omitted = no option (10^-6). */
      tsresol?: number;
      /** if_tsoffset in seconds (signed 64-bit). */
      tsoffset?: bigint | number;
    }
  | {
      type: 'epb' | 'pb';
      interfaceId: number;
      /** Timestamp in the interface's units (64-bit). */
      ts?: bigint;
      data: Uint8Array;
      origLen?: number;
      /** Captured-length field as written (default data.length). */
      capLenField?: number;
      /** opt_comment, to make a block with options. */
      comment?: string;
    }
  | { type: 'spb'; data: Uint8Array; origLen?: number }
  | {
      type: 'isb';
      interfaceId: number;
      ts?: bigint;
      stats?: { ifrecv?: bigint | number; ifdrop?: bigint | number; filteraccept?: bigint | number; osdrop?: bigint | number; usrdeliv?: bigint | number };
    }
  | { type: 'raw'; blockType: number; body: Uint8Array };

export interface PcapngSectionSpec {
  byteOrder?: 'little' | 'big';
  versionMajor?: number;
  versionMinor?: number;
  blocks: readonly PcapngBlockSpec[];
}

export interface BuiltBlock {
  /** Byte offset of the block in the file. */
  offset: number;
  /** Total length written. */
  length: number;
  /** 'shb' or the spec's type. */
  kind: string;
}

class ByteSink {
  private buf = new Uint8Array(1024);
  private dv = new DataView(this.buf.buffer);
  len = 0;
  little: boolean;
  constructor(little: boolean) {
    this.little = little;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
    this.dv = new DataView(bigger.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v & 0xff;
  }
  u16(v: number): void {
    this.reserve(2);
    this.dv.setUint16(this.len, v, this.little);
    this.len += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.dv.setUint32(this.len, v >>> 0, this.little);
    this.len += 4;
  }
  u32At(at: number, v: number): void {
    this.dv.setUint32(at, v >>> 0, this.little);
  }
  u64(v: bigint): void {
    this.reserve(8);
    this.dv.setBigUint64(this.len, BigInt.asUintN(64, v), this.little);
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  pad4(): void {
    while (this.len % 4 !== 0) this.u8(0);
  }
  /** Timestamp as high and low 32-bit words (in this order, each in the section byte order). */
  ts(v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.u32(Number(u >> 32n));
    this.u32(Number(u & 0xffffffffn));
  }
  option(code: number, value: Uint8Array): void {
    this.u16(code);
    this.u16(value.length);
    this.bytes(value);
    this.pad4();
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const utf8 = new TextEncoder();

function u64Bytes(v: bigint | number, little: boolean): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)), little);
  return b;
}

/** Builds a pcapng file and reports where each block went. */
export function buildPcapngWithOffsets(sections: readonly PcapngSectionSpec[]): { bytes: Uint8Array; blocks: BuiltBlock[] } {
  const out = new ByteSink(true);
  const blocks: BuiltBlock[] = [];
  const block = (kind: string, type: number, body: () => void): void => {
    const start = out.len;
    out.u32(type);
    out.u32(0);
    body();
    out.pad4();
    const total = out.len - start + 4;
    out.u32(total);
    out.u32At(start + 4, total);
    blocks.push({ offset: start, length: total, kind });
  };
  for (const section of sections) {
    out.little = section.byteOrder !== 'big';
    block('shb', BT_SHB, () => {
      out.u32(PCAPNG_BYTE_ORDER_MAGIC);
      out.u16(section.versionMajor ?? 1);
      out.u16(section.versionMinor ?? 0);
      out.u64(-1n); // section length not specified
    });
    for (const b of section.blocks) {
      switch (b.type) {
        case 'idb':
          block('idb', BT_IDB, () => {
            out.u16(b.linkType);
            out.u16(0);
            out.u32(b.snaplen ?? 0);
            let any = false;
            if (b.name !== undefined) { out.option(2, utf8.encode(b.name)); any = true; }
            if (b.description !== undefined) { out.option(3, utf8.encode(b.description)); any = true; }
            if (b.tsresol !== undefined) { out.option(9, Uint8Array.of(b.tsresol)); any = true; }
            if (b.tsoffset !== undefined) { out.option(14, u64Bytes(b.tsoffset, out.little)); any = true; }
            if (any) out.u32(0);
          });
          break;
        case 'epb':
        case 'pb':
          block(b.type, b.type === 'epb' ? BT_EPB : BT_PB, () => {
            if (b.type === 'epb') out.u32(b.interfaceId);
            else {
              out.u16(b.interfaceId);
              out.u16(0); // drops count
            }
            out.ts(b.ts ?? 0n);
            out.u32(b.capLenField ?? b.data.length);
            out.u32(b.origLen ?? b.data.length);
            out.bytes(b.data);
            out.pad4();
            if (b.comment !== undefined) {
              out.option(1, utf8.encode(b.comment));
              out.u32(0);
            }
          });
          break;
        case 'spb':
          block('spb', BT_SPB, () => {
            out.u32(b.origLen ?? b.data.length);
            out.bytes(b.data);
          });
          break;
        case 'isb':
          block('isb', BT_ISB, () => {
            out.u32(b.interfaceId);
            out.ts(b.ts ?? 0n);
            const s = b.stats ?? {};
            const codes: [number, bigint | number | undefined][] = [
              [4, s.ifrecv],
              [5, s.ifdrop],
              [6, s.filteraccept],
              [7, s.osdrop],
              [8, s.usrdeliv],
            ];
            let any = false;
            for (const [code, v] of codes) {
              if (v !== undefined) {
                out.option(code, u64Bytes(v, out.little));
                any = true;
              }
            }
            if (any) out.u32(0);
          });
          break;
        case 'raw':
          block('raw', b.blockType, () => out.bytes(b.body));
          break;
      }
    }
  }
  return { bytes: out.result(), blocks };
}

/** Builds a pcapng file in memory. */
export function buildPcapng(sections: readonly PcapngSectionSpec[]): Uint8Array {
  return buildPcapngWithOffsets(sections).bytes;
}
