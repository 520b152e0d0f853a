/** The services table: product groups, service rows, ambiguity and unknown-traffic details. */
import type { RateUnit } from '../view-model/format.js';
import type { ServicesModel } from '../view-model/services.js';
import { servicesScreen } from '../view-model/services-lines.js';
import type { SortOrder } from '../view-model/sort.js';
import { Lines } from './Lines.js';

export interface ServicesViewProps {
  model: ServicesModel;
  width: number;
  /** Lines for the table including its column header. */
  height: number;
  sort: SortOrder;
  unit: RateUnit;
  selected: string | null;
}

export function ServicesView({ model, width, height, sort, unit, selected }: ServicesViewProps) {
  if (height <= 0) return null;
  const screen = servicesScreen(model, { width, height: height - 1, sort, unit, selected });
  const body = model.groups.length === 0 ? [emptyLine(model)] : screen.body;
  return <Lines lines={[screen.header, ...body]} />;
}

function emptyLine(model: ServicesModel) {
  const why = model.total > 0 ? `  no service matches the filter (${model.total} services)` : '  no traffic yet';
  return { spans: [{ text: why, tone: 'dim' as const }] };
}
