/** Pipeline defaults and limits (a leaf: both pipeline modes and the CLI read them). */
import { availableParallelism } from 'node:os';

/** Most worker threads accepted (more than the host-pair buckets would leave some idle). */
export const MAX_WORKERS = 32;
/**
 * 16 chunks of 256 KiB (4 MiB in flight). Against 8 x 1 MiB on the 5M-packet reference capture with
 * `--workers 2`, 12 interleaved runs: medians 2.00-2.24 s against 2.13-2.28 s wall and 7% less CPU
 * (3.52-3.90 s against 3.78-4.20 s): a smaller chunk and its worker-local copy leave more of each
 * core's 1 MiB L2 to the flow table.
 */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;
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

