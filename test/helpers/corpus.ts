/** Access to the shared third-party capture corpus (read in place, never copied into the repo). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));
export const corpusPresent = existsSync(CORPUS_DIR);

if (!corpusPresent) {
  console.warn(`[portsniff tests] corpus not found at ${CORPUS_DIR}: corpus conformance tests are SKIPPED`);
}

/** The tunnelled-capture corpus (VXLAN, Geneve, GRE, ERSPAN, IP-in-IP, MPLS, PPPoE, NFLOG, Teredo, GTP-U). */
export const TUNNEL_CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus-tunnels/', import.meta.url));
export const tunnelCorpusPresent = existsSync(TUNNEL_CORPUS_DIR);

if (!tunnelCorpusPresent) {
  console.warn(`[portsniff tests] tunnel corpus not found at ${TUNNEL_CORPUS_DIR}: tunnel conformance tests are SKIPPED`);
}

/** Captures of the tunnel corpus, sorted. */
export function tunnelCorpusFiles(): string[] {
  if (!tunnelCorpusPresent) return [];
  return readdirSync(TUNNEL_CORPUS_DIR)
    .filter((f) => !/\.(json|md|txt|js)$/.test(f))
    .sort();
}

export function corpusFiles(): string[] {
  if (!corpusPresent) return [];
  return readdirSync(CORPUS_DIR)
    .filter((f) => !/\.(json|md|txt|js)$/.test(f))
    .sort();
}

export interface RefRow {
  proto: 'tcp' | 'udp' | 'sctp';
  a: string;
  a_port: number;
  b: string;
  b_port: number;
  frames_a_to_b: number;
  frames_b_to_a: number;
  bytes_a_to_b: number | null;
  bytes_b_to_a: number | null;
}

export interface CorpusRef {
  file: string;
  header: Record<string, unknown>;
  capinfos: { exit_status: number; packets?: number; stderr?: string } & Record<string, unknown>;
  frames: Record<string, unknown> & { frames_total: number; wire_bytes_total: number };
  conv: { flows_5tuple: RefRow[] };
  conv_nodefrag: { same_as_conv: true } | { same_as_conv: false; flows_5tuple: RefRow[] };
}

export function loadRef(file: string, dir: string = CORPUS_DIR): CorpusRef {
  return JSON.parse(readFileSync(join(dir, `${file}.ref.json`), 'utf8')) as CorpusRef;
}

export function corpusPath(file: string): string {
  return join(CORPUS_DIR, file);
}
