/**
 * Conformance with tshark over real third-party captures (../shared/corpus and
 * ../shared/corpus-tunnels, read in place). For every TCP/UDP/SCTP conversation in the ref's
 * flows_5tuple, portsniff's flows with the same 5-tuple, summed, must have the same packets and bytes
 * in each direction: outer and inner flows of tunnels alike (tshark counts a tunnelled frame, with its
 * whole length, in every conversation it contains, and so does portsniff). Where portsniff counts
 * differently on purpose, the expectation for that file says how and why; nothing is skipped.
 */
import { describe, expect, it } from 'vitest';
import {
  CORPUS_DIR, corpusFiles, corpusPresent, loadRef, TUNNEL_CORPUS_DIR, tunnelCorpusFiles, tunnelCorpusPresent, type RefRow,
} from '../helpers/corpus.js';
import { runEngineOnFile } from '../helpers/run-engine.js';
import { compareWithRef } from '../helpers/conformance.js';

interface Expectation {
  /** Which tshark table to compare with: default preferences, or IP reassembly off. */
  compareTo: 'conv' | 'nodefrag';
  why: string;
  /** portsniff attributes later fragments to their flow: packets above tshark's, in all. */
  extraFragmentPackets?: number;
  /** Inner flows (seen through an encapsulation) portsniff must find among the compared ones: at least this many. */
  innerFlows?: number;
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
    why: 'VXLAN on 4789: every frame counts in its outer UDP flow and in the inner TCP/DNS flow, as in tshark',
    innerFlows: 4,
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

/**
 * The tunnel corpus: every file agrees exactly, inner and outer conversations alike (counting and
 * README notes in ../shared/corpus-tunnels/README.md). `innerFlows` says how many of tshark's rows are
 * reached only through an encapsulation (the README's "inner" column), so a file cannot pass with its
 * tunnels left closed.
 */
const TUNNEL_EXPECTED: Record<string, Expectation> = {
  'zeek__vxlan-encapsulated-http.pcap': { compareTo: 'conv', why: 'VXLAN 4789: outer UDP flow and inner HTTP flow', innerFlows: 1 },
  'tcpdump__geneve.pcap': { compareTo: 'conv', why: 'Geneve 6081 with options: 4 outer UDP flows, inner SSH', innerFlows: 1 },
  'zeek__gre-sample.pcap': { compareTo: 'conv', why: 'GRE v0 carrying IPv4 (TCP, UDP, ICMP errors quoting UDP: credited, not counted)', innerFlows: 5 },
  'pcapplusplus__GrePackets.pcap': { compareTo: 'conv', why: 'GRE v0/v1, key, TEB, GRE-in-GRE, PPTP in 4in6; PPP CCP is not a flow', innerFlows: 3 },
  'tcpdump__erspan-type-ii-2.pcap': { compareTo: 'conv', why: 'ERSPAN type II: mirrored HSRP flows', innerFlows: 4 },
  'suricata__bug-4571-01.pcap': { compareTo: 'conv', why: '4in4', innerFlows: 1 },
  'pcapplusplus__Ftp.pcap': { compareTo: 'conv', why: 'plain FTP and FTP over 6in4', innerFlows: 1 },
  'suricata__bug-4571-06.pcap': { compareTo: 'conv', why: '4in6', innerFlows: 1 },
  'suricata__bug-4571-03.pcap': { compareTo: 'conv', why: '6in6', innerFlows: 1 },
  'zeek__mpls-in-vlan.pcap': { compareTo: 'conv', why: 'MPLS stacks of 1 and 2 labels in 802.1Q, and one plain 802.1Q flow', innerFlows: 2 },
  'suricata__pppoe-session-http.pcap': { compareTo: 'conv', why: 'PPPoE session with a compressed PPP protocol field', innerFlows: 1 },
  'tcpdump__nflog.pcap': { compareTo: 'conv', why: 'NFLOG link type: the TLV walk finds the logged DNS responses (a link type, not a tunnel)', innerFlows: 0 },
  'ndpi__teredo.pcap': { compareTo: 'conv', why: 'Teredo 3544: only ICMPv6 inside (no inner TCP/UDP rows); 2 frames are plain UDP', innerFlows: 0 },
  'zeek__gtp6_gtp_0x32.pcap': { compareTo: 'conv', why: 'GTP-U with a sequence number: outer UDP 2152 and inner TCP', innerFlows: 1 },
  'zeek__gre-pptp.pcap': { compareTo: 'conv', why: 'nested: 4in6, PPTP GREv1 (call ids differ per direction), PPP, DNS: one inner flow', innerFlows: 1 },
  'zeek__vxlan-triple-v2.pcap': { compareTo: 'conv', why: 'three nested VXLAN headers: outer, two intermediate and the inner DNS flow', innerFlows: 3 },
};

function conformanceCase(dir: string, file: string, exp: Expectation): () => Promise<void> {
  return async () => {
    const ref = loadRef(file, dir);
    const run = await runEngineOnFile(dir + file);
    if (exp.error) {
      expect(run.error?.code).toBe(exp.error.code);
      expect(run.error?.message).toContain(dir + file);
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
    } else {
      expect(mismatches).toEqual([]);
    }
    if (exp.innerFlows !== undefined) {
      const inner = run.flows.filter((f) => f.tunnel !== undefined && ['tcp', 'udp', 'sctp'].includes(f.transport));
      expect(inner.length).toBeGreaterThanOrEqual(exp.innerFlows);
      if (exp.innerFlows === 0) expect(inner).toEqual([]);
    }
  };
}

describe.skipIf(!tunnelCorpusPresent)('conformance with tshark over ../shared/corpus-tunnels', () => {
  const files = tunnelCorpusFiles();

  it('finds the tunnel corpus, and every file has its expectation', () => {
    expect(files.length).toBeGreaterThanOrEqual(16);
    expect(Object.keys(TUNNEL_EXPECTED).sort()).toEqual(files);
  });

  for (const file of files) {
    const exp = TUNNEL_EXPECTED[file] ?? DEFAULT;
    it(`${file}: ${exp.why}`, conformanceCase(TUNNEL_CORPUS_DIR, file, exp));
  }
});

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
    it(`${file}: ${exp.why}`, conformanceCase(CORPUS_DIR, file, exp));
  }
});
