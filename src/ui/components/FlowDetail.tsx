/** One flow in full: endpoints, service, verdict, counters per direction, timing, every evidence field. */
import { flowDetailLines } from '../view-model/detail-lines.js';
import type { RateUnit } from '../view-model/format.js';
import type { FlowItem } from '../view-model/flows.js';
import { Lines } from './Lines.js';

export interface FlowDetailProps {
  flowId: number;
  flow: FlowItem | null;
  width: number;
  height: number;
  unit: RateUnit;
}

export function FlowDetail({ flowId, flow, width, height, unit }: FlowDetailProps) {
  return <Lines lines={flowDetailLines(flow, flowId, { width, height, unit }).slice(0, Math.max(0, height))} />;
}
