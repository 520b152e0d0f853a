/**
 * Renders prepared lines: one <Text> per line (the cheapest frame for Ink), spans as nested text.
 *
 * Ink 6.8 measures every text node through a module-level cache keyed by the full text and never
 * evicted (vadimdemedes/ink#986): a dashboard whose numbers change every frame would keep every
 * line it ever drew, about 29 KiB per frame of a 160x76 screen. Our lines are one cell per
 * character by construction (view-model/text.ts) and one row high, so their size is known: each
 * line's Yoga node gets a measure function that returns it, and Ink's cache (and its string-width
 * pass) is only used for a node's first layout. If Ink's node shape ever differs, nothing is
 * replaced and Ink measures as before.
 */
import { memo, useContext, useLayoutEffect, useRef } from 'react';
import { Box, Text, type DOMElement } from 'ink';
import { lineWidth, type Line } from '../view-model/lines.js';
import { ColourContext, toneStyle } from './theme.js';

/** Trailing blanks cost Ink work per cell and show nothing (a selected line keeps them: its bar is inverted). */
function visibleSpans(line: Line): Line['spans'] {
  if (line.selected === true) return line.spans;
  const spans = [...line.spans];
  while (spans.length > 0) {
    const last = spans[spans.length - 1]!;
    const trimmed = last.text.trimEnd();
    if (trimmed === last.text) break;
    if (trimmed === '' && last.tone !== 'badge') spans.pop();
    else {
      spans[spans.length - 1] = { ...last, text: trimmed };
      break;
    }
  }
  return spans;
}

function LineText({ line }: { line: Line }) {
  const colour = useContext(ColourContext);
  const spans = visibleSpans(line);
  // An empty <Text> takes no row at all: a blank line must hold a character.
  if (spans.every((x) => x.text === '')) return <Text> </Text>;
  return (
    <Text wrap="truncate" inverse={line.selected === true}>
      {spans.map((s, i) => {
        const style = toneStyle(s.tone, colour);
        return style.color === undefined && style.bold !== true && style.dimColor !== true && style.inverse !== true ? (
          s.text
        ) : (
          <Text key={i} {...style}>
            {s.text}
          </Text>
        );
      })}
    </Text>
  );
}

const MemoLine = memo(LineText);

interface MeasurableNode {
  setMeasureFunc(fn: (width: number) => { width: number; height: number }): void;
}

function measurable(node: unknown): MeasurableNode | null {
  const yoga = (node as { nodeName?: unknown; yogaNode?: unknown }).yogaNode;
  if ((node as { nodeName?: unknown }).nodeName !== 'ink-text' || typeof yoga !== 'object' || yoga === null) return null;
  return typeof (yoga as { setMeasureFunc?: unknown }).setMeasureFunc === 'function' ? (yoga as MeasurableNode) : null;
}

export function Lines({ lines }: { lines: readonly Line[] }) {
  const box = useRef<DOMElement>(null);
  // Widths of the lines being committed; read by the measure functions during Ink's layout.
  const widths = useRef<number[]>([]);
  widths.current = lines.map((l) => Math.max(1, lineWidth({ spans: visibleSpans(l) })));
  const patched = useRef(new WeakSet<object>());
  useLayoutEffect(() => {
    const children = box.current?.childNodes ?? [];
    children.forEach((child, i) => {
      if (patched.current.has(child)) return;
      const yoga = measurable(child);
      if (yoga === null) return;
      patched.current.add(child);
      yoga.setMeasureFunc((available: number) => ({ width: Math.min(widths.current[i] ?? 1, Number.isFinite(available) && available > 0 ? available : Infinity), height: 1 }));
    });
  });
  return (
    <Box ref={box} flexDirection="column">
      {lines.map((l, i) => (
        <MemoLine key={i} line={l} />
      ))}
    </Box>
  );
}
