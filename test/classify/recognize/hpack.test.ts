import { describe, expect, it } from 'vitest';
import { HpackDecoder, HPACK_STATIC_TABLE, headerValue } from '../../../src/classify/recognize/hpack.js';
import { hex } from './samples.js';

const dec = (d: HpackDecoder, h: string) => {
  const b = hex(h);
  return d.decode(b, 0, b.length);
};

describe('HPACK decoding (RFC 7541 Appendix C examples)', () => {
  it('static table has the 61 entries of Appendix A', () => {
    expect(HPACK_STATIC_TABLE).toHaveLength(62);
    expect(HPACK_STATIC_TABLE[1]).toEqual([':authority', '']);
    expect(HPACK_STATIC_TABLE[31]).toEqual(['content-type', '']);
    expect(HPACK_STATIC_TABLE[58]).toEqual(['user-agent', '']);
    expect(HPACK_STATIC_TABLE[61]).toEqual(['www-authenticate', '']);
  });

  it('C.2: the four field representations', () => {
    // C.2.1 literal with indexing, new name
    let d = new HpackDecoder();
    let r = dec(d, '400a637573746f6d2d6b65790d637573746f6d2d686561646572');
    expect(r).toEqual({ fields: [['custom-key', 'custom-header']], stop: 'end' });
    expect(d.dynamicSize).toBe(55);
    // C.2.2 literal without indexing, indexed name
    d = new HpackDecoder();
    r = dec(d, '040c2f73616d706c652f70617468');
    expect(r.fields).toEqual([[':path', '/sample/path']]);
    expect(d.dynamicCount).toBe(0);
    // C.2.3 literal never indexed, new name
    d = new HpackDecoder();
    r = dec(d, '100870617373776f726406736563726574');
    expect(r.fields).toEqual([['password', 'secret']]);
    expect(d.dynamicCount).toBe(0);
    // C.2.4 indexed
    r = dec(new HpackDecoder(), '82');
    expect(r.fields).toEqual([[':method', 'GET']]);
  });

  it('C.3: requests without Huffman, sharing one dynamic table', () => {
    const d = new HpackDecoder();
    expect(dec(d, '828684410f7777772e6578616d706c652e636f6d').fields).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'],
    ]);
    expect(dec(d, '828684be58086e6f2d6361636865').fields).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache'],
    ]);
    const r3 = dec(d, '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565');
    expect(r3.fields).toEqual([
      [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value'],
    ]);
    expect(d.dynamicSize).toBe(164);
    expect(d.dynamicCount).toBe(3);
  });

  it('C.4: the same requests with Huffman coding', () => {
    const d = new HpackDecoder();
    expect(headerValue(dec(d, '828684418cf1e3c2e5f23a6ba0ab90f4ff').fields, ':authority')).toBe('www.example.com');
    expect(headerValue(dec(d, '828684be5886a8eb10649cbf').fields, 'cache-control')).toBe('no-cache');
    const r3 = dec(d, '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf');
    expect(r3.fields.at(-1)).toEqual(['custom-key', 'custom-value']);
    expect(d.dynamicSize).toBe(164);
  });

  it('C.6: responses with Huffman and a 256-octet table (evictions)', () => {
    const d = new HpackDecoder(256);
    const r1 = dec(d, '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3');
    expect(r1.fields).toEqual([
      [':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com'],
    ]);
    expect(d.dynamicSize).toBe(222);
    const r2 = dec(d, '4883640effc1c0bf');
    expect(r2.fields[0]).toEqual([':status', '307']);
    expect(r2.fields[3]).toEqual(['location', 'https://www.example.com']);
    expect(d.dynamicSize).toBe(222);
    const r3 = dec(
      d,
      '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
    );
    expect(r3.stop).toBe('end');
    expect(headerValue(r3.fields, 'set-cookie')).toBe('foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1');
    expect(headerValue(r3.fields, 'content-encoding')).toBe('gzip');
    expect(d.dynamicSize).toBe(215);
    expect(d.dynamicCount).toBe(3);
  });

  it('keeps the fields before a cut, and names the stop reason', () => {
    const full = hex('828684410f7777772e6578616d706c652e636f6d');
    const r = new HpackDecoder().decode(full, 0, full.length - 3);
    expect(r.stop).toBe('truncated');
    expect(r.fields).toEqual([[':method', 'GET'], [':scheme', 'http'], [':path', '/']]);
    expect(dec(new HpackDecoder(), '80').stop).toBe('bad_index'); // index 0
    expect(dec(new HpackDecoder(), 'be').stop).toBe('bad_index'); // 62, dynamic table empty
    expect(dec(new HpackDecoder(), 'ff8080808080').stop).toBe('bad_integer');
    expect(dec(new HpackDecoder(), '82 3fe11f').stop).toBe('bad_table_size'); // size update after a field
    expect(dec(new HpackDecoder(), '3fe11f 82').stop).toBe('end'); // 4096, before any field
    expect(dec(new HpackDecoder(), '4081ff00').stop).toBe('bad_huffman'); // a 1-byte Huffman name of 8 padding bits
  });

  it('a table-size update to 0 empties the table (RFC 7541 §4.3, §6.3)', () => {
    const d = new HpackDecoder();
    dec(d, '400a637573746f6d2d6b65790d637573746f6d2d686561646572');
    expect(d.dynamicCount).toBe(1);
    dec(d, '20');
    expect(d.dynamicCount).toBe(0);
    expect(d.dynamicSize).toBe(0);
  });
});
