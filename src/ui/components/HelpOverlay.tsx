/** The help page: every key, the filter syntax, and the markers' meaning; fits 80x24. */
import { helpLines } from '../view-model/chrome-lines.js';
import { Lines } from './Lines.js';

export function HelpOverlay({ width, height }: { width: number; height: number }) {
  return <Lines lines={helpLines(width, height)} />;
}
