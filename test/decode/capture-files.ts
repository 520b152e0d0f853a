/**
 * Minimal pcap/pcapng reader for the decoder's corpus tests only (the real readers live in
 * src/capture and have their own tests). Reads the whole file; both byte orders; pcapng EPB/SPB/OPB
 * with per-interface link types. Stops quietly at the first damaged record.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CapturedFrame {
  /** The frame's bytes are data[offset, offset + capLen). */
  data: Uint8Array;
  offset: number;
  capLen: number;
  origLen: number;
  linkType: number;
}

export function readCaptureFile(path: string): CapturedFrame[] {
  const data = new Uint8Array(readFileSync(path));
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magicLe = dv.getUint32(0, true);
  if (magicLe === 0x0a0d0d0a) return readPcapng(data, dv);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  const be = dv.getUint32(0, false) === 0xa1b2c3d4 || dv.getUint32(0, false) === 0xa1b23c4d;
  if (!le && !be) throw new Error(`${path}: not a pcap file`);
  const linkType = dv.getUint32(20, le) & 0xffff;
  const out: CapturedFrame[] = [];
  for (let p = 24; p + 16 <= data.length; ) {
    const capLen = dv.getUint32(p + 8, le);
    const origLen = dv.getUint32(p + 12, le);
    if (p + 16 + capLen > data.length) break;
    out.push({ data, offset: p + 16, capLen, origLen, linkType });
    p += 16 + capLen;
  }
  return out;
}

function readPcapng(data: Uint8Array, dv: DataView): CapturedFrame[] {
  const out: CapturedFrame[] = [];
  let le = true;
  let links: number[] = [];
  for (let p = 0; p + 12 <= data.length; ) {
    let type = dv.getUint32(p, le);
    if (type === 0x0a0d0d0a) {
      le = dv.getUint32(p + 8, true) === 0x1a2b3c4d;
      links = [];
      type = 0x0a0d0d0a;
    }
    const len = dv.getUint32(p + 4, le);
    if (len < 12 || p + len > data.length) break;
    if (type === 1) links.push(dv.getUint16(p + 8, le));
    else if (type === 6 || type === 2) {
      // EPB: interface, ts hi, ts lo, caplen, origlen; OPB (2): interface (2), drops (2), ...
      const iface = type === 6 ? dv.getUint32(p + 8, le) : dv.getUint16(p + 8, le);
      const capLen = dv.getUint32(p + 20, le);
      const origLen = dv.getUint32(p + 24, le);
      if (28 + capLen <= len) out.push({ data, offset: p + 28, capLen, origLen, linkType: links[iface] ?? -1 });
    } else if (type === 3) {
      const origLen = dv.getUint32(p + 8, le);
      const capLen = Math.min(origLen, len - 16);
      out.push({ data, offset: p + 12, capLen, origLen, linkType: links[0] ?? -1 });
    }
    p += len;
  }
  return out;
}

/** The shared third-party capture corpus (read in place, never copied into the repo). */
export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));

/** Path of a corpus file, or null (with a console warning naming it) when it is absent. */
export function corpusFile(name: string): string | null {
  const p = CORPUS_DIR + name;
  if (existsSync(p)) return p;
  console.warn(`[decode tests] corpus file missing: ${p} (tests using it are skipped)`);
  return null;
}
