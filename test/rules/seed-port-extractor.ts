/**
 * Finds every port number and port range a seed document mentions, so the coverage test can
 * check each one is a rule (or a documented erratum). Deliberately greedy: any free-standing
 * number 1-65535 counts as a port unless an entry of EXCLUSIONS explains why it is not. Every
 * exclusion that fires is recorded (with its line and reason) in seed-ports.json, so a reviewer
 * sees exactly what was skipped.
 *
 * Years are NOT excluded by value: 1968 is a Redis Enterprise port. Only numbers inside a date
 * pattern (ISO date, "Month [day,] year", a copyright line) are treated as years.
 */

/** Text that looks numeric but is not a port, with the reason recorded when it fires. */
export const EXCLUSIONS: readonly { readonly name: string; readonly re: RegExp; readonly reason: string }[] = [
  { name: 'ipv4', re: /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])/g, reason: 'IPv4 address (a following :port is still read)' },
  { name: 'iso-date', re: /\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b/g, reason: 'ISO date' },
  {
    name: 'month-date',
    re: /\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? (?:\d{1,2}, )?(?:19|20)\d{2}\b/g,
    reason: 'date with a month name (the year is not a port)',
  },
  { name: 'copyright', re: /(?:©|\(c\)|copyright)\s*(?:19|20)\d{2}(?:\s*[-–]\s*(?:19|20)\d{2})?/gi, reason: 'copyright year' },
  { name: 'version', re: /(?<![\w.])v?\d+\.\d+(?:\.\d+)*(?:-[0-9A-Za-z.]+)?(?![\w.])/g, reason: 'version number (dotted)' },
  { name: 'list-marker', re: /^\s*\d+\.(?=\s)/g, reason: 'ordered-list marker' },
  { name: 'port-count', re: /\b\d+-port\b/g, reason: 'a count of ports ("10-port block"), not a port' },
  { name: 'digit-suffix', re: /\bend(?:s|ing)? in \d\b/g, reason: 'a last-digit pattern ("ending in 9"), not a port' },
  {
    name: 'count',
    re: /\b\d+ (?:types?|kinds?|primary|components?|pods?|nodes?|servers?|replicas?|steps?)\b/gi,
    reason: 'a count of things, not a port',
  },
];

const NUM = String.raw`\d{1,3}(?:,\d{3})+|\d+`;

export interface ExtractedItem {
  /** "8080" or "10000-19999". */
  readonly spec: string;
  readonly lo: number;
  readonly hi: number;
  /** 1-based lines of the document where it is mentioned. */
  readonly lines: readonly number[];
}

export interface ExcludedMention {
  readonly line: number;
  readonly text: string;
  readonly reason: string;
}

export interface DocExtraction {
  readonly items: readonly ExtractedItem[];
  readonly excluded: readonly ExcludedMention[];
}

function toInt(s: string): number {
  return Number(s.replace(/,/g, ''));
}

/** Blank out a match so later patterns do not see it again (columns stay put). */
function blank(line: string, start: number, len: number): string {
  return line.slice(0, start) + ' '.repeat(len) + line.slice(start + len);
}

export function extractSeedPorts(text: string): DocExtraction {
  const lines = text.split(/\r?\n/);
  const found = new Map<string, { lo: number; hi: number; lines: Set<number> }>();
  const excluded: ExcludedMention[] = [];
  const add = (lo: number, hi: number, lineNo: number, raw: string): void => {
    if (lo < 1 || hi > 65535 || lo > hi) {
      excluded.push({ line: lineNo, text: raw, reason: 'outside 1-65535, not a port' });
      return;
    }
    const spec = lo === hi ? String(lo) : `${lo}-${hi}`;
    let e = found.get(spec);
    if (e === undefined) {
      e = { lo, hi, lines: new Set() };
      found.set(spec, e);
    }
    e.lines.add(lineNo);
  };

  // YAML front matter (page metadata: weight, ids) is not document text.
  let frontMatterEnd = 0;
  if (lines[0]?.trim() === '---') {
    const close = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
    if (close > 0) frontMatterEnd = close + 1;
  }

  lines.forEach((original, i) => {
    const lineNo = i + 1;
    let line = original;
    if (lineNo <= frontMatterEnd) {
      if (/\d/.test(line)) excluded.push({ line: lineNo, text: line.trim(), reason: 'front matter (page metadata)' });
      return;
    }
    for (const ex of EXCLUSIONS) {
      for (const m of [...line.matchAll(ex.re)]) {
        if (/\d/.test(m[0])) excluded.push({ line: lineNo, text: m[0].trim(), reason: ex.reason });
        line = blank(line, m.index, m[0].length);
      }
    }
    // "between 10,000 and 19,999"
    for (const m of [...line.matchAll(new RegExp(String.raw`\bbetween (${NUM}) and (${NUM})\b`, 'g'))]) {
      add(toInt(m[1]!), toInt(m[2]!), lineNo, m[0]);
      line = blank(line, m.index, m[0].length);
    }
    // "3333-3341", "10000–19999"
    for (const m of [...line.matchAll(new RegExp(String.raw`(?<![\w.,])(${NUM})\s*[-–]\s*(${NUM})(?![\w.])`, 'g'))]) {
      add(toInt(m[1]!), toInt(m[2]!), lineNo, m[0]);
      line = blank(line, m.index, m[0].length);
    }
    // "1007x" (10070-10079), "10xxx" (10000-10999)
    for (const m of [...line.matchAll(/(?<![\w.])(\d+)(x+)(?!\w)/g)]) {
      const scale = 10 ** m[2]!.length;
      const lo = Number(m[1]) * scale;
      add(lo, lo + scale - 1, lineNo, m[0]);
      line = blank(line, m.index, m[0].length);
    }
    // Free-standing numbers, with thousands separators ("10,000").
    for (const m of [...line.matchAll(new RegExp(String.raw`(?<![\w.,])(${NUM})(?![\w]|,\d)`, 'g'))]) {
      const n = toInt(m[1]!);
      add(n, n, lineNo, m[0]);
    }
  });

  const items = [...found.entries()]
    .map(([spec, e]) => ({ spec, lo: e.lo, hi: e.hi, lines: [...e.lines].sort((a, b) => a - b) }))
    .sort((a, b) => a.lo - b.lo || a.hi - b.hi);
  return { items, excluded };
}
