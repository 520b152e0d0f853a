/**
 * Conformance with tshark over real third-party captures (../shared/corpus, read in place).
 * For every TCP/UDP/SCTP conversation in the ref's flows_5tuple, portsniff's flows with the same
 * 5-tuple, summed, must have the same packets and bytes in each direction. Where portsniff counts
 * differently on purpose, the expectation for that file says how and why; nothing is skipped.
 */
import { describe, expect, it } from 'vitest';
import { corpusFiles, corpusPath, corpusPresent, loadRef, type RefRow } from '../helpers/corpus.js';
import { runEngineOnFile } from '../helpers/run-engine.js';
import { compareWithRef, fiveTupleKey } from '../helpers/conformance.js';

interface Expectation {
  /** Which tshark table to compare with: default preferences, or IP reassembly off. */
  compareTo: 'conv' | 'nodefrag';
  why: string;
  /** portsniff attributes later fragments to their flow: packets above tshark's, in all. */
  extraFragmentPackets?: number;
  /** Tunnelled (VXLAN) inner conversations tshark counts and portsniff does not decapsulate. */
  missingTunnelRows?: number;
  /** The file is damaged: portsniff stops with this error code after `packets` packets. */
  error?: { code: string; packets: number };
}

const DEFAULT: Expectation = { compareTo: 'conv', why: 'exact agreement' };

const EXPECTED: Record<string, Expectation> = {
  'ndpi__dns_fragmented.pcap': {
    compareTo: 'nodefrag',
    why:
      'portsniff counts every fragment of a datagram in its flow (later fragments via the fragment id); ' +
      'tshark without reassembly counts only first fragments, so portsniff is above it by exactly the 4 IPv4 + 3 IPv6 later fragments',
    extraFragmentPackets: 7,
  },
  'ndpi__fuzz-2006-06-26-2594.pcap': {
    compareTo: 'nodefrag',
    why: 'fuzzed fragments: tshark reassembles bit-flipped fragments into datagrams; portsniff does not reassemble, and none of the later fragments has a first fragment it saw',
  },
  'ndpi__ip_fragmented_garbage.pcap': {
    compareTo: 'nodefrag',
    why: 'garbage fragments: with reassembly on tshark completes a few random datagrams; without reassembly it agrees with portsniff exactly',
  },
  'ndpi__vxlan.pcap': {
    compareTo: 'conv',
    why: 'portsniff counts VXLAN frames in the outer UDP 4789 flow only; tshark also counts each frame in the inner conversation it carries',
    missingTunnelRows: 4,
  },
  'libpcap__linktype-reserved-field-not-zero.pcap': {
    compareTo: 'conv',
    why: 'reserved linktype bits set: libpcap, capinfos and tshark all refuse the file',
    error: { code: 'PSN_ERR_BAD_HEADER', packets: 0 },
  },
  'suricata__bug-6875-01_fuzz.pcap': {
    compareTo: 'conv',
    why:
      'record 2 claims 1.4 GB: libpcap stops with an error after record 1; tshark retries the file as ' +
      '"modified libpcap" and shows a second 1-byte frame that is the tail of record 1',
    error: { code: 'PSN_ERR_BAD_RECORD_LENGTH', packets: 1 },
  },
};

describe.skipIf(!corpusPresent)('conformance with tshark over ../shared/corpus', () => {
  const files = corpusFiles();

  it('finds the corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  it('every expectation names a file that exists', () => {
    for (const f of Object.keys(EXPECTED)) expect(files).toContain(f);
  });

  for (const file of files) {
    const exp = EXPECTED[file] ?? DEFAULT;
    it(`${file}: ${exp.why}`, async () => {
      const ref = loadRef(file);
      const run = await runEngineOnFile(corpusPath(file));
      if (exp.error) {
        expect(run.error?.code).toBe(exp.error.code);
        expect(run.error?.message).toContain(corpusPath(file));
        expect(run.error?.message).toMatch(/byte offset \d+/);
        expect(run.engine.packets).toBe(exp.error.packets);
      } else {
        expect(run.error).toBeNull();
        // tshark 4.0 shows pcapng custom blocks as frames (make-refs caveat 9); compare with capinfos.
        expect(run.engine.packets).toBe(ref.capinfos.packets ?? ref.frames.frames_total);
        expect(run.engine.bytes).toBe(Number(ref.capinfos['data_size'] ?? ref.frames.wire_bytes_total));
      }
      const rows: RefRow[] =
        exp.compareTo === 'nodefrag' && !ref.conv_nodefrag.same_as_conv ? ref.conv_nodefrag.flows_5tuple : ref.conv.flows_5tuple;
      const { mismatches, extraFlows } = compareWithRef(run.flows, rows);
      // portsniff never invents a conversation tshark does not have.
      expect(extraFlows).toEqual([]);

      if (exp.extraFragmentPackets !== undefined) {
        // Every difference is portsniff counting more, and the packets add up to the later fragments.
        const pk = mismatches.filter((m) => m.field.startsWith('frames'));
        expect(pk.every((m) => m.ours !== null && m.tshark !== null && m.ours > m.tshark)).toBe(true);
        expect(pk.reduce((a, m) => a + (m.ours! - m.tshark!), 0)).toBe(exp.extraFragmentPackets);
        const fragments = Number(ref.frames['ipv4_nonfirst_fragments'] ?? 0) + Number(ref.frames['ipv6_nonfirst_fragments'] ?? 0);
        expect(exp.extraFragmentPackets).toBe(fragments);
      } else if (exp.missingTunnelRows !== undefined) {
        const outer = new Set(rows.filter((r) => r.proto === 'udp' && (r.a_port === 4789 || r.b_port === 4789)).map((r) => fiveTupleKey(r.proto, r.a, r.a_port, r.b, r.b_port)));
        const missing = new Set(mismatches.map((m) => m.key));
        expect(mismatches.every((m) => m.ours === null && !outer.has(m.key))).toBe(true);
        expect(missing.size).toBe(exp.missingTunnelRows);
      } else {
        expect(mismatches).toEqual([]);
      }
    });
  }
});
