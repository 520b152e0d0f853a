/**
 * The coverage view as lines: a summary line, the busiest server ports no rule documents (with the
 * payload seen, and the rules that document a product protocol found there), then the documented
 * rules no flow used yet, grouped by product; a note at the bottom says what "seen" means (it
 * differs while running and in the final report), always in view.
 */
import type { CoverageModel, UnknownPortItem, UnseenRuleItem } from './coverage.js';
import { formatBytes, formatCount } from './format.js';
import { line, padLine, span, type Line, type Tone } from './lines.js';
import { windowStart } from './services-lines.js';
import { headerSpans, layoutColumns, rowSpans, type Column, type ColumnSpec } from './table.js';
import { wrap } from './text.js';

type PortCol = 'port' | 'flows' | 'packets' | 'bytes' | 'payload';
type RuleCol = 'rule' | 'ports' | 'component';

function portColumns(width: number, final: boolean): Column<PortCol>[] {
  const c = (id: PortCol, title: string, w: number, align: 'left' | 'right', extra: { max?: number; drop?: number } = {}): ColumnSpec<PortCol> => ({ id, title, width: w, align, ...extra });
  return layoutColumns(width, [
    c('port', 'PORT', 10, 'left'),
    c('flows', final ? 'FLOWS' : 'LIVE/ALL', 9, 'right'),
    c('packets', 'PKTS', 7, 'right', { drop: 2 }),
    c('bytes', 'BYTES', 8, 'right', { drop: 1 }),
    c('payload', final ? 'PAYLOAD (FLOWS)' : 'PAYLOAD SEEN', 12, 'left', { max: 400 }),
  ]);
}

function ruleColumns(width: number): Column<RuleCol>[] {
  const c = (id: RuleCol, title: string, w: number, align: 'left' | 'right', extra: { max?: number; drop?: number } = {}): ColumnSpec<RuleCol> => ({ id, title, width: w, align, ...extra });
  return layoutColumns(width, [c('rule', 'RULE', 28, 'left', { max: 40 }), c('ports', 'PORTS', 14, 'left', { max: 24 }), c('component', 'COMPONENT', 10, 'left', { max: 200, drop: 1 })]);
}

/** What was recognised on the port, then which rules document a product protocol seen there. */
export function payloadText(p: UnknownPortItem): string {
  const parts = [p.payload === '' ? '-' : p.payload];
  for (const d of p.documented) parts.push(`${d.protocol} is documented for ${d.rules.join(', ')}`);
  return parts.join(' · ');
}

/** The line above the sections: how much of what is documented was seen. */
export function coverageSummary(m: CoverageModel): string {
  if (m.rulesOff) return 'rules are off (--no-rules): nothing is documented, nothing to cover';
  if (m.final) return `final report: ${m.portSpecsUnseen} of ${m.portSpecs} documented ports and ranges saw no flow (${m.rules} rules)`;
  return `${m.seenRules} of ${m.rules} documented rules have flows so far, ${m.rules - m.seenRules} not yet`;
}

/** What "seen" means, in the view (it differs while running and in the final report). */
export function coverageNote(m: CoverageModel): string {
  if (m.final) return 'seen: a classified flow used a port inside the documented port or range, whatever rule it matched';
  return 'seen: a flow was classified to the rule (or tied for it); several ports or a range count as seen once one had a flow. The final report checks each port and range.';
}

export interface CoverageScreen {
  body: Line[];
  totalLines: number;
  firstLine: number;
}

export function coverageScreen(m: CoverageModel, opts: { width: number; height: number; selected: string | null }): CoverageScreen {
  const { width } = opts;
  const height = Math.max(0, opts.height);
  const out: Array<{ key: string | null; line: Line }> = [];
  const add = (l: Line, key: string | null = null): void => {
    out.push({ key, line: padLine(l, width) });
  };
  const sticky: Line[] = [padLine(line(span(coverageSummary(m), 'title')), width)];
  if (!m.rulesOff) for (const l of wrap(coverageNote(m), Math.max(10, width - 2), 2)) sticky.push(padLine(line(span(`  ${l}`, 'dim')), width));

  if (!m.rulesOff) {
    const portCols = portColumns(width, m.final);
    const listed = m.unknownPortCount === null ? `${m.unknown.length} listed` : m.unknownPortCount > m.unknown.length ? `${m.unknown.length} of ${m.unknownPortCount}` : String(m.unknownPortCount);
    add(line(span(`server ports no rule documents (${listed}), busiest first`, 'group')));
    add({ spans: headerSpans(portCols, {}) });
    for (const p of m.unknown) {
      const selected = p.key === opts.selected;
      const cells: Partial<Record<PortCol, string>> = {
        port: `${p.transport}/${p.port}`,
        flows: p.liveFlows === null ? formatCount(p.flows) : `${formatCount(p.liveFlows).trim()}/${formatCount(p.flows).trim()}`,
        packets: p.packets === null ? '-' : formatCount(p.packets),
        bytes: formatBytes(p.bytes),
        payload: payloadText(p),
      };
      const tones: Partial<Record<PortCol, Tone>> = p.documented.length > 0 ? { payload: 'warn' } : {};
      out.push({ key: p.key, line: { ...padLine({ spans: rowSpans(portCols, cells, tones, selected ? '> ' : '  ') }, width), selected } });
    }
    if (m.unknown.length === 0) add(line(span(m.total > 0 && m.shown < m.total ? '  none matches the filter' : m.final ? '  none: every server port with flows is documented' : '  none so far', 'dim')));

    const ruleCols = ruleColumns(width);
    const what = m.final ? `documented ports and ranges no flow used (${m.unseen.length} rule${m.unseen.length === 1 ? '' : 's'})` : `documented, no flow yet (${m.unseen.length} rule${m.unseen.length === 1 ? '' : 's'})`;
    add(line(span('')));
    add(line(span(what, 'group')));
    add({ spans: headerSpans(ruleCols, {}) });
    let product: string | null = null;
    const perProduct = new Map<string, number>();
    for (const u of m.unseen) perProduct.set(u.product, (perProduct.get(u.product) ?? 0) + 1);
    for (const u of m.unseen) {
      if (u.product !== product) {
        product = u.product;
        add(line(span(`  ${product} (${perProduct.get(product)})`, 'title')));
      }
      out.push({ key: u.key, line: ruleLine(u, ruleCols, width, u.key === opts.selected) });
    }
    if (m.unseen.length === 0) add(line(span(m.total > 0 && m.shown < m.total ? '  none matches the filter' : '  none: every documented rule has flows', 'dim')));
  }

  const stickyShown = sticky.slice(0, Math.max(0, Math.min(sticky.length, height - 1)));
  const scrollHeight = height - stickyShown.length;
  const selIndex = out.findIndex((b) => b.key !== null && b.key === opts.selected);
  const first = windowStart(selIndex, out.length, scrollHeight);
  const window = out.slice(first, first + scrollHeight).map((b) => b.line);
  // The summary and the note stay at the bottom, always in view.
  while (window.length < scrollHeight) window.push(padLine(line(span('')), width));
  return { body: [...window, ...stickyShown], totalLines: out.length + stickyShown.length, firstLine: first };
}

function ruleLine(u: UnseenRuleItem, cols: Column<RuleCol>[], width: number, selected: boolean): Line {
  const cells: Partial<Record<RuleCol, string>> = { rule: `  ${u.id}`, ports: u.partial ? `${u.ports} (others seen)` : u.ports, component: u.component };
  return { ...padLine({ spans: rowSpans(cols, cells, {}, selected ? '> ' : '  ') }, width), selected };
}
