/**
 * How the built CLI's CommonJS chunks import an ES module (the dashboard's bundle): through a
 * function the entry's code cache loader (code-cache.ts) registers. A function a chunk compiled
 * from a V8 code cache made by another process cannot import() in Node 20 ("A dynamic import
 * callback was not specified"), and a vm.Script without that callback cannot import() at all.
 */

/** A global symbol: the loader's copy of this module and a chunk's bundled copy find the same slot. */
const ESM_IMPORTER = Symbol.for('portsniff.esmImporter');

export type EsmImporter = (url: string) => Promise<unknown>;

/** Registers `importer` for the chunks this thread loads (code-cache.ts). */
export function setEsmImporter(importer: EsmImporter): void {
  (globalThis as Record<symbol, unknown>)[ESM_IMPORTER] = importer;
}

/** The registered importer, or null outside the built CLI (sources, tsc's modules: import() works there). */
export function esmImporter(): EsmImporter | null {
  const f = (globalThis as Record<symbol, unknown>)[ESM_IMPORTER];
  return typeof f === 'function' ? (f as EsmImporter) : null;
}
