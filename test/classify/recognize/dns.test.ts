import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readName, recognizeDns } from '../../../src/classify/recognize/dns.js';
import { cat, hex, sample, text } from './samples.js';

const UDP = 17;
const TCP = 6;
const rd = (b: Uint8Array, transport = UDP, port = 53) => recognizeDns(b, 0, b.length, transport, port);
const name = (n: string) => cat(...n.split('.').filter(Boolean).map((l) => cat(Uint8Array.of(l.length), text(l))), Uint8Array.of(0));
/** id, flags, qd, an, ns, ar */
const header = (flags: number, qd: number, an = 0, ns = 0, ar = 0) =>
  hex([0x1234, flags, qd, an, ns, ar].map((v) => v.toString(16).padStart(4, '0')).join(''));

describe('DNS queries from c-ares (node dns.Resolver)', () => {
  it('UDP A and SRV questions', () => {
    expect(rd(sample('dns-cares-a').bytes)).toEqual({
      protocol: 'dns',
      tags: ['dns'],
      detail: { dnsQr: 'query', dnsQname: 'zeebe-gateway.portsniff.example', dnsQtype: 'A' },
    });
    expect(rd(sample('dns-cares-srv').bytes)?.detail).toMatchObject({ dnsQname: '_grpclb._tcp.xds.portsniff.example', dnsQtype: 'SRV' });
  });

  it('TCP with the 2-byte length prefix (c-ares retry after TC)', () => {
    expect(rd(sample('dns-cares-a-tcp').bytes, TCP)?.detail['dnsQname']).toBe('zeebe-gateway.portsniff.example');
    expect(rd(sample('dns-cares-srv-tcp').bytes, TCP)?.detail['dnsQtype']).toBe('SRV');
    // the same bytes without the prefix are not TCP DNS, and the prefixed ones are not UDP DNS
    expect(rd(sample('dns-cares-a').bytes, TCP)).toBeNull();
    expect(rd(sample('dns-cares-a-tcp').bytes, UDP)).toBeNull();
  });

  it('a question cut by the end of the bytes is not recognised yet', () => {
    const b = sample('dns-cares-a').bytes;
    for (let n = 0; n < b.length; n++) {
      const e = recognizeDns(b, 0, n, UDP, 53);
      // complete once the name, type and class are in
      if (e !== null) expect(e.detail['dnsQname']).toBe('zeebe-gateway.portsniff.example');
    }
    expect(recognizeDns(b, 0, 12 + 33, UDP, 53)).toBeNull();
  });
});

describe('DNS messages built per RFC 1035', () => {
  it('a response with an answer and a compression pointer to the question', () => {
    const msg = cat(header(0x8180, 1, 1), name('grafana.example.com'), hex('00010001'), hex('c00c 0001 0001 0000003c 0004 0a000001'));
    expect(rd(msg)?.detail).toEqual({ dnsQr: 'response', dnsRcode: '0', dnsQname: 'grafana.example.com', dnsQtype: 'A' });
    expect(rd(cat(header(0x8183, 1), name('nope.example'), hex('001c0001')))?.detail['dnsRcode']).toBe('3');
  });

  it('root name, escapes, NOTIFY and UPDATE opcodes', () => {
    expect(rd(cat(header(0x0000, 1), hex('00'), hex('00020001')))?.detail['dnsQname']).toBe('.');
    expect(rd(cat(header(0x0100, 1), hex('03 612e62 0120 00'), hex('00100001')))?.detail['dnsQname']).toBe('a\\046b.\\032');
    expect(rd(cat(header(0x2000, 1), name('example.com'), hex('00060001')))?.detail['dnsOpcode']).toBe('NOTIFY');
    expect(rd(cat(header(0x2800, 1, 0, 1), name('example.com'), hex('00060001')))?.detail['dnsOpcode']).toBe('UPDATE');
  });

  it('long names, escapes anywhere, and the longest legal name come out whole', () => {
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`; // 255 bytes on the wire
    expect(rd(cat(header(0x0100, 1), name(long), hex('00010001')))?.detail['dnsQname']).toBe(long);
    // 63 bytes that all need \DDD: 252 chars for one label
    const odd = cat(Uint8Array.of(63), new Uint8Array(63).fill(0x2e), Uint8Array.of(3), text('end'), Uint8Array.of(0));
    expect(rd(cat(header(0x0100, 1), odd, hex('00010001')))?.detail['dnsQname']).toBe(`${'\\046'.repeat(63)}.end`);
    const mixed = cat(Uint8Array.of(6), Uint8Array.of(0x00, 0x41, 0x5c, 0x7f, 0xff, 0x7e), Uint8Array.of(0));
    expect(rd(cat(header(0x0100, 1), mixed, hex('00010001')))?.detail['dnsQname']).toBe('\\000A\\092\\127\\255~');
    // a name longer than 255 bytes is malformed
    expect(rd(cat(header(0x0100, 1), name(`${long}e.f`), hex('00010001')))).toBeNull();
  });

  it('header sanity: Z bit, opcode 3, rcode in a query, counts', () => {
    const q = (flags: number, qd = 1, an = 0, ns = 0, ar = 0) => rd(cat(header(flags, qd, an, ns, ar), name('a.example'), hex('00010001')));
    expect(q(0x0100)).not.toBeNull();
    expect(q(0x0140)).toBeNull(); // Z
    expect(q(0x1800)).toBeNull(); // opcode 3
    expect(q(0x7800)).toBeNull(); // opcode 15
    expect(q(0x0101)).toBeNull(); // rcode in a query
    expect(q(0x0100, 2)).toBeNull();
    expect(q(0x0100, 0)).toBeNull();
    expect(q(0x0100, 1, 1)).toBeNull(); // a query with an answer
    expect(q(0x0100, 1, 0, 0, 1)).not.toBeNull(); // EDNS OPT
    expect(q(0x0100, 1, 0, 0, 3)).toBeNull();
    expect(q(0x8180, 1, 5000)).toBeNull();
    expect(rd(cat(header(0x0100, 1), name('a.example'), hex('00000001')))).toBeNull(); // type 0
    expect(rd(cat(header(0x0100, 1), name('a.example'), hex('00010002')))).toBeNull(); // class 2
  });

  it('names: pointer loops, forward pointers, long labels, reserved label types', () => {
    const hdr = header(0x0100, 1);
    expect(rd(cat(hdr, hex('c00c'), hex('00010001')))).toBeNull(); // points at itself
    expect(rd(cat(hdr, hex('01 61 c00c'), hex('00010001')))).toBeNull(); // loop through an earlier label
    expect(rd(cat(hdr, hex('c010 0000 0161 00'), hex('00010001')))).toBeNull(); // forward pointer
    expect(rd(cat(hdr, hex('c002'), hex('00010001')))).toBeNull(); // into the header
    expect(rd(cat(hdr, Uint8Array.of(64), new Uint8Array(64).fill(0x61), hex('00 00010001')))).toBeNull();
    expect(rd(cat(hdr, hex('41 00'), hex('00010001')))).toBeNull(); // 0x40 label type
    const long = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.');
    expect(rd(cat(hdr, name(long), hex('00010001')))).toBeNull(); // > 255 bytes
    // readName follows a backward pointer and reports where the name ends in the original bytes
    const msg = cat(hdr, name('b.example'), hex('00010001'), hex('01 78 c00c'));
    expect(readName(msg, 0, 27, msg.length)).toBe('x.b.example');
  });
});

describe('mDNS (port 5353)', () => {
  it('a query with the QU bit and several questions', () => {
    const msg = cat(header(0x0000, 2), name('_http._tcp.local'), hex('000c8001'), hex('c00c 000c 0001'));
    const e = rd(msg, UDP, 5353);
    expect(e?.protocol).toBe('mdns');
    expect(e?.tags).toEqual(['dns', 'mdns']);
    expect(e?.detail['dnsQname']).toBe('_http._tcp.local');
    expect(rd(msg, UDP, 53)).toBeNull(); // two questions: not unicast DNS
  });

  it('an announcement without a question: the first answer name', () => {
    const msg = cat(header(0x8400, 0, 1), name('printer.local'), hex('0001 8001 00000078 0004 c0a80102'));
    expect(rd(msg, UDP, 5353)?.detail).toMatchObject({ dnsQr: 'response', dnsQname: 'printer.local', dnsQtype: 'A' });
    expect(rd(msg, UDP, 53)).toBeNull();
  });
});

describe('DNS without details (no flow log)', () => {
  /** What a verdict and the coverage report read of evidence: the same with or without details. */
  const core = (e: ReturnType<typeof recognizeDns>) => (e === null ? null : { protocol: e.protocol, tags: [...e.tags], incomplete: e.incomplete === true });

  it('gives the same protocol, tags and completeness as with details, as shared frozen objects', () => {
    const cases: Array<[Uint8Array, number, number]> = [
      [sample('dns-cares-a').bytes, UDP, 53],
      [sample('dns-cares-srv').bytes, UDP, 53],
      [sample('dns-cares-a-tcp').bytes, TCP, 53],
      [sample('dns-cares-a').bytes, UDP, 5353],
      [cat(header(0x2000, 1), name('example.com'), hex('00060001')), UDP, 53], // NOTIFY: partial
      [cat(header(0x8400, 0, 1), name('printer.local'), hex('000c8001')), UDP, 5353], // mDNS announcement: partial
    ];
    for (const [b, transport, port] of cases) {
      const full = recognizeDns(b, 0, b.length, transport, port);
      const slim = recognizeDns(b, 0, b.length, transport, port, false);
      expect(full).not.toBeNull();
      expect(core(slim)).toEqual(core(full));
      expect(slim!.detail).toEqual({});
      expect(Object.isFrozen(slim)).toBe(true);
      expect(recognizeDns(b, 0, b.length, transport, port, false)).toBe(slim);
      // Every cut of the message: recognised (and partial) exactly when it is with details.
      for (let n = 0; n < b.length; n++) expect(core(recognizeDns(b, 0, n, transport, port, false))).toEqual(core(recognizeDns(b, 0, n, transport, port)));
    }
  });

  it('property: on random bytes, recognised exactly when it is with details', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 300 }), fc.constantFrom(UDP, TCP), fc.constantFrom(53, 5353), (b, transport, port) => {
        // Plausible headers so that the name walk runs: one question, flags of a query or a reply.
        b[4] = 0;
        b[5] = 1;
        b[2]! &= 0x87;
        expect(core(recognizeDns(b, 0, b.length, transport, port, false))).toEqual(core(recognizeDns(b, 0, b.length, transport, port)));
      }),
      { numRuns: 2000 },
    );
  });
});
