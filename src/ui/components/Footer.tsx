/** The last line: the keys, or the end-of-replay status, or (while typing) the filter bar. */
import { footerLine } from '../view-model/chrome-lines.js';
import type { SessionStatus } from '../view-model/frame.js';
import type { UiState } from '../view-model/state.js';
import { FilterBar } from './FilterBar.js';
import { Lines } from './Lines.js';

export interface FooterProps {
  ui: UiState;
  status: SessionStatus;
  width: number;
  /** Rows of the current list after / before filtering (for the filter bar). */
  shown: { rows: number; total: number } | null;
}

export function Footer({ ui, status, width, shown }: FooterProps) {
  if (ui.filter.editing) return <FilterBar ui={ui} width={width} shown={shown} />;
  return <Lines lines={[footerLine(ui, status, width, shown)]} />;
}
