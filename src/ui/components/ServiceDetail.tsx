/** A service's drill-down: its rule (as `rules explain` prints it), its numbers, and its flows. */
import type { SessionInfo } from '../../export/consumer.js';
import { serviceDetailLines } from '../view-model/detail-lines.js';
import type { RateUnit } from '../view-model/format.js';
import type { FlowsModel } from '../view-model/flows.js';
import type { ServiceRow } from '../view-model/services.js';
import type { SortOrder } from '../view-model/sort.js';
import { FlowsView } from './FlowsView.js';
import { Lines } from './Lines.js';

export interface ServiceDetailProps {
  info: SessionInfo | null;
  serviceKey: string;
  /** The service as the current snapshot has it (null when it is not there). */
  row: ServiceRow | null;
  flows: FlowsModel;
  width: number;
  height: number;
  sort: SortOrder;
  unit: RateUnit;
  selected: string | null;
}

export function ServiceDetail({ info, serviceKey, row, flows, width, height, sort, unit, selected }: ServiceDetailProps) {
  const top = serviceDetailLines(info, serviceKey, row, { width, height, unit }).slice(0, Math.max(0, height - 3));
  return (
    <>
      <Lines lines={top} />
      <FlowsView
        model={flows}
        width={width}
        height={height - top.length}
        sort={sort}
        unit={unit}
        selected={selected}
        showService={serviceKey.startsWith('ambiguous:') || serviceKey === 'unknown'}
        empty="no flows of this service in the snapshot's list (it keeps the top live flows and the latest ended ones)"
      />
    </>
  );
}
