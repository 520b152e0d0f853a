/** The coverage view: unknown server ports, documented rules no flow used, and what "seen" means. */
import type { CoverageModel } from '../view-model/coverage.js';
import { coverageScreen } from '../view-model/coverage-lines.js';
import { Lines } from './Lines.js';

export interface CoverageViewProps {
  model: CoverageModel;
  width: number;
  height: number;
  selected: string | null;
}

export function CoverageView({ model, width, height, selected }: CoverageViewProps) {
  if (height <= 0) return null;
  return <Lines lines={coverageScreen(model, { width, height, selected }).body} />;
}
