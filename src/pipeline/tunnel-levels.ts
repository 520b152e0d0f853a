/**
 * The flow packets inside a tunnelled frame (levels 1, 2, ... of decode/decoder.ts), after its own
 * packet (level 0) was processed: each is decoded with PacketDecoder.next() and put in its flow like
 * any packet, with the frame's ordinal, time and wire length (tshark counts a tunnelled frame, whole,
 * in every conversation it contains).
 *
 * With worker threads (`shard`), a level belongs to the worker of its own host pair (shard.ts
 * levelOwner), which may not be the frame's: every worker decodes tunnelled records (they are
 * SLOW_BUCKET) and processes the levels it owns; the ICMP errors inside tunnels are credited by the
 * worker owning the quoted pair, as at level 0.
 */
import type { PacketDecoder } from '../decode/decoder.js';
import { DecodeStatus, type DecodedPacket } from '../decode/types.js';
import type { FlowTable } from '../flow/table.js';
import { levelOwner, quoteOwner } from './shard.js';

/** This worker and how many there are. */
export interface LevelShard {
  index: number;
  workers: number;
}

/**
 * Processes the levels after the one the decoder holds. `anomalies`: the global counters to add each
 * level's anomaly to (null: another worker counts them, the one owning the frame level).
 */
export function processInnerLevels(
  decoder: PacketDecoder, table: FlowTable, anomalies: Float64Array | null, shard: LevelShard | null,
  ordinal: number, tsSec: number, tsNsec: number, wireLen: number, buf: Uint8Array,
): void {
  for (let p: DecodedPacket | null = decoder.next(); p !== null; p = decoder.next()) {
    if (anomalies !== null && p.anomaly !== 0) anomalies[p.anomaly]!++;
    if (p.status === DecodeStatus.NotIp || p.ipVersion === 0) continue;
    if (p.quotedValid && (shard === null || quoteOwner(p, shard.workers) === shard.index)) table.creditQuoted(p);
    if (shard === null || levelOwner(p, shard.workers) === shard.index) table.process(p, ordinal, tsSec, tsNsec, wireLen, buf);
  }
}
