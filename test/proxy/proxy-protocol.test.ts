/**
 * PROXY protocol v1/v2 (HAProxy proxy-protocol.txt): the examples of the specification, every
 * prefix of a valid header asks for more, malformed headers say what is wrong, any bytes never throw,
 * and encode -> parse round-trips.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeProxyHeader, MAX_PROXY_HEADER, parseProxyHeader, V1_MAX_LENGTH, V2_SIGNATURE } from '../../src/proxy/proxy-protocol.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const parse = (b: Uint8Array) => parseProxyHeader(b, 0, b.length);
const hex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('PROXY v1', () => {
  it('TCP4 and TCP6 lines (spec 2.1 examples), payload after the header is not consumed', () => {
    const b = bytes('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n');
    expect(parse(b)).toEqual({
      kind: 'ok',
      header: { version: 'v1', local: false, source: { ip: '192.168.0.1', port: 56324 }, destination: { ip: '192.168.0.11', port: 443 } },
      length: 47,
    });
    const six = parse(bytes('PROXY TCP6 2001:DB8::1 2001:db8:0:0::2 1 65535\r\n'));
    expect(six).toMatchObject({ kind: 'ok', header: { source: { ip: '2001:db8::1', port: 1 }, destination: { ip: '2001:db8::2', port: 65535 } } });
  });

  it('UNKNOWN: a header without a client (the peer stands)', () => {
    expect(parse(bytes('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'ok', header: { version: 'v1', local: true, source: null, destination: null }, length: 15 });
    expect(parse(bytes('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'))).toMatchObject({ kind: 'ok', header: { local: true } });
  });

  it('every prefix of a valid header asks for more', () => {
    const b = bytes('PROXY TCP4 10.1.2.3 10.0.0.1 40000 6379\r\n');
    for (let n = 0; n < b.length; n++) expect(parseProxyHeader(b, 0, n).kind, `prefix ${n}`).toBe('more');
    expect(parse(b).kind).toBe('ok');
  });

  it.each([
    ['GET / HTTP/1.1\r\n', /no PROXY protocol header: the connection starts with 0x474554/],
    ['PROXZ TCP4', /no PROXY protocol header/],
    ['PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n', /protocol 'TCP5' is not TCP4, TCP6 or UNKNOWN/],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n', /expected 'PROXY TCP4 SRC DST SPORT DPORT'/],
    ['PROXY TCP4 1.2.3.400 1.2.3.4 1 2\r\n', /'1.2.3.400' is not an IPv4 address/],
    ['PROXY TCP4 ::1 1.2.3.4 1 2\r\n', /'::1' is not an IPv4 address/],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n', /'01' is not a port/],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n', /'65536' is not a port/],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n', /does not end with CRLF/],
    ['PROXY TCP4 1.2.3.4\x00 1.2.3.4 1 2\r\n', /non-printable byte 0x00/],
    [`PROXY TCP4 ${'1'.repeat(120)}`, /longer than 107 bytes without CRLF/],
  ])('%j is malformed', (text, re) => {
    const r = parse(bytes(text));
    expect(r.kind).toBe('bad');
    expect((r as { message: string }).message).toMatch(re);
  });

  it('the longest legal line fits', () => {
    const line = 'PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';
    expect(line.length).toBe(V1_MAX_LENGTH - 3); // the spec's 107 includes slack for UNKNOWN lines
    expect(parse(bytes(line)).kind).toBe('ok');
  });
});

describe('PROXY v2', () => {
  // proxy-protocol.txt 2.2: signature, 0x21 (v2 PROXY), 0x11 (TCP over IPv4), length 12, addresses.
  const v4 = hex('0d0a0d0a000d0a515549540a 21 11 000c c0a80001 c0a8000b dc04 01bb');

  it('TCP over IPv4', () => {
    expect(parse(v4)).toEqual({
      kind: 'ok',
      header: { version: 'v2', local: false, source: { ip: '192.168.0.1', port: 56324 }, destination: { ip: '192.168.0.11', port: 443 } },
      length: 28,
    });
  });

  it('TCP over IPv6, with TLVs after the addresses (skipped by the length)', () => {
    const addrs = hex('20010db8000000000000000000000001 20010db8000000000000000000000002 0050 1f90');
    const tlv = hex('02 0005 6869686f73'); // PP2_TYPE_AUTHORITY "hihos"
    const len = addrs.length + tlv.length;
    const b = Uint8Array.from([...V2_SIGNATURE, 0x21, 0x21, len >> 8, len & 255, ...addrs, ...tlv, 0x2a]);
    expect(parse(b)).toEqual({
      kind: 'ok',
      header: { version: 'v2', local: false, source: { ip: '2001:db8::1', port: 80 }, destination: { ip: '2001:db8::2', port: 8080 } },
      length: 16 + len,
    });
  });

  it('LOCAL (a health check from the balancer itself) and UNSPEC carry no client', () => {
    expect(parse(hex('0d0a0d0a000d0a515549540a 20 00 0000'))).toEqual({ kind: 'ok', header: { version: 'v2', local: true, source: null, destination: null }, length: 16 });
    expect(parse(hex('0d0a0d0a000d0a515549540a 21 00 0000'))).toMatchObject({ kind: 'ok', header: { local: true } });
  });

  it('every prefix of a valid header asks for more', () => {
    for (let n = 0; n < v4.length; n++) expect(parseProxyHeader(v4, 0, n).kind, `prefix ${n}`).toBe('more');
  });

  it.each([
    ['0d0a0d0a000d0a515549540b 21 11 000c', /no PROXY protocol header/],
    ['0d0a0d0a000d0a515549540a 11 11 000c', /version 1, expected 2/],
    ['0d0a0d0a000d0a515549540a 22 11 000c', /unknown command 2/],
    ['0d0a0d0a000d0a515549540a 21 11 0004 01020304', /4 address bytes, IPv4 needs 12/],
    ['0d0a0d0a000d0a515549540a 21 21 000c 000000000000000000000000', /12 address bytes, IPv6 needs 36/],
    ['0d0a0d0a000d0a515549540a 21 41 0000', /unknown address family 4/],
  ])('%s is malformed', (h, re) => {
    const r = parse(hex(h));
    expect(r.kind).toBe('bad');
    expect((r as { message: string }).message).toMatch(re);
  });
});

describe('encodeProxyHeader', () => {
  it('v1 and v2 round-trip, IPv4 and IPv6', () => {
    for (const version of ['v1', 'v2'] as const) {
      for (const [s, d] of [
        [{ ip: '203.0.113.7', port: 5555 }, { ip: '127.0.0.1', port: 16000 }],
        [{ ip: '2001:db8::7', port: 1 }, { ip: '::1', port: 65535 }],
      ] as const) {
        const h = encodeProxyHeader(version, s, d);
        expect(parse(h)).toEqual({ kind: 'ok', header: { version, local: false, source: s, destination: d }, length: h.length });
      }
    }
  });

  it('exact bytes', () => {
    expect(encodeProxyHeader('v1', { ip: '10.1.2.3', port: 40000 }, { ip: '127.0.0.1', port: 6379 }).toString('latin1')).toBe('PROXY TCP4 10.1.2.3 127.0.0.1 40000 6379\r\n');
    expect(encodeProxyHeader('v2', { ip: '192.168.0.1', port: 56324 }, { ip: '192.168.0.11', port: 443 }).toString('hex')).toBe('0d0a0d0a000d0a515549540a2111000cc0a80001c0a8000bdc0401bb');
  });

  it('mixed families are sent as IPv6 with the IPv4-mapped form', () => {
    const h = encodeProxyHeader('v1', { ip: '10.0.0.1', port: 1 }, { ip: '::1', port: 2 });
    expect(h.toString('latin1')).toBe('PROXY TCP6 ::ffff:10.0.0.1 ::1 1 2\r\n');
  });
});

describe('hostile bytes', () => {
  it('never throws; ok lengths stay within the input and the bound', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.uint8Array({ maxLength: 200 }).map((b) => Uint8Array.from([...V2_SIGNATURE, ...b])),
          fc.string({ maxLength: 120 }).map((s) => bytes(`PROXY ${s}`)),
        ),
        (b) => {
          const r = parse(b);
          if (r.kind === 'ok') {
            expect(r.length).toBeLessThanOrEqual(b.length);
            expect(r.length).toBeLessThanOrEqual(MAX_PROXY_HEADER);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
