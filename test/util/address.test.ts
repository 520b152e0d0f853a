/**
 * parseAddress: the dotted quad and the IPv6 forms without an IPv4 tail are read in one pass each
 * (exporters parse two addresses per flow record); what they accept and refuse is what the
 * regular-expression version did (the cases below were answered by it), and every address the
 * flow records write reads back to its words.
 */
import { describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/flow/key.js';
import { parseAddress } from '../../src/util/address.js';

describe('parseAddress', () => {
  it.each([
    ['10.0.0.1', [4, 0, 0, 0, 0x0a000001]],
    ['010.000.000.001', [4, 0, 0, 0, 0x0a000001]],
    ['255.255.255.255', [4, 0, 0, 0, 0xffffffff]],
    ['1.2.3.256', null],
    ['1.2.3.4.5', null],
    ['1.2.3', null],
    ['1..2.3', null],
    ['1.2.3.4 ', null],
    ['1234.1.1.1', null],
    ['', null],
    ['::', [6, 0, 0, 0, 0]],
    ['::1', [6, 0, 0, 0, 1]],
    ['FE80::ABCD:1', [6, 0xfe800000, 0, 0, 0xabcd0001]],
    ['2001:db8::8a2e:370:7334', [6, 0x20010db8, 0, 0x8a2e, 0x03707334]],
    ['1:2:3:4:5:6:7:8', [6, 0x10002, 0x30004, 0x50006, 0x70008]],
    // An empty '::' between eight groups, as the old reader took it.
    ['1:2:3:4::5:6:7:8', [6, 0x10002, 0x30004, 0x50006, 0x70008]],
    ['1:2:3:4:5:6:7:8::', [6, 0x10002, 0x30004, 0x50006, 0x70008]],
    ['1:2:3:4:5:6:7:8:9', null],
    ['1:2:3:4:5:6:7', null],
    ['::00001', null],
    ['1::2::3', null],
    [':::', null],
    [':1:2:3:4:5:6:7', null],
    ['1:2:3:4:5:6:7:', null],
    ['g::1', null],
    ['::ffff:1.2.3.4', [6, 0, 0, 0xffff, 0x01020304]],
    ['1:2:3:4:5:6:1.2.3.4', null],
  ] as const)('%j', (text, words) => {
    expect(parseAddress(text)).toEqual(words);
  });

  it('reads back every address a flow record writes', () => {
    let x = 0x2545f491;
    const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 20_000; i++) {
      // IPv6 words with runs of zero groups (where '::' goes), and IPv4.
      const w = [next(), next(), next(), next()].map((v) => (next() % 3 === 0 ? 0 : next() % 2 === 0 ? v & 0xffff : v) >>> 0);
      if (i % 2 === 0) {
        expect(parseAddress(formatAddress(4, 0, 0, 0, w[3]!))).toEqual([4, 0, 0, 0, w[3]]);
      } else {
        expect(parseAddress(formatAddress(6, w[0]!, w[1]!, w[2]!, w[3]!))).toEqual([6, ...w]);
      }
    }
  });
});
