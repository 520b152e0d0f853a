/** Pipeline defaults and limits (a leaf: both pipeline modes and the CLI read them). */
import { availableParallelism } from 'node:os';

/** Most worker threads accepted (more than the host-pair buckets would leave some idle). */
export const MAX_WORKERS = 32;
/**
 * 16 chunks of 512 KiB (8 MiB in flight). 256 KiB chunks had beaten 8 x 1 MiB while the workers ran
 * every record in TypeScript (a smaller chunk and its worker-local copy left more of each core's L2
 * to the flow table). With each worker's fast path the reading thread is the bottleneck, and a
 * message per chunk and worker is a good part of its time: against 16 x 256 KiB, `--workers 2`
 * `--sequential` A/B, the 5M-packet capture 0.932 (10 rounds), the flow flood 0.954 (8), peak RSS
 * +2-4 MB (16 x 1 MiB: 0.923-0.954, +13 MB).
 */
export const DEFAULT_CHUNK_BYTES = 512 * 1024;
export const DEFAULT_POOL_CHUNKS = 16;
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 250;
/** A partly filled live chunk goes to the workers after at most this long. */
export const LIVE_FLUSH_MS = 20;

/**
 * Default --workers for a machine with `cores` cores: in-process on 2 cores or fewer, else
 * cores - 1 (one core left for the reading thread), at most 4. Measured on the 2-core reference
 * machine (docs/pipeline.md, bench/README.md): even one worker was slower than in-process there.
 */
export function defaultWorkers(cores: number = availableParallelism()): number {
  return cores <= 2 ? 0 : Math.min(4, cores - 1);
}

