import { describe, expect, it } from 'vitest';
import { extractSeedPorts } from './seed-port-extractor.js';

const specs = (text: string): string[] => extractSeedPorts(text).items.map((i) => i.spec);
const reasons = (text: string): string[] => extractSeedPorts(text).excluded.map((e) => `${e.text} => ${e.reason}`);

describe('seed port extractor', () => {
  it('reads plain ports, ranges, lists and table cells with their lines', () => {
    const r = extractSeedPorts('| TCP | 3333-3341, 3343-3344, 36379 | x |\nport 8443 and [8080](#anchor)\n');
    expect(r.items).toEqual([
      { spec: '3333-3341', lo: 3333, hi: 3341, lines: [1] },
      { spec: '3343-3344', lo: 3343, hi: 3344, lines: [1] },
      { spec: '8080', lo: 8080, hi: 8080, lines: [2] },
      { spec: '8443', lo: 8443, hi: 8443, lines: [2] },
      { spec: '36379', lo: 36379, hi: 36379, lines: [1] },
    ]);
  });

  it('understands thousands separators, "between X and Y" and digit-x wildcards', () => {
    expect(specs('ports (between 10,000 and 19,999) by default')).toEqual(['10000-19999']);
    expect(specs('a 10,000 port')).toEqual(['10000']);
    expect(specs('- 1007x: Edge Gateway, the 10xxx range')).toEqual(['10000-10999', '10070-10079']);
  });

  it('keeps the port after an IP address, drops the address', () => {
    expect(specs('listens on 127.0.0.1:9999 and "192.168.1.2:10071"')).toEqual(['9999', '10071']);
    expect(reasons('on 10.0.0.1')).toEqual(['10.0.0.1 => IPv4 address (a following :port is still read)']);
  });

  it('does not mistake versions, dates, list markers or counts for ports', () => {
    expect(specs('Requires v1.30.2 or 2.9, released 2024-05-01, March 3, 2023, © 2021-2024')).toEqual([]);
    expect(specs('1. Allow public access\n2. Restrict')).toEqual([]);
    expect(specs('Each service gets a 10-port block; ports ending in 9; ports always end in 9; 3 types of ports')).toEqual([]);
    expect(reasons('3 types of ports')).toEqual(['3 types => a count of things, not a port']);
  });

  it('does not drop port numbers that look like years', () => {
    expect(specs('| TCP | 1968 | Internal | Proxy traffic |')).toEqual(['1968']);
    expect(specs('port 2024 in the year-ish range')).toEqual(['2024']);
  });

  it('skips front matter but records it', () => {
    const r = extractSeedPorts('---\ntitle: x\nweight: 35\n---\nport 80\n');
    expect(r.items.map((i) => [i.spec, i.lines])).toEqual([['80', [5]]]);
    expect(r.excluded).toEqual([{ line: 3, text: 'weight: 35', reason: 'front matter (page metadata)' }]);
  });

  it('ignores digits inside identifiers and rejects out-of-range numbers', () => {
    expect(specs('use h2, ipv4, x509, v3 and ZEEBE_PORT2')).toEqual([]);
    expect(specs('value 70000')).toEqual([]);
    expect(reasons('value 70000')).toEqual(['70000 => outside 1-65535, not a port']);
  });
});
