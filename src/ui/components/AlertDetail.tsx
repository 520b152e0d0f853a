/** An alert's drill-down: what and why, then the flows that raised it (those still listed). */
import type { AlertItem } from '../view-model/alerts.js';
import { alertDetailLines } from '../view-model/detail-lines.js';
import type { RateUnit } from '../view-model/format.js';
import type { FlowsModel } from '../view-model/flows.js';
import type { SortOrder } from '../view-model/sort.js';
import { FlowsView } from './FlowsView.js';
import { Lines } from './Lines.js';

export interface AlertDetailProps {
  alertId: string;
  alert: AlertItem | null;
  flows: FlowsModel;
  width: number;
  height: number;
  sort: SortOrder;
  unit: RateUnit;
  selected: string | null;
}

export function AlertDetail({ alertId, alert, flows, width, height, sort, unit, selected }: AlertDetailProps) {
  const top = alertDetailLines(alert, alertId, { width }).slice(0, Math.max(0, height - 3));
  return (
    <>
      <Lines lines={top} />
      <FlowsView model={flows} width={width} height={height - top.length} sort={sort} unit={unit} selected={selected} empty="its flows are no longer listed (the snapshot keeps the latest ones)" />
    </>
  );
}
