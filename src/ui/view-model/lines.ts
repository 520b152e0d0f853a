/**
 * Screen lines as data: a line is a list of spans, each with a tone (title, dim, alert, ...). The
 * layout functions produce lines of exactly the width they are given, so the components only map
 * tones to Ink styles (one <Text> per line: the cheapest frame Ink can draw), and tests can read a
 * whole screen without React.
 */
export type Tone = 'normal' | 'title' | 'dim' | 'group' | 'alert' | 'warn' | 'ok' | 'badge' | 'key' | 'header';

export interface Span {
  text: string;
  tone: Tone;
}

export interface Line {
  spans: Span[];
  /** The selected row (drawn inverted; it also carries a '>' marker). */
  selected?: boolean;
}

export function span(text: string, tone: Tone = 'normal'): Span {
  return { text, tone };
}

export function line(...spans: Span[]): Line {
  return { spans };
}

export function text(l: Line): string {
  return l.spans.map((s) => s.text).join('');
}

export function lineWidth(l: Line): number {
  let w = 0;
  for (const s of l.spans) w += s.text.length;
  return w;
}

/** The line cut to `width` cells (spans after the cut are dropped). */
export function clipLine(l: Line, width: number): Line {
  const w = Math.max(0, Math.floor(width));
  if (lineWidth(l) <= w) return l;
  const spans: Span[] = [];
  let left = w;
  for (const s of l.spans) {
    if (left <= 0) break;
    if (s.text.length <= left) {
      spans.push(s);
      left -= s.text.length;
    } else {
      spans.push({ text: left === 1 ? '…' : `${s.text.slice(0, left - 1)}…`, tone: s.tone });
      left = 0;
    }
  }
  return { ...l, spans };
}

/** The line padded with spaces to `width` (selected rows are inverted across the whole width). */
export function padLine(l: Line, width: number): Line {
  const c = clipLine(l, width);
  const w = lineWidth(c);
  return w >= width ? c : { ...c, spans: [...c.spans, span(' '.repeat(width - w))] };
}

/** Two spans lists, the second right-aligned on the same line when there is room. */
export function leftRight(left: Span[], right: Span[], width: number): Line {
  const lw = left.reduce((n, s) => n + s.text.length, 0);
  const rw = right.reduce((n, s) => n + s.text.length, 0);
  if (lw + 1 + rw > width) {
    // The right part (badges) wins: the left is cut to make room.
    if (rw + 1 >= width) return clipLine({ spans: right }, width);
    const l = clipLine({ spans: left }, width - rw - 1);
    return { spans: [...l.spans, span(' '.repeat(width - rw - lineWidth(l))), ...right] };
  }
  return { spans: [...left, span(' '.repeat(width - lw - rw)), ...right] };
}
