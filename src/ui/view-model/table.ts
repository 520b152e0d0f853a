/**
 * Fixed-width table columns. A layout is a list of columns with widths chosen for the terminal
 * width; one flexible column takes what is left. Cells are fitted (cut with '…' or padded), so every
 * row is exactly as wide as the header.
 */
import { fit, fitRight } from './text.js';
import { span, type Span, type Tone } from './lines.js';

export interface Column<Id extends string = string> {
  id: Id;
  title: string;
  width: number;
  align: 'left' | 'right';
}

/** A column as a layout asks for it: a minimum width, how far it may grow, when to drop it. */
export interface ColumnSpec<Id extends string = string> extends Column<Id> {
  /** Grows up to this width when there is room (in list order); default: fixed. */
  max?: number;
  /** Dropped when the row does not fit: higher first; never when absent. */
  drop?: number;
}

/**
 * Column widths for a row of `width` cells: droppable columns go (highest `drop` first) until the
 * minimums fit, then the spare cells go to growable columns in order. Rows of a too-narrow terminal
 * are cut by the line helpers.
 */
export function layoutColumns<Id extends string>(width: number, specs: ReadonlyArray<ColumnSpec<Id>>, prefix = 2): Column<Id>[] {
  const list = [...specs];
  const need = (): number => prefix + list.reduce((n, c) => n + c.width, 0) + Math.max(0, list.length - 1);
  while (need() > width) {
    let victim = -1;
    for (let i = 0; i < list.length; i++) {
      const d = list[i]!.drop;
      if (d !== undefined && (victim < 0 || d > list[victim]!.drop!)) victim = i;
    }
    if (victim < 0) break;
    list.splice(victim, 1);
  }
  let extra = Math.max(0, width - need());
  return list.map((c) => {
    const add = c.max === undefined ? 0 : Math.min(extra, Math.max(0, c.max - c.width));
    extra -= add;
    return { id: c.id, title: c.title, width: c.width + add, align: c.align };
  });
}

/** The header row: titles (with a sort marker where given) fitted to each column. */
export function headerSpans<Id extends string>(cols: ReadonlyArray<Column<Id>>, marker: Partial<Record<Id, string>>, prefix = 2): Span[] {
  const parts = cols.map((c) => {
    const t = `${c.title}${marker[c.id] ?? ''}`;
    return c.align === 'right' ? fitRight(t, c.width) : fit(t, c.width);
  });
  return [span(' '.repeat(prefix) + parts.join(' '), 'header')];
}

/** One row: cell text per column id, fitted; `tones` colours single cells. */
export function rowSpans<Id extends string>(
  cols: ReadonlyArray<Column<Id>>,
  cells: Partial<Record<Id, string>>,
  tones: Partial<Record<Id, Tone>> = {},
  prefix = '  ',
): Span[] {
  const spans: Span[] = [span(prefix)];
  cols.forEach((c, i) => {
    const t = cells[c.id] ?? '';
    const fitted = c.align === 'right' ? fitRight(t, c.width) : fit(t, c.width);
    const tone = tones[c.id] ?? 'normal';
    const sep = i === 0 ? '' : ' ';
    const last = spans[spans.length - 1]!;
    if (tone === 'normal' && last.tone === 'normal') last.text += sep + fitted;
    else {
      if (sep !== '') last.text += sep;
      spans.push(span(fitted, tone));
    }
  });
  return spans;
}
