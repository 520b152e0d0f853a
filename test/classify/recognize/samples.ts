/** Loads the committed real-byte samples (data/samples.json, made by data/generate-samples.ts). */
import { readFileSync } from 'node:fs';
import type { Sample } from './data/capture.js';

export interface LoadedSample extends Sample {
  bytes: Uint8Array;
}

let cache: LoadedSample[] | null = null;

export function samples(): LoadedSample[] {
  if (cache === null) {
    const j = JSON.parse(readFileSync(new URL('./data/samples.json', import.meta.url), 'utf8')) as { samples: Sample[] };
    cache = j.samples.map((s) => ({ ...s, bytes: new Uint8Array(Buffer.from(s.hex, 'hex')) }));
  }
  return cache;
}

export function sample(name: string): LoadedSample {
  const s = samples().find((x) => x.name === name);
  if (s === undefined) throw new Error(`no sample named ${name} in data/samples.json`);
  return s;
}

export const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
export const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
export const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
