/** The line between header and table: views (the current one bracketed), where you are, sort, filter, position. */
import { tabBar } from '../view-model/chrome-lines.js';
import type { UiState, ViewName } from '../view-model/state.js';
import { Lines } from './Lines.js';

export interface TabBarProps {
  ui: UiState;
  counts: Readonly<Record<ViewName, number | null>>;
  /** "12-27 of 40" when the list scrolls, else ''. */
  position: string;
  crumbs: string[];
  width: number;
}

export function TabBar({ ui, counts, position, crumbs, width }: TabBarProps) {
  return <Lines lines={[tabBar(ui, counts, position, width, crumbs)]} />;
}
