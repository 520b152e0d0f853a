/**
 * A small, strict IPFIX decoder for tests (RFC 7011): checks every length it reads and decodes
 * data records with the templates received so far, as a collector does.
 */
export interface DecodedField {
  id: number;
  enterprise: number | null;
  length: number;
}

export interface DecodedMessage {
  version: number;
  length: number;
  exportTime: number;
  sequence: number;
  domain: number;
  templates: Array<{ id: number; fields: DecodedField[] }>;
  /** Data records as field key (`id` or `pen/id`) -> value (bigint for numbers, string for variable length, hex for addresses). */
  records: Array<{ templateId: number; values: Map<string, bigint | string> }>;
}

export function fieldKey(f: { id: number; enterprise: number | null }): string {
  return f.enterprise === null ? String(f.id) : `${f.enterprise}/${f.id}`;
}

export class IpfixDecoder {
  readonly templates = new Map<number, DecodedField[]>();

  decode(buf: Uint8Array): DecodedMessage {
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (buf.length < 16) throw new Error(`message of ${buf.length} bytes is shorter than the header`);
    const msg: DecodedMessage = {
      version: v.getUint16(0),
      length: v.getUint16(2),
      exportTime: v.getUint32(4),
      sequence: v.getUint32(8),
      domain: v.getUint32(12),
      templates: [],
      records: [],
    };
    if (msg.version !== 10) throw new Error(`version ${msg.version}`);
    if (msg.length !== buf.length) throw new Error(`header length ${msg.length} != datagram ${buf.length}`);
    let p = 16;
    while (p < buf.length) {
      if (p + 4 > buf.length) throw new Error('set header cut');
      const setId = v.getUint16(p);
      const setLen = v.getUint16(p + 2);
      if (setLen < 4 || p + setLen > buf.length) throw new Error(`set length ${setLen} at ${p}`);
      const end = p + setLen;
      let q = p + 4;
      if (setId === 2) {
        while (q + 4 <= end) {
          const id = v.getUint16(q);
          const count = v.getUint16(q + 2);
          q += 4;
          const fields: DecodedField[] = [];
          for (let i = 0; i < count; i++) {
            const raw = v.getUint16(q);
            const length = v.getUint16(q + 2);
            q += 4;
            let enterprise: number | null = null;
            if (raw & 0x8000) {
              enterprise = v.getUint32(q);
              q += 4;
            }
            fields.push({ id: raw & 0x7fff, enterprise, length });
          }
          if (q > end) throw new Error('template overruns its set');
          this.templates.set(id, fields);
          msg.templates.push({ id, fields });
        }
      } else if (setId >= 256) {
        const fields = this.templates.get(setId);
        if (fields === undefined) throw new Error(`data set ${setId} before its template`);
        while (q < end) {
          const values = new Map<string, bigint | string>();
          for (const f of fields) {
            let len = f.length;
            let text = false;
            if (len === 0xffff) {
              text = true;
              len = buf[q]!;
              q++;
              if (len === 255) {
                len = v.getUint16(q);
                q += 2;
              }
            }
            if (q + len > end) throw new Error(`field ${fieldKey(f)} overruns the set`);
            const bytes = buf.subarray(q, q + len);
            q += len;
            if (text) values.set(fieldKey(f), Buffer.from(bytes).toString('utf8'));
            else if (len === 16) values.set(fieldKey(f), Buffer.from(bytes).toString('hex'));
            else {
              let n = 0n;
              for (const b of bytes) n = (n << 8n) | BigInt(b);
              values.set(fieldKey(f), n);
            }
          }
          msg.records.push({ templateId: setId, values });
        }
      } else {
        throw new Error(`unexpected set id ${setId}`);
      }
      p = end;
    }
    return msg;
  }
}
