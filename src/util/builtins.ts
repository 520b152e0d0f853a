/**
 * Node built-ins that only some runs use, loaded on first use instead of when the CLI starts:
 * node:http (--metrics), node:dgram (--ipfix), node:net (the addresses of --metrics, --ipfix and the
 * proxy), node:zlib (gzip captures), node:worker_threads (--workers N), node:tty (a dashboard's keys;
 * it loads node:net). A static import loads a built-in with the chunk that holds it, i.e. in every
 * run; these cost 7-9 ms together (with the sockets and streams they pull in), ~5% of `portsniff
 * replay demo.pcap --json` (bench/README.md "Start-up: built-ins on first use").
 * test/cli/startup.test.ts checks which ones a plain replay loads.
 *
 * Types come from `import type`, which loads nothing.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

let http: typeof import('node:http') | undefined;
let dgram: typeof import('node:dgram') | undefined;
let net: typeof import('node:net') | undefined;
let zlib: typeof import('node:zlib') | undefined;
let workerThreads: typeof import('node:worker_threads') | undefined;
let tty: typeof import('node:tty') | undefined;

export function nodeHttp(): typeof import('node:http') {
  return (http ??= load('node:http') as typeof import('node:http'));
}

export function nodeDgram(): typeof import('node:dgram') {
  return (dgram ??= load('node:dgram') as typeof import('node:dgram'));
}

export function nodeNet(): typeof import('node:net') {
  return (net ??= load('node:net') as typeof import('node:net'));
}

export function nodeZlib(): typeof import('node:zlib') {
  return (zlib ??= load('node:zlib') as typeof import('node:zlib'));
}

export function nodeWorkerThreads(): typeof import('node:worker_threads') {
  return (workerThreads ??= load('node:worker_threads') as typeof import('node:worker_threads'));
}

export function nodeTty(): typeof import('node:tty') {
  return (tty ??= load('node:tty') as typeof import('node:tty'));
}

/** net.isIP: 4, 6, or 0 when `text` is neither an IPv4 nor an IPv6 address. */
export function isIP(text: string): number {
  return nodeNet().isIP(text);
}
