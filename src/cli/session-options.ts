/** The output, flow-table and classification options shared by `replay` and `live`. */
import { Option, type Command } from 'commander';
import { DEFAULT_ENGINE_OPTIONS } from '../pipeline/engine.js';
import { defaultWorkers, MAX_WORKERS } from '../pipeline/pipeline.js';
import { collectList, collectRepeat, parseIntOption, parseNumberOption, parseSecondsOption } from './options.js';
import { parseSpeed } from '../capture/pacer.js';
import { UsageError } from '../errors.js';
import { DEFAULT_REFRESH_HZ, type FaceOptions } from './face.js';
import type { SessionOptions } from './session.js';
import { parseCidrList } from '../classify/exposure.js';
import { VXLAN_PORTS } from '../decode/decap-options.js';
import { parseMetricsAddress } from '../export/metrics-server.js';
import { parseIpfixTarget } from '../export/ipfix.js';
import type { AlertKind } from '../pipeline/results.js';
import { FAIL_ON_KINDS, type FleetOptions } from './fleet-outputs.js';

/** Live captures cut long flows every minute by default, so exporters see them while they last. */
export const LIVE_ACTIVE_TIMEOUT = 60;

function failOnOption(value: string, previous: AlertKind[] | undefined): AlertKind[] {
  const out = [...(previous ?? [])];
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const kind = FAIL_ON_KINDS[item];
    if (kind === undefined) throw new UsageError(`--fail-on: unknown kind '${item}' (known: ${Object.keys(FAIL_ON_KINDS).join(', ')})`);
    if (!out.includes(kind)) out.push(kind);
  }
  return out;
}

/** `--decap auto|off`. */
function decapOption(value: string): 'auto' | 'off' {
  if (value !== 'auto' && value !== 'off') throw new UsageError(`--decap must be auto or off, got '${value}'`);
  return value;
}

/** `--vxlan-port N` (repeatable). */
function vxlanPortOption(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), parseIntOption('--vxlan-port', 1, 65535)(value)];
}

/** Validates the list now (usage error, exit 2); the workers parse the same text again. */
function monitoringHostsOption(value: string): string {
  parseCidrList(value);
  return value;
}

/**
 * `--no-rules` as a flag of its own (key `noRules`). Commander reads a `--no-X` flag as the negation
 * of `--X`, sharing its key: `--no-rules --rules DIR` then crashed appending DIR to `false`, and
 * `--rules DIR --no-rules` silently dropped DIR. Either order now means "only my rules".
 */
function noRulesOption(): Option {
  const o = new Option('--no-rules', 'do not load the shipped rules/; with --rules DIR, classify by your rules only; alone, no classification');
  o.negate = false;
  return o;
}

export function addSessionOptions(cmd: Command, defaults: { activeTimeout?: number } = {}): Command {
  cmd
    .option('--json', 'print one JSON summary on stdout at the end instead of the text table')
    .option('--flows <path>', 'write one JSON line per flow (NDJSON) to PATH, or - for stdout')
    .addOption(
      new Option('--max-flows <n>', 'bound on live flows (at least 16: smaller values count as 16); the least recently seen flow is evicted (and counted) when full')
        .default(DEFAULT_ENGINE_OPTIONS.maxFlows)
        .argParser(parseIntOption('--max-flows', 1, 50_000_000)),
    )
    .addOption(
      new Option('--idle-timeout <seconds>', 'end a flow after this much (capture) time without packets')
        .default(DEFAULT_ENGINE_OPTIONS.idleTimeout)
        .argParser(parseSecondsOption('--idle-timeout', false)),
    )
    .addOption(
      new Option('--active-timeout <seconds>', 'cut long flows into records of at most this duration (0 = off)')
        .default(defaults.activeTimeout ?? DEFAULT_ENGINE_OPTIONS.activeTimeout)
        .argParser(parseSecondsOption('--active-timeout', true)),
    );
  addClassificationOptions(cmd);
  addAlertAndMetricsOptions(cmd);
  cmd
    .addOption(new Option('--ipfix <host:port>', 'send every finished flow to an IPFIX collector over UDP (docs/ipfix.md)').argParser((v: string) => parseIpfixTarget(v)))
    .addOption(
      new Option(
        '--decap <mode>',
        'tunnels and encapsulations: auto opens VXLAN, Geneve, GRE/ERSPAN, IP-in-IP, MPLS, PPPoE, Teredo and GTP-U and classifies the flows inside; off counts the outer flows only',
      )
        .default('auto')
        .argParser(decapOption),
    )
    .addOption(
      new Option('--vxlan-port <port>', `another UDP port carrying VXLAN, besides ${VXLAN_PORTS.join(' and ')} (repeatable)`).argParser(vxlanPortOption),
    )
    .addOption(new Option('--top <n>', 'flows listed in the text summary').default(20).argParser(parseIntOption('--top', 0, 100_000)))
    .addOption(
      new Option(
        '--workers <n>',
        `decoding threads (0 = decode on the main thread; 1 = one thread reads and decodes a capture file, the main thread stays free); output is the same for any value (default: ${defaultWorkers()} on this machine)`,
      ).argParser(parseIntOption('--workers', 0, MAX_WORKERS)),
    );
  return addFaceOptions(cmd);
}

/** Rules, products, monitoring hosts and the exposure policy (also used by `proxy`). */
export function addClassificationOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--rules <dir>', 'extra rule directory (repeatable; later ones may override)').argParser(collectRepeat))
    .addOption(new Option('--products <list>', 'only classify against these products, e.g. zeebe,redis-enterprise').argParser(collectList))
    .addOption(noRulesOption())
    .addOption(
      new Option(
        '--monitoring-hosts <list>',
        'addresses/prefixes of your monitoring systems, e.g. 10.0.5.0/24,fd00:5::/64: clients of monitoring-only ports (metrics) outside them are exposure violations',
      ).argParser(monitoringHostsOption),
    )
    .option('--policy <file>', 'exposure policy (YAML, docs/policy.md): your networks and which of them may be clients, per product or rule');
}

/** Alert events, --fail-on and Prometheus metrics (also used by `proxy`). */
export function addAlertAndMetricsOptions(cmd: Command): Command {
  return cmd
    .option('--alerts <path>', 'write alert events (NDJSON, docs/alerts.md) to PATH, or - for stdout: exposure violations, mismatches, documented protocols on undocumented ports')
    .addOption(
      new Option('--fail-on <kinds>', 'exit 3 when alerts of these kinds occurred: exposure, mismatch, undocumented (comma-separated)').argParser(failOnOption),
    )
    .addOption(
      new Option('--metrics <[addr:]port>', 'serve Prometheus metrics on http://ADDR:PORT/metrics (default address 127.0.0.1; 0 = any free port)').argParser((v: string) =>
        parseMetricsAddress(v),
      ),
    )
    .addOption(
      new Option('--metrics-linger <seconds>', 'after the end, keep /metrics up until one scrape read the final figures, at most this long')
        .default(0)
        .argParser(parseSecondsOption('--metrics-linger', true)),
    );
}

/** Dashboard or progress line (also used by `proxy`). */
export function addFaceOptions(cmd: Command): Command {
  return cmd
    .option('--no-ui', 'no dashboard: in a terminal too, print the progress line and the final summary')
    .addOption(
      new Option('--refresh <hz>', 'dashboard frames (and snapshots) per second')
        .default(DEFAULT_REFRESH_HZ)
        .argParser(parseNumberOption('--refresh', 0.5, 30)),
    )
    .option('--no-progress', 'without the dashboard, do not print the progress line on stderr every 2 s');
}

/** `replay --speed`: pacing by capture timestamps. */
export function addSpeedOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--speed <factor>', 'play the capture at its recorded pace: 1x, 10x, 0.5x (max = as fast as possible)')
      .default('max')
      // Commander takes a null from a parser for "no value": keep 'max' as a string until sessionOptionsFrom.
      .argParser((v: string): number | 'max' => {
        try {
          return parseSpeed(v) ?? 'max';
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
      }),
  );
}

/** How the session shows itself (dashboard or progress line), from the parsed options. */
export function faceOptionsFrom(o: Record<string, unknown>): FaceOptions {
  return {
    json: o['json'] === true,
    ui: o['ui'] !== false,
    refreshHz: o['refresh'] as number,
    // Alert lines on stdout are data like the flow log: no dashboard drawing over them.
    ...(typeof o['flows'] === 'string' ? { flows: o['flows'] } : o['alerts'] === '-' ? { flows: '-' } : {}),
    progress: o['progress'] !== false,
  };
}

/** Commander's parsed values -> SessionOptions. */
export function sessionOptionsFrom(o: Record<string, unknown>): SessionOptions {
  return {
    json: o['json'] === true,
    ...(typeof o['flows'] === 'string' ? { flows: o['flows'] } : {}),
    maxFlows: o['maxFlows'] as number,
    idleTimeout: o['idleTimeout'] as number,
    activeTimeout: o['activeTimeout'] as number,
    top: o['top'] as number,
    ...(Array.isArray(o['rules']) ? { rules: o['rules'] as string[] } : {}),
    ...(Array.isArray(o['products']) ? { products: o['products'] as string[] } : {}),
    noRules: o['noRules'] === true,
    ...(typeof o['monitoringHosts'] === 'string' ? { monitoringHosts: o['monitoringHosts'] } : {}),
    ...(typeof o['workers'] === 'number' ? { workers: o['workers'] } : {}),
    ...(typeof o['speed'] === 'number' ? { speed: o['speed'] } : {}),
    ...(typeof o['policy'] === 'string' ? { policy: o['policy'] } : {}),
    fleet: fleetOptionsFrom(o),
    decap: {
      mode: o['decap'] === 'off' ? 'off' : 'auto',
      ...(Array.isArray(o['vxlanPort']) ? { vxlanPorts: o['vxlanPort'] as number[] } : {}),
    },
  };
}

export function fleetOptionsFrom(o: Record<string, unknown>): FleetOptions {
  if (typeof o['metricsLinger'] === 'number' && o['metricsLinger'] > 0 && o['metrics'] === undefined) throw new UsageError('--metrics-linger needs --metrics');
  if (o['alerts'] === '-' && o['flows'] === '-') throw new UsageError('--alerts - and --flows - cannot both write to stdout');
  return {
    ...(o['metrics'] !== undefined ? { metrics: o['metrics'] as FleetOptions['metrics'] } : {}),
    ...(typeof o['metricsLinger'] === 'number' && o['metricsLinger'] > 0 ? { metricsLinger: o['metricsLinger'] } : {}),
    ...(o['ipfix'] !== undefined ? { ipfix: o['ipfix'] as FleetOptions['ipfix'] } : {}),
    ...(typeof o['alerts'] === 'string' ? { alerts: o['alerts'] } : {}),
    ...(Array.isArray(o['failOn']) ? { failOn: o['failOn'] as AlertKind[] } : {}),
  };
}

