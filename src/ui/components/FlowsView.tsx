/** A flow table: live flows, then recently ended ones. */
import type { RateUnit } from '../view-model/format.js';
import type { FlowsModel } from '../view-model/flows.js';
import { flowsScreen } from '../view-model/flows-lines.js';
import type { SortOrder } from '../view-model/sort.js';
import { Lines } from './Lines.js';

export interface FlowsViewProps {
  model: FlowsModel;
  width: number;
  height: number;
  sort: SortOrder;
  unit: RateUnit;
  selected: string | null;
  /** False inside a service's drill-down (every row is that service). */
  showService?: boolean;
  /** What to say when there are no flows at all. */
  empty?: string;
}

export function FlowsView({ model, width, height, sort, unit, selected, showService, empty }: FlowsViewProps) {
  if (height <= 0) return null;
  const screen = flowsScreen(model, { width, height: height - 1, sort, unit, selected, showService: showService ?? true, ...(empty === undefined ? {} : { empty }) });
  return <Lines lines={[screen.header, ...screen.body]} />;
}
