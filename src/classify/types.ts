/**
 * What classify/ attaches beside a flow record: the service verdict. Kept apart from the transport
 * facts in flow/record.ts (Zeek's `proto` versus `service`).
 */
import type { FlowTable } from '../flow/table.js';
import type { ExposureCheck } from './exposure.js';

export const VERDICTS = ['verified', 'mismatch', 'encrypted', 'port-only', 'unknown'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface ServiceRef {
  id: string;
  product: string;
  component: string;
}

export interface Classification {
  /** The chosen rule, or null when no rule matched or the candidates could not be told apart. */
  service: ServiceRef | null;
  verdict: Verdict;
  /** True when several rules tie at the best specificity and nothing resolved them. */
  ambiguous: boolean;
  /** Every candidate rule of the best tier (sorted by id); one entry when resolved. */
  candidates: ServiceRef[];
  /** Which port matched: 'server-port', 'client-port' or 'none'. */
  basis: string;
  /** Protocol evidence from payload bytes (e.g. sni, grpcPath, protocol). */
  evidence: Record<string, string>;
  /**
   * Whether the client comes from where the matched rule(s) say clients come from (exposure.ts);
   * null when no rule matched.
   */
  exposure: ExposureCheck | null;
}

/**
 * The classifier as the engine sees it. It is fed through the flow table's observer hooks and runs
 * once per flow (plus a bounded number of payload inspections), never per packet.
 */
export interface FlowClassifier {
  /** Flow slots it keeps state for, when it keeps per-slot state: the engine checks it against its table's. */
  readonly capacity?: number;
  /** Reads the state of `slot` that classify() will read (a flow about to be evicted); returns any number. */
  prefetch?(slot: number): number;
  flowStarted(table: FlowTable, slot: number): void;
  payload(table: FlowTable, slot: number, toServer: boolean, buf: Uint8Array, offset: number, length: number): void;
  /**
   * Final verdict for the flow in `slot` (called once when it ends). `withEvidence` false skips
   * building the evidence record (nothing will print it): `evidence` is then empty.
   */
  classify(table: FlowTable, slot: number, withEvidence?: boolean): Classification;
  /**
   * Current verdict for a live flow (snapshots); must not disturb the flow's state. `withEvidence`
   * false (cheaper) leaves `evidence` empty.
   */
  peek(table: FlowTable, slot: number, withEvidence?: boolean): Classification;
  /** The protocol the recognisers saw on the live flow in `slot` so far (either direction), or null. */
  observedProtocol?(slot: number): string | null;
}
