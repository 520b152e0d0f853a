/**
 * Capture-layer contracts. Readers (pcap, pcapng, live) push records into a FrameSink; there is no
 * per-packet object: a record is described by numbers plus a view into a reused chunk buffer.
 */

/** LINKTYPE_* values (https://www.tcpdump.org/linktypes.html) that portsniff decodes. */
export const LinkType = {
  NULL: 0, // BSD loopback, host-byte-order AF_ value
  ETHERNET: 1,
  RAW: 101, // raw IPv4/IPv6 (version nibble decides)
  IEEE802_11: 105,
  LOOP: 108, // OpenBSD loopback, network-byte-order AF_ value
  LINUX_SLL: 113,
  IEEE802_11_RADIOTAP: 127,
  PKTAP: 258,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239, // Linux netfilter log messages (TLVs around the logged IP packet)
  LINUX_SLL2: 276,
} as const;

/** What FrameSink.takeRecords() is offered. */
export const RecordFormat = {
  /** pcap records, timestamps in microseconds. */
  PcapUsec: 0,
  /** pcap records, timestamps in nanoseconds. */
  PcapNsec: 1,
  /** pcapng blocks (one little-endian section). */
  Pcapng: 2,
} as const;
export type RecordFormat = (typeof RecordFormat)[keyof typeof RecordFormat];

/**
 * What the Enhanced Packet Blocks of one pcapng interface are to FrameSink.takeRecords(): Ethernet
 * frames or Linux cooked ones (SLL, SLL2: a capture on Linux's "any"), with timestamps in
 * microseconds or in nanoseconds (if_tsresol 6 or 9) and no if_tsoffset, which it may take; anything
 * else goes through frame(). The link type's kinds come in pairs, microseconds first.
 */
export const BulkInterface = { None: 0, EthernetUsec: 1, EthernetNsec: 2, SllUsec: 3, SllNsec: 4, Sll2Usec: 5, Sll2Nsec: 6 } as const;
export type BulkInterface = (typeof BulkInterface)[keyof typeof BulkInterface];
/** Interface ids FrameSink.pcapngInterfaces() describes (0 .. BULK_INTERFACES - 1). */
export const BULK_INTERFACES = 256;

/**
 * Receives every packet record, in file order.
 *
 * `buf` is only valid during the call (the reader reuses it); `offset`/`capLen` locate the captured
 * bytes. Timestamps are exact: whole seconds since the epoch plus nanoseconds (0..999_999_999).
 */
export interface FrameSink {
  frame(
    buf: Uint8Array,
    offset: number,
    capLen: number,
    origLen: number,
    tsSec: number,
    tsNsec: number,
    linkType: number,
    interfaceId: number,
  ): void;
  /**
   * Optional: called after the records lying in buf[start, end) have all been delivered, before the
   * reader reuses that region. A batching sink copies the region in one memcpy here.
   */
  flushChunk?(buf: Uint8Array, start: number, end: number): void;
  /**
   * Optional: takes a run of whole records from buf[p, end) at once, as many as it can from `p`, and
   * returns where the first record it did not take starts (p: none). The reader delivers that one
   * through frame(), then `recordsBeforeOffer` more, and offers again. `recordsTaken` is set to the
   * number taken. (The engine's WebAssembly fast path: pipeline/fast-path.ts.)
   * - RecordFormat.PcapUsec / PcapNsec: little-endian pcap records of link type `linkType`, none
   *   longer than `maxCapLen`.
   * - RecordFormat.Pcapng: the blocks of a little-endian pcapng section, whose interfaces the last
   *   pcapngInterfaces() call described (`maxCapLen` and `linkType` are not used); only Enhanced
   *   Packet Blocks the reader would deliver as they are can be taken.
   */
  takeRecords?(buf: Uint8Array, p: number, end: number, format: RecordFormat, maxCapLen: number, linkType: number): number;
  recordsTaken?: number;
  recordsBeforeOffer?: number;
  /**
   * Optional, with takeRecords(): the interfaces of the pcapng section being read, by interface id
   * (BULK_INTERFACES entries, BulkInterface values; ids past the end are BulkInterface.None). The
   * reader calls it at every section header and interface description block, before it offers
   * that section's blocks; `kinds` is only valid during the call.
   */
  pcapngInterfaces?(kinds: Uint8Array): void;
  /** Optional: a buffer of `bytes` for the reader to read into (one takeRecords() can take records from), or null. */
  readBuffer?(bytes: number): Uint8Array | null;
}

export interface CaptureInterface {
  /** Index in the file (pcapng: IDB order within the section, numbered across sections). */
  id: number;
  linkType: number;
  snaplen: number;
  name?: string;
  description?: string;
  /** Timestamp units per second (pcap: 1e6 or 1e9; pcapng: from if_tsresol). */
  tsUnitsPerSecond: number;
  /** Interface statistics from the last ISB, if the file has one. */
  stats?: { received?: number; droppedByInterface?: number; droppedByOs?: number; filterAccepted?: number; delivered?: number };
}

export interface CaptureInfo {
  /** null until a file header was recognised (e.g. a file that is not a capture). */
  format: 'pcap' | 'pcapng' | null;
  /** Byte order of the (last) section. */
  byteOrder: 'little' | 'big' | null;
  /** pcap only: 'micro' | 'nano'. */
  tsPrecision?: 'micro' | 'nano';
  /** pcap only: version numbers from the header. */
  version?: string;
  /** Number of pcapng sections (1 for pcap). */
  sections: number;
  interfaces: CaptureInterface[];
}

export interface CaptureReadResult {
  info: CaptureInfo;
  /** Records delivered to the sink. */
  packets: number;
  /** Bytes of the (decompressed) capture stream consumed. */
  bytesRead: number;
  /** Blocks skipped because their type is unknown or irrelevant (pcapng). */
  skippedBlocks: number;
  /**
   * Set when the file ended inside a record: the packets before it were delivered. A warning, not a
   * failure: tools report it and go on.
   */
  truncated?: { offset: number; message: string };
  /** True when reading stopped early because the caller's AbortSignal fired (not an error). */
  aborted?: boolean;
  /** Live captures only: what the backend and the kernel say about the capture (docs/live-capture.md). */
  live?: LiveStats;
}

/** Live capture counters while capturing (null = the backend cannot know, or has not said yet). */
export interface LiveCounters {
  captured: number;
  droppedByKernel: number | null;
  droppedByInterface: number | null;
  /** Records the engine could not take (every chunk busy) or that never reached it. */
  engineDrops: number;
}

/**
 * Counters of a live capture. `null` means "unknown" (the backend cannot tell), never 0: the `cap`
 * backend has no drop statistics at all.
 */
export interface LiveStats {
  /** Which backend captured: an external tcpdump process or the in-process libpcap binding. */
  backend: 'tcpdump' | 'cap';
  interface: string;
  /** LINKTYPE_* of the capture (-1 if the capture ended before the link type was known). */
  linkType: number;
  /** Effective snapshot length (bytes kept per packet). */
  snaplen: number;
  /** Packets delivered to the pipeline (not the kernel's "received by filter": on lo it counts each packet twice). */
  captured: number;
  /** Packets the kernel dropped because its buffer was full (ps_drop); null = unknown. */
  droppedByKernel: number | null;
  /** Packets the interface/driver dropped (ps_ifdrop); null = unknown. */
  droppedByInterface: number | null;
  /** Packets the backend captured that never reached the pipeline (tcpdump's count minus ours). */
  engineDrops: number;
  /** Wall-clock seconds from the start of capture to its end. */
  elapsedSec: number;
  /** Caveats that apply to these numbers (lo double counting, cap's missing statistics, ...). */
  notes: string[];
}
