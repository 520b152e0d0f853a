/** The alerts table: mismatches and exposure violations, newest first. */
import type { AlertsModel } from '../view-model/alerts.js';
import { alertsScreen } from '../view-model/alerts-lines.js';
import { Lines } from './Lines.js';

export interface AlertsViewProps {
  model: AlertsModel;
  width: number;
  height: number;
  selected: string | null;
}

export function AlertsView({ model, width, height, selected }: AlertsViewProps) {
  if (height <= 0) return null;
  const screen = alertsScreen(model, { width, height: height - 1, selected });
  return <Lines lines={[screen.header, ...screen.body]} />;
}
