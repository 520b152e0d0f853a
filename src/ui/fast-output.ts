/**
 * A cheaper output stage for Ink 6.8, substituted for Ink's `build/output.js` in the dashboard's
 * bundle (scripts/bundle-dashboard.mjs).
 *
 * Ink turns every frame into a grid of one object per cell: each line is tokenized into styled
 * characters, each character measured, and each row serialized back into escape codes. At 120x40
 * that was about half of a frame's CPU (string-width, ansi-tokenize and their garbage), and on a
 * 2-core machine the dashboard's thread slows the engine's on the other core by what it burns.
 *
 * The dashboard's frames are simple: one text line per row at a known column, no clipping box, no
 * overlapping writes, every character one cell wide (view-model/text.ts makes them so). Such a
 * frame is its lines as they are, each padded to its column: no grid is needed. Anything else (a
 * clip, two writes on one row, a character that is not exactly one cell, a negative column) goes
 * through Ink's own Output unchanged, so the result is always what Ink would print
 * (test/ui/fast-output.test.ts compares the cells of both on random frames).
 */

/** What Ink's renderer calls on an Output (build/output.js). */
export interface InkOutputLike {
  write(x: number, y: number, text: string, options: { transformers: Transformer[] }): void;
  clip(clip: unknown): void;
  unclip(): void;
  get(): { output: string; height: number };
}
export type Transformer = (line: string, index: number) => string;
export type InkOutputClass = new (options: { width: number; height: number }) => InkOutputLike;

type Operation = { type: 'write'; x: number; y: number; text: string; transformers: Transformer[] } | { type: 'clip'; clip: unknown } | { type: 'unclip' };

/**
 * How often each path ran, and (with `check` on) how many fast frames differed in their cells from
 * Ink's: the bundle test turns `check` on and draws every view (test/ui/bundle.test.ts).
 */
export const fastOutputStats = { fast: 0, slow: 0, check: false, checked: 0, mismatches: 0 };

/** A styled character as Ink's tokenizer (@alcalzone/ansi-tokenize) gives it. */
export interface StyledChar {
  value: string;
  styles: { code: string }[];
}

/**
 * What a terminal shows for `output`, as a comparable string: per row, each cell's character and
 * its style codes, without the trailing blank cells (Ink trims them; nothing is drawn there).
 */
export function visibleCells(output: string, styledChars: (s: string) => StyledChar[]): string {
  const rows: string[][] = [[]];
  for (const c of styledChars(output)) {
    if (c.value === '\n') {
      rows.push([]);
      continue;
    }
    rows[rows.length - 1]!.push(`${c.value}${c.styles.length > 0 ? `{${c.styles.map((x) => x.code).sort().join('')}}` : ''}`);
  }
  return rows
    .map((r) => {
      let end = r.length;
      while (end > 0 && r[end - 1] === ' ') end--;
      return r.slice(0, end).join('\u0000');
    })
    .join('\n');
}

const ESC = 0x1b;
/** Widths of the non-ASCII characters seen so far (bounded: sanitized dashboard text has few). */
const widths = new Map<number, number>();
const MAX_WIDTHS = 4096;

/**
 * The number of cells of `line` when every visible character is exactly one cell wide (escape
 * sequences skipped), else -1 (the caller then asks string-width, as Ink does).
 */
export function oneCellWidth(line: string, stringWidth: (s: string) => number): number {
  const n = line.length;
  let cells = 0;
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c === ESC) {
      // CSI: ESC [ parameters final-byte (0x40-0x7e). Anything else: let Ink handle it.
      if (line.charCodeAt(i + 1) !== 0x5b) return -1;
      i += 2;
      while (i < n) {
        const p = line.charCodeAt(i);
        if (p >= 0x40 && p <= 0x7e) break;
        i++;
      }
      if (i >= n) return -1;
      continue;
    }
    cells++;
    if (c >= 0x20 && c < 0x7f) continue;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) return -1;
    // Surrogate pairs (emoji, CJK extensions): never on the fast path.
    if (c >= 0xd800 && c <= 0xdfff) return -1;
    let w = widths.get(c);
    if (w === undefined) {
      w = stringWidth(String.fromCharCode(c));
      if (widths.size < MAX_WIDTHS) widths.set(c, w);
    }
    if (w !== 1) return -1;
  }
  return cells;
}

/**
 * Ink measures every text node with widest-line (string-width per line: grapheme segmentation,
 * emoji and East Asian width tables), on every frame before writing it. For text whose characters
 * are all one cell that is its length; anything else is measured by widest-line itself.
 */
export function makeFastWidestLine(widestLine: (text: string) => number, stringWidth: (s: string) => number): (text: string) => number {
  return (text: string): number => {
    let widest = 0;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const w = oneCellWidth(nl < 0 ? text.slice(start) : text.slice(start, nl), stringWidth);
      if (w < 0) return widestLine(text);
      if (w > widest) widest = w;
      if (nl < 0) return widest;
      start = nl + 1;
    }
  };
}

/**
 * Builds the Output class: `InkOutput` is Ink's own (the fallback), `stringWidth` the width function
 * Ink measures with (so "one cell" means what it means to Ink), `styledChars` Ink's tokenizer (only
 * for `fastOutputStats.check`).
 */
export function makeFastOutput(InkOutput: InkOutputClass, stringWidth: (s: string) => number, styledChars?: (s: string) => StyledChar[]): InkOutputClass {
  const oneCellEach = (line: string): boolean => oneCellWidth(line, stringWidth) >= 0;

  return class FastOutput implements InkOutputLike {
    private readonly operations: Operation[] = [];
    private clipped = false;
    constructor(private readonly options: { width: number; height: number }) {}

    write(x: number, y: number, text: string, options: { transformers: Transformer[] }): void {
      if (!text) return;
      this.operations.push({ type: 'write', x, y, text, transformers: options.transformers });
    }

    clip(clip: unknown): void {
      this.clipped = true;
      this.operations.push({ type: 'clip', clip });
    }

    unclip(): void {
      this.operations.push({ type: 'unclip' });
    }

    get(): { output: string; height: number } {
      const rows = this.clipped ? null : this.rows();
      if (rows === null) {
        fastOutputStats.slow++;
        return this.ink();
      }
      fastOutputStats.fast++;
      const output = rows.join('\n');
      if (fastOutputStats.check && styledChars !== undefined) {
        fastOutputStats.checked++;
        if (visibleCells(output, styledChars) !== visibleCells(this.ink().output, styledChars)) fastOutputStats.mismatches++;
      }
      return { output, height: this.options.height };
    }

    /** Each row's text, or null when the frame needs Ink's grid. */
    private rows(): string[] | null {
      const { height } = this.options;
      const rows = new Array<string | undefined>(height);
      for (const op of this.operations) {
        if (op.type !== 'write') return null;
        if (op.x < 0 || !Number.isInteger(op.x)) return null;
        const lines = op.text.split('\n');
        // As Ink does: a line outside the frame is dropped and the next one goes to the same row.
        let offsetY = 0;
        for (let i = 0; i < lines.length; i++) {
          const y = op.y + offsetY;
          if (y < 0 || y >= height) continue;
          let line = lines[i]!;
          for (const t of op.transformers) line = t(line, i);
          if (rows[y] !== undefined || !oneCellEach(line)) return null;
          rows[y] = op.x > 0 ? ' '.repeat(op.x) + line : line;
          offsetY++;
        }
      }
      const out = new Array<string>(height);
      for (let y = 0; y < height; y++) out[y] = rows[y] === undefined ? '' : rows[y]!.trimEnd();
      return out;
    }

    private ink(): { output: string; height: number } {
      const o = new InkOutput(this.options);
      for (const op of this.operations) {
        if (op.type === 'write') o.write(op.x, op.y, op.text, { transformers: op.transformers });
        else if (op.type === 'clip') o.clip(op.clip);
        else o.unclip();
      }
      return o.get();
    }
  };
}
