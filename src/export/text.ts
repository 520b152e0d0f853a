/**
 * Plain-text run summary for humans when no TTY dashboard runs (pipes, CI logs, `--text`).
 * Stable layout: a header, totals, per-service table, encapsulations, top flows, anomalies.
 */
import type { RunSummary } from './summary.js';
import type { ClassifiedFlow, EncapsulationCount } from '../pipeline/results.js';
import { describePayload, TEXT_UNKNOWN_PORTS } from './coverage.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

function table(headers: string[], rows: string[][], rightAlign: Set<number>): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (rightAlign.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(headers), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)];
}

/** `violations`: flows whose exposure check failed (the first ones), listed in their own table. */
export function renderTextSummary(s: RunSummary, topFlows: ClassifiedFlow[], violations: readonly ClassifiedFlow[] = []): string {
  const out: string[] = [];
  const src = s.source;
  const t = s.totals;
  const dur = s.time.first && s.time.last ? `, ${s.time.first} .. ${s.time.last}` : '';
  // A relay sees connections and payload, no frames: its header and tables say what it counted.
  const relay = src.proxy ?? null;
  if (relay !== null) {
    out.push(`portsniff: proxy ${src.name}`);
    const p = relay;
    out.push(
      `${t.flows} connection${t.flows === 1 ? '' : 's'}, ${formatBytes(p.payloadBytes.toServer + p.payloadBytes.toClient)} relayed ` +
        `(${formatBytes(p.payloadBytes.toServer)} to upstreams, ${formatBytes(p.payloadBytes.toClient)} to clients)${dur}`,
    );
    const problems = [
      p.refused > 0 ? `${p.refused} refused (--max-connections ${p.options.maxConnections})` : '',
      p.upstreamErrors > 0 ? `${p.upstreamErrors} upstream unreachable` : '',
      p.connectTimeouts > 0 ? `${p.connectTimeouts} upstream connect timeouts` : '',
      p.proxyProtocolErrors > 0 ? `${p.proxyProtocolErrors} bad PROXY protocol headers` : '',
      p.datagramsDropped > 0 ? `${p.datagramsDropped} UDP datagrams dropped` : '',
    ].filter((x) => x !== '');
    if (problems.length > 0) out.push(problems.join(', '));
  } else {
    const lts = src.linkTypes.map((l) => `${l.name} (${l.linkType})`).join(', ') || 'none';
    out.push(`portsniff: ${src.name}: ${src.format ?? 'unknown format'}${src.byteOrder ? `, ${src.byteOrder}-endian` : ''}, link types: ${lts}`);
    out.push(`${t.packets} packets, ${formatBytes(t.bytes)} on the wire, ${t.flows} flows${dur}`);
  }
  if (t.truncatedFrames || t.notIp || t.unattributed || t.evictedFlows) {
    out.push(`${t.truncatedFrames} truncated by snaplen, ${t.notIp} not IP, ${t.unattributed} not attributed to a flow, ${t.evictedFlows} flows evicted`);
  }
  for (const i of src.interfaces) {
    if (i.drops) out.push(`interface ${i.id}${i.name ? ` (${i.name})` : ''}: dropped by interface ${i.drops.interface ?? 'unknown'}, by OS ${i.drops.os ?? 'unknown'}`);
  }
  // Warnings and errors go to stderr (one line each); the table only says the totals are partial.
  if (src.truncated) out.push('the file ends inside a record: totals cover the packets before it');
  if (src.error) out.push(`reading stopped at byte offset ${src.error.offset ?? '?'}: totals cover the packets before it`);
  if (s.interrupted) out.push('interrupted: the summary covers what was read until then');
  const violationCount = s.services.reduce((n, e) => n + e.exposure.violation, 0);
  if (violationCount > 0) {
    out.push(`exposure: ${violationCount} flow${violationCount === 1 ? '' : 's'} from clients the documents do not expect on that port (column exposure!)`);
  }
  const uncheckedCount = s.services.reduce((n, e) => n + e.exposure.unchecked, 0);
  if (uncheckedCount > 0) {
    out.push(`exposure: ${uncheckedCount} flow${uncheckedCount === 1 ? '' : 's'} on monitoring-only ports not checked: give --monitoring-hosts with your monitoring systems' addresses`);
  }

  // A service whose flows came through tunnels says which (its row is never hidden behind them).
  const tunnelled = s.services.some((e) => (e.encapsulations ?? []).length > 0);
  if (s.services.length > 0 && !(s.services.length === 1 && s.services[0]!.key === 'unclassified')) {
    out.push('', 'services');
    out.push(
      ...table(
        ['service', 'product', 'flows', ...(relay ? ['relayed'] : ['packets', 'bytes']), 'verified', 'mismatch', 'encrypted', 'port-only', 'exposure!', ...(tunnelled ? ['via'] : [])],
        s.services.map((e) => [
          serviceLabel(e.key, e.candidates),
          e.product ?? (e.candidates.length ? 'ambiguous' : '-'),
          String(e.flows),
          ...(relay
            ? [formatBytes(e.payloadBytes.toServer + e.payloadBytes.toClient)]
            : [String(e.packets.toServer + e.packets.toClient), formatBytes(e.bytes.toServer + e.bytes.toClient)]),
          String(e.verdicts.verified),
          String(e.verdicts.mismatch),
          String(e.verdicts.encrypted),
          String(e.verdicts['port-only']),
          String(e.exposure.violation),
          ...(tunnelled ? [viaLabel(e.encapsulations ?? [])] : []),
        ]),
        new Set(relay ? [2, 3, 4, 5, 6, 7, 8] : [2, 3, 4, 5, 6, 7, 8, 9]),
      ),
    );
  }

  const encapsulations = t.encapsulations ?? [];
  if (encapsulations.length > 0) {
    out.push('', 'encapsulations (flows found inside each, at any depth)');
    out.push(
      ...table(
        ['type', 'id', 'flows', 'packets', 'bytes'],
        encapsulations.map((e) => [e.type, e.id === null ? '-' : String(e.id), String(e.flows), String(e.packets), formatBytes(e.bytes)]),
        new Set([1, 2, 3, 4]),
      ),
    );
  }

  if (topFlows.length > 0) {
    out.push('', `top ${topFlows.length} flows by bytes`);
    const label = (f: ClassifiedFlow): string => f.service?.id ?? (f.ambiguous ? `ambiguous(${f.candidates?.length ?? 0})` : '-');
    out.push(
      ...(relay
        ? table(
            ['transport', 'client', 'listener', 'upstream', 'relayed', 'end', 'service', 'verdict'],
            topFlows.map((f) => [
              f.transport,
              endpoint(f.client.ip, f.client.port),
              f.proxy ? endpoint(f.proxy.listener.ip, f.proxy.listener.port) : '-',
              endpoint(f.server.ip, f.server.port),
              `${formatBytes(f.payloadBytes.toServer)}/${formatBytes(f.payloadBytes.toClient)}`,
              f.end,
              label(f),
              f.verdict ?? '-',
            ]),
            new Set([4]),
          )
        : table(
            ['transport', 'client', 'server', 'packets', 'bytes', 'state', 'service', 'verdict'],
            topFlows.map((f) => [
              f.transport,
              endpoint(f.client.ip, f.client.port),
              endpoint(f.server.ip, f.server.port),
              f.packets ? `${f.packets.toServer}/${f.packets.toClient}` : '-',
              f.bytes ? formatBytes(f.bytes.toServer + f.bytes.toClient) : '-',
              f.state ?? '-',
              label(f),
              f.verdict ?? '-',
            ]),
            new Set([3, 4]),
          )),
    );
  }

  if (violations.length > 0) {
    const shown = violations.length < violationCount ? `first ${violations.length} ` : '';
    out.push('', `exposure violations (${shown}flows from clients the documents do not expect)`);
    out.push(
      ...table(
        ['transport', 'client', 'server', 'client class', 'service', 'documented exposure'],
        violations.map((f) => [
          f.transport,
          endpoint(f.client.ip, f.client.port),
          endpoint(f.server.ip, f.server.port),
          f.exposure!.client + (f.exposure!.monitoringHost === false && f.exposure!.allowed.includes('monitoring-only') ? ', not a monitoring host' : ''),
          f.service?.id ?? `ambiguous(${f.candidates?.length ?? 0})`,
          f.exposure!.allowed.join(', '),
        ]),
        new Set(),
      ),
    );
  }

  const cov = s.coverage;
  if (cov) {
    const d = cov.documented;
    out.push('', `coverage: ${d.portSpecsUnseen} of ${d.portSpecs} documented ports and ranges of ${d.rules} rules saw no flow`);
    if (cov.unseen.length > 0) {
      out.push(...table(['rule', 'never seen'], cov.unseen.map((u) => [u.rule, u.ports === '' ? u.transport : `${u.transport}/${u.ports}`]), new Set()));
    }
    if (cov.unknownPorts.length > 0) {
      const shown = cov.unknownPorts.slice(0, TEXT_UNKNOWN_PORTS);
      out.push('', `busiest server ports no rule documents (${shown.length} of ${cov.unknownPortCount})`);
      out.push(
        ...table(
          ['port', 'flows', 'packets', 'bytes', 'payload (flows)'],
          shown.map((u) => [`${u.transport}/${u.port}`, String(u.flows), String(u.packets), formatBytes(u.bytes), describePayload(u.payload)]),
          new Set([1, 2, 3]),
        ),
      );
    }
  }

  const anomalies = Object.entries(t.anomalies);
  if (anomalies.length > 0) {
    out.push('', 'anomalies');
    out.push(...table(['code', 'count'], anomalies.map(([k, v]) => [k, String(v)]), new Set([1])));
  }
  return out.join('\n') + '\n';
}

/** The encapsulations of a service row, e.g. "vxlan 1 (12), geneve 7 (3)": at most three, then "+N". */
function viaLabel(list: readonly EncapsulationCount[]): string {
  if (list.length === 0) return '-';
  const top = [...list].sort((a, b) => b.flows - a.flows).slice(0, 3);
  const label = top.map((e) => `${e.type}${e.id === null ? '' : ` ${e.id}`} (${e.flows})`).join(', ');
  return list.length > top.length ? `${label} +${list.length - top.length}` : label;
}

/** Ambiguous rows list their candidates (the product column already says "ambiguous"). */
function serviceLabel(key: string, candidates: string[]): string {
  const label = key.startsWith('ambiguous:') ? candidates.join(' | ') : key;
  return label.length > 72 ? `${label.slice(0, 69)}...` : label;
}

function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Wire bytes of a captured flow; payload bytes of a relayed one (a relay sees no frames). */
function flowSize(f: ClassifiedFlow): number {
  return f.bytes ? f.bytes.toServer + f.bytes.toClient : f.payloadBytes.toServer + f.payloadBytes.toClient;
}

/** Keeps the N largest flows (by bytes, ties by id) without holding every flow. */
export class TopFlows {
  private readonly items: ClassifiedFlow[] = [];
  constructor(private readonly n: number) {}

  /** How many flows it keeps (--top). */
  get capacity(): number {
    return this.n;
  }

  add(f: ClassifiedFlow): void {
    if (this.n <= 0) return;
    const size = flowSize(f);
    if (this.items.length === this.n) {
      const last = this.items[this.items.length - 1]!;
      if (size <= flowSize(last)) return;
      this.items.pop();
    }
    let i = this.items.length;
    while (i > 0) {
      const o = this.items[i - 1]!;
      const os = flowSize(o);
      if (os > size || (os === size && o.id < f.id)) break;
      i--;
    }
    this.items.splice(i, 0, f);
  }

  list(): ClassifiedFlow[] {
    return [...this.items];
  }
}
