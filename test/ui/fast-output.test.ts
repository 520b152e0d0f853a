/**
 * src/ui/fast-output.ts against Ink's own Output (the one it replaces in the bundle): on random
 * frames (styled lines, offsets, several lines per write, overlapping rows, rows outside the frame,
 * wide and zero-width characters, clips) both show the same cells; simple frames take the fast path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastOutputStats, makeFastOutput, makeFastWidestLine, visibleCells, type InkOutputClass, type StyledChar, type Transformer } from '../../src/ui/fast-output.js';

// Ink's Output and the helpers it measures and tokenizes with, as Ink resolves them.
const InkOutput = (await import('../../node_modules/ink/build/output.js')).default as unknown as InkOutputClass;
const stringWidth = (await import('../../node_modules/ink/node_modules/string-width/index.js')).default as (s: string) => number;
const tokenizer = (await import('../../node_modules/@alcalzone/ansi-tokenize/build/index.js')) as unknown as {
  tokenize(s: string): unknown[];
  styledCharsFromTokens(t: unknown[]): StyledChar[];
};
const widestLine = (await import('../../node_modules/widest-line/index.js')).default as (s: string) => number;
const styledChars = (s: string): StyledChar[] => tokenizer.styledCharsFromTokens(tokenizer.tokenize(s));
const FastOutput = makeFastOutput(InkOutput, stringWidth, styledChars);

const STYLES = [
  ['\x1b[1m', '\x1b[22m'],
  ['\x1b[2m', '\x1b[22m'],
  ['\x1b[7m', '\x1b[27m'],
  ['\x1b[31m', '\x1b[39m'],
  ['\x1b[36m', '\x1b[39m'],
] as const;
/** Mostly what the dashboard draws; sometimes what it never does (wide, zero-width, emoji, tab). */
const NARROW = 'abcXYZ 019:./-█▁▂▇▲▼✓✗›·…⏎←→↑↓─│%';
const ODD = ['漢', '\u200b', '😀', '\t', 'é', '\u0301'];

const text = fc.array(
  fc.record({
    chars: fc.array(fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...NARROW) }, { weight: 1, arbitrary: fc.constantFrom(...ODD) }), { maxLength: 12 }),
    style: fc.option(fc.constantFrom(...STYLES), { nil: undefined }),
  }),
  { maxLength: 5 },
).map((parts) => parts.map((p) => (p.style ? `${p.style[0]}${p.chars.join('')}${p.style[1]}` : p.chars.join(''))).join(''));

type Op = { kind: 'write'; x: number; y: number; lines: string[]; inverse: boolean } | { kind: 'clip'; x1: number; x2: number } | { kind: 'unclip' };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('write' as const), x: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) }), y: fc.integer({ min: -1, max: 12 }), lines: fc.array(text, { minLength: 1, maxLength: 3 }), inverse: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clip' as const), x1: fc.integer({ min: 0, max: 3 }), x2: fc.integer({ min: 4, max: 30 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unclip' as const }) },
);

/**
 * A Text's inverse transformer, per line (what the dashboard's selected line uses). Not bold: see
 * the last test for what Ink's own serializer does to an outer bold around an inner dim.
 */
const inverseLine: Transformer = (line) => (line === '' ? line : `\x1b[7m${line.replaceAll('\x1b[27m', '\x1b[27m\x1b[7m')}\x1b[27m`);

function draw(Output: InkOutputClass, ops: readonly Op[], width: number, height: number): string {
  const o = new Output({ width, height });
  for (const x of ops) {
    if (x.kind === 'write') o.write(x.x, x.y, x.lines.join('\n'), { transformers: x.inverse ? [inverseLine] : [] });
    else if (x.kind === 'clip') o.clip({ x1: x.x1, x2: x.x2, y1: undefined, y2: undefined });
    else o.unclip();
  }
  return o.get().output;
}

describe('makeFastOutput', () => {
  it('property: shows the same cells as Ink\'s Output on any frame', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 14 }), fc.integer({ min: 10, max: 40 }), fc.integer({ min: 1, max: 12 }), (ops, width, height) => {
        const ink = draw(InkOutput, ops, width, height);
        const fast = draw(FastOutput, ops, width, height);
        expect(visibleCells(fast, styledChars)).toBe(visibleCells(ink, styledChars));
        expect(fast.split('\n')).toHaveLength(ink.split('\n').length);
      }),
      { numRuns: 3000 },
    );
  });

  it('a dashboard-like frame (one styled line per row) takes the fast path: its lines as they are', () => {
    const before = fastOutputStats.fast;
    const lines = ['\x1b[1mportsniff replay demo.pcap\x1b[22m', '  SERVICE   PORT  \x1b[7mLIVE\x1b[27m', '', '▁▂▇█ ✓3 ✗1   '];
    const o = new FastOutput({ width: 40, height: 5 });
    lines.forEach((l, y) => o.write(0, y, l, { transformers: [] }));
    expect(o.get()).toEqual({ output: [...lines.slice(0, 3), '▁▂▇█ ✓3 ✗1', ''].join('\n'), height: 5 });
    expect(fastOutputStats.fast).toBe(before + 1);
  });

  it('a wide character, two writes on one row, or a clip go through Ink\'s grid', () => {
    const cases: ((o: InstanceType<InkOutputClass>) => void)[] = [
      (o) => o.write(0, 0, 'a漢b', { transformers: [] }),
      (o) => {
        o.write(0, 0, 'abcdef', { transformers: [] });
        o.write(2, 0, 'XY', { transformers: [] });
      },
      (o) => {
        o.clip({ x1: 1, x2: 3 });
        o.write(0, 0, 'abcdef', { transformers: [] });
        o.unclip();
      },
    ];
    for (const c of cases) {
      const before = fastOutputStats.slow;
      const fast = new FastOutput({ width: 10, height: 2 });
      const ink = new InkOutput({ width: 10, height: 2 });
      c(fast);
      c(ink);
      expect(fast.get()).toEqual(ink.get());
      expect(fastOutputStats.slow).toBe(before + 1);
    }
  });

  it("where Ink's own serializer drops an outer bold after an inner dim ends (SGR 22 ends both), the fast path keeps what the text says", () => {
    // chalk.bold(`${chalk.dim('a')}a`): the second a is bold.
    const line = '\x1b[1m\x1b[2ma\x1b[22m\x1b[1ma\x1b[22m';
    const fast = new FastOutput({ width: 10, height: 1 });
    const ink = new InkOutput({ width: 10, height: 1 });
    fast.write(0, 0, line, { transformers: [] });
    ink.write(0, 0, line, { transformers: [] });
    expect(fast.get().output).toBe(line);
    expect(visibleCells(line, styledChars)).toBe(`a{\x1b[1m\x1b[2m}\u0000a{\x1b[1m}`);
    // Ink 6.8 writes the second a without bold.
    expect(visibleCells(ink.get().output, styledChars)).toBe(`a{\x1b[1m\x1b[2m}\u0000a`);
  });

  it('property: widest-line by length for one-cell text measures what widest-line measures', () => {
    const fastWidest = makeFastWidestLine(widestLine, stringWidth);
    fc.assert(
      fc.property(fc.array(text, { maxLength: 4 }), (lines) => {
        const t = lines.join('\n');
        expect(fastWidest(t)).toBe(widestLine(t));
      }),
      { numRuns: 3000 },
    );
  });
});
