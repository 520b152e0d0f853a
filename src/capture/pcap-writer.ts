/**
 * Classic pcap writer (little-endian, microsecond or nanosecond magic), for `--write` and for the
 * fixture generators, plus `buildPcap()`, an in-memory builder that can also write big-endian
 * files and odd header fields for reader tests.
 */
import * as fs from 'node:fs';
import { PCAP_DEFAULT_MAX_CAPLEN, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC } from './pcap-reader.js';

export interface PcapWriterOptions {
  linkType: number;
  /** Header snaplen; packets longer than it are cut (default 262144). */
  snaplen?: number;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nano?: boolean;
  /** Size of the write buffer (default 64 KiB). */
  bufferSize?: number;
}

/**
 * Writes packets to a file descriptor (flushed with fs.writeSync; the caller owns and closes the
 * descriptor) or appends Buffers to an array. Call close() to flush the last buffer.
 */
export class PcapWriter {
  /** Packets written so far. */
  packets = 0;
  private readonly target: number | Uint8Array[];
  private readonly snaplen: number;
  private readonly nano: boolean;
  private buf: Buffer;
  private pos = 0;
  private closed = false;

  constructor(target: number | Uint8Array[], opts: PcapWriterOptions) {
    this.target = target;
    this.snaplen = opts.snaplen ?? PCAP_DEFAULT_MAX_CAPLEN;
    this.nano = opts.nano === true;
    this.buf = Buffer.allocUnsafe(Math.max(opts.bufferSize ?? 65536, 64));
    const b = this.buf;
    b.writeUInt32LE(this.nano ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt16LE(4, 6);
    b.writeInt32LE(0, 8); // thiszone
    b.writeUInt32LE(0, 12); // sigfigs
    b.writeUInt32LE(this.snaplen, 16);
    b.writeUInt32LE(opts.linkType & 0xffff, 20);
    this.pos = 24;
  }

  /**
   * Appends one record. `tsNsec` is truncated to microseconds in a microsecond file; `origLen`
   * defaults to data.length; data longer than the snaplen is cut to it.
   */
  writePacket(tsSec: number, tsNsec: number, data: Uint8Array, origLen?: number): void {
    if (this.closed) throw new Error('PcapWriter.writePacket() after close()');
    const capLen = Math.min(data.length, this.snaplen);
    const need = 16 + capLen;
    if (this.buf.length - this.pos < need) {
      this.flush();
      if (this.buf.length < need) this.buf = Buffer.allocUnsafe(need);
    }
    const b = this.buf;
    const p = this.pos;
    b.writeUInt32LE(tsSec >>> 0, p);
    b.writeUInt32LE(this.nano ? tsNsec >>> 0 : Math.floor(tsNsec / 1000), p + 4);
    b.writeUInt32LE(capLen, p + 8);
    b.writeUInt32LE((origLen ?? data.length) >>> 0, p + 12);
    b.set(capLen === data.length ? data : data.subarray(0, capLen), p + 16);
    this.pos = p + need;
    this.packets++;
  }

  /** Writes out what is buffered. */
  flush(): void {
    if (this.pos === 0) return;
    if (typeof this.target === 'number') {
      let off = 0;
      while (off < this.pos) off += fs.writeSync(this.target, this.buf, off, this.pos - off);
    } else {
      this.target.push(Buffer.from(this.buf.subarray(0, this.pos)));
    }
    this.pos = 0;
  }

  /** Flushes; the writer cannot be used afterwards (a file descriptor stays open). */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }
}

export interface PcapPacketSpec {
  tsSec: number;
  /** Fraction of the second in the file's unit (microseconds or nanoseconds); default 0. */
  tsFrac?: number;
  data: Uint8Array;
  /** Original length (default data.length). */
  origLen?: number;
  /** Captured-length field as written (default data.length): lets tests write impossible values. */
  capLenField?: number;
}

export interface BuildPcapOptions {
  linkType?: number;
  /** Raw 32-bit linktype field; overrides linkType (reserved/FCS bits). */
  linkTypeField?: number;
  snaplen?: number;
  nano?: boolean;
  bigEndian?: boolean;
  versionMajor?: number;
  versionMinor?: number;
}

/** Builds a whole classic pcap file in memory. */
export function buildPcap(packets: readonly PcapPacketSpec[], opts: BuildPcapOptions = {}): Uint8Array {
  let size = 24;
  for (const pk of packets) size += 16 + pk.data.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  const le = opts.bigEndian !== true;
  dv.setUint32(0, opts.nano === true ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, le);
  dv.setUint16(4, opts.versionMajor ?? 2, le);
  dv.setUint16(6, opts.versionMinor ?? 4, le);
  dv.setUint32(16, opts.snaplen ?? 65535, le);
  dv.setUint32(20, (opts.linkTypeField ?? opts.linkType ?? 1) >>> 0, le);
  let p = 24;
  for (const pk of packets) {
    dv.setUint32(p, pk.tsSec >>> 0, le);
    dv.setUint32(p + 4, (pk.tsFrac ?? 0) >>> 0, le);
    dv.setUint32(p + 8, (pk.capLenField ?? pk.data.length) >>> 0, le);
    dv.setUint32(p + 12, (pk.origLen ?? pk.data.length) >>> 0, le);
    out.set(pk.data, p + 16);
    p += 16 + pk.data.length;
  }
  return out;
}
