/** An unknown server port's drill-down (from the coverage view): what was seen there, and its flows. */
import type { UnknownPortItem } from '../view-model/coverage.js';
import { portDetailLines } from '../view-model/detail-lines.js';
import type { RateUnit } from '../view-model/format.js';
import type { FlowsModel } from '../view-model/flows.js';
import type { SortOrder } from '../view-model/sort.js';
import { FlowsView } from './FlowsView.js';
import { Lines } from './Lines.js';

export interface PortDetailProps {
  portId: string;
  /** The port as the coverage view lists it now (null when it is no longer listed). */
  port: UnknownPortItem | null;
  final: boolean;
  flows: FlowsModel;
  width: number;
  height: number;
  sort: SortOrder;
  unit: RateUnit;
  selected: string | null;
}

export function PortDetail({ portId, port, final, flows, width, height, sort, unit, selected }: PortDetailProps) {
  const top = portDetailLines(port, portId, final, { width }).slice(0, Math.max(0, height - 3));
  return (
    <>
      <Lines lines={top} />
      <FlowsView model={flows} width={width} height={height - top.length} sort={sort} unit={unit} selected={selected} showService={false} empty="none of its flows is in the snapshot's list (it keeps the top live flows and the latest ended ones)" />
    </>
  );
}
