/** The filter being typed, and whether it is valid (and what it matches) or why not. */
import { filterBar } from '../view-model/chrome-lines.js';
import type { UiState } from '../view-model/state.js';
import { Lines } from './Lines.js';

export interface FilterBarProps {
  ui: UiState;
  width: number;
  shown: { rows: number; total: number } | null;
}

export function FilterBar({ ui, width, shown }: FilterBarProps) {
  return <Lines lines={[filterBar(ui, width, shown)]} />;
}
