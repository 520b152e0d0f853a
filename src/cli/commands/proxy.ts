/**
 * `portsniff proxy`: the same classification without capture privileges, as a relay in the path
 * (docs/proxy.md). Listeners relay to upstreams; every connection becomes a flow record of the
 * capture schema, classified on the upstream port. Runs until SIGINT/SIGTERM (or --duration), then
 * closes every connection and writes the flow log and the summary, like `replay` and `live`.
 *
 * Start-up failures (a listener that cannot bind, a bad --config) are one line each on stderr and
 * exit 1 (bind) or 2 (usage), before any summary.
 */
import { Command, Option } from 'commander';
import { StreamClassifier } from '../../classify/stream-classifier.js';
import { parseCidrList } from '../../classify/exposure.js';
import { PortsniffError, UsageError } from '../../errors.js';
import type { ProxyListenerInfo } from '../../pipeline/results.js';
import { DEFAULT_PROXY_SETTINGS, loadProxyConfig, type ProxyFileSettings } from '../../proxy/config.js';
import { checkMappings, formatHostPort, isLoopback, parseListenUpstream, parseMapping, type ProxyMapping, type ProxyProtocolVersion } from '../../proxy/mapping.js';
// The relay (net, dgram and the proxy's modules) loads when the command runs, not with every command.
import type { ProxyOptions } from '../../proxy/server.js';
import { compileRules } from '../../rules/compile.js';
import { loadRuleDirs } from '../../rules/load.js';
import type { RuleSet } from '../../rules/types.js';
import { ruleDirs, type ClassificationOptions } from '../classification-setup.js';
import { chooseFace, type FaceOptions } from '../face.js';
import type { CliIo } from '../io.js';
import { collectList, collectRepeat, parseIntOption, parseSecondsOption } from '../options.js';
import { runSession, type SessionOptions } from '../session.js';
import { addAlertAndMetricsOptions, addClassificationOptions, addFaceOptions, faceOptionsFrom, fleetOptionsFrom } from '../session-options.js';
import type { FleetOptions } from '../fleet-outputs.js';
import { PolicyChecker } from '../../classify/policy-check.js';
import { loadPolicyFile } from '../../rules/policy.js';

export interface ProxyCommandOptions extends ClassificationOptions {
  mappings: ProxyMapping[];
  connectTimeout: number;
  idleTimeout: number;
  linger: number;
  udpIdleTimeout: number;
  maxConnections: number;
  durationSec: number | null;
  json: boolean;
  flows?: string;
  top: number;
  face: FaceOptions;
  /** --policy FILE. */
  policy?: string;
  /** --metrics, --alerts, --fail-on. */
  fleet: FleetOptions;
}

const EXAMPLES = `
Examples:
  portsniff proxy --map 16379=10.0.0.5:12000               relay 127.0.0.1:16379 to a Redis Enterprise
                                                            database endpoint; classified as tcp/12000
  portsniff proxy --listen 26500 --upstream zeebe:26500 --flows -
  portsniff proxy --map 0.0.0.0:9977=gloo:9977 --proxy-protocol-in
                                                            behind a load balancer that sends PROXY headers
  portsniff proxy --map 16000-16010=db:12000-12010          port ranges map one to one
  portsniff proxy --map udp:5300=10.0.0.2:53                DNS-style UDP relaying
  portsniff proxy --config proxy.yaml --json                mappings and settings from a file

The classification uses the UPSTREAM port (the vendor port map applies as it does to captured
traffic); the listen port is recorded in each flow's proxy.listener. Listeners bind 127.0.0.1 unless
an address is given. Bytes pass unchanged (TLS is not decrypted; SNI and ALPN come from the
ClientHello). Ctrl-C or SIGTERM closes every connection and prints the summary; exit codes: 0 ok,
1 a listener could not start, 2 usage error. See docs/proxy.md.`;

export function registerProxyCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const proxy = program
    .command('proxy')
    .description(
      'Relay TCP (and DNS-style UDP) connections to upstreams and classify each one like captured traffic: ' +
        'no capture privileges needed. Runs until Ctrl-C/SIGTERM or --duration, then prints the summary.',
    )
    .addOption(new Option('--map <spec>', '[tcp:|udp:][LISTEN_ADDR:]PORT[-PORT]=UPSTREAM_HOST:PORT[-PORT] (repeatable)').argParser(collectRepeat))
    .option('--listen <[addr:]port>', 'one listener (with --upstream)')
    .option('--upstream <host:port>', 'its upstream (with --listen)')
    .option('--config <file>', 'mappings and settings from a YAML file (docs/proxy.md); command-line options win')
    .addOption(new Option('--proxy-protocol-in [ports]', 'expect a PROXY protocol v1/v2 header on every connection of the command-line listeners (or only those listen ports)'))
    .addOption(new Option('--proxy-protocol-out <version>', 'send a PROXY protocol header upstream on the command-line listeners').choices(['v1', 'v2']))
    .addOption(new Option('--connect-timeout <seconds>', 'upstream connect timeout (the client is then reset)').default(DEFAULT_PROXY_SETTINGS.connectTimeout).argParser(parseSecondsOption('--connect-timeout', false)))
    .addOption(new Option('--idle-timeout <seconds>', 'close a connection after this long without a byte either way').default(DEFAULT_PROXY_SETTINGS.idleTimeout).argParser(parseSecondsOption('--idle-timeout', false)))
    .addOption(new Option('--linger <seconds>', 'after one side closed its half, close when the other direction is idle this long').default(DEFAULT_PROXY_SETTINGS.linger).argParser(parseSecondsOption('--linger', false)))
    .addOption(new Option('--udp-idle-timeout <seconds>', 'end a UDP session after this long without datagrams').default(DEFAULT_PROXY_SETTINGS.udpIdleTimeout).argParser(parseSecondsOption('--udp-idle-timeout', false)))
    .addOption(new Option('--max-connections <n>', 'open connections (and UDP sessions) at most; more are reset and counted').default(DEFAULT_PROXY_SETTINGS.maxConnections).argParser(parseIntOption('--max-connections', 1, 1_000_000)))
    .addOption(new Option('--duration <seconds>', 'stop after this many seconds').argParser(parseSecondsOption('--duration', false)))
    .option('--json', 'print one JSON summary on stdout at the end instead of the text table')
    .option('--flows <path>', 'write one JSON line per connection (NDJSON) to PATH, or - for stdout')
    .addOption(new Option('--top <n>', 'flows listed in the text summary').default(20).argParser(parseIntOption('--top', 0, 100_000)));
  // The same classification, policy, alert and metrics options as replay and live.
  addClassificationOptions(proxy);
  addAlertAndMetricsOptions(proxy);
  addFaceOptions(proxy)
    .addHelpText('after', EXAMPLES)
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      setExit(await runProxy(parseProxyCommand(o, (name) => cmd.getOptionValueSource(name) === 'cli'), io));
    });
}

/** Validates and assembles the options (throws UsageError). `given`: whether an option came from the command line. */
export function parseProxyCommand(o: Record<string, unknown>, given: (name: string) => boolean): ProxyCommandOptions {
  const ppIn = o['proxyProtocolIn'];
  const ppOut = (o['proxyProtocolOut'] as ProxyProtocolVersion | undefined) ?? null;
  const ppInPorts = typeof ppIn === 'string' ? portList(ppIn) : null;
  const cliMappings: ProxyMapping[] = [];
  for (const spec of (o['map'] as string[] | undefined) ?? []) cliMappings.push(...parseMapping(spec, `--map ${spec}`));
  const listen = o['listen'] as string | undefined;
  const upstream = o['upstream'] as string | undefined;
  if ((listen === undefined) !== (upstream === undefined)) throw new UsageError(`--listen and --upstream go together (got only ${listen === undefined ? '--upstream' : '--listen'})`);
  if (listen !== undefined && upstream !== undefined) cliMappings.push(...parseListenUpstream(listen, upstream));
  // The PROXY flags apply to the command-line TCP listeners (all, or the listed listen ports).
  const mappings: ProxyMapping[] = cliMappings.map((m) => {
    const tcp = m.transport === 'tcp';
    const ppInHere = ppIn === true || (ppInPorts?.has(m.listenPort) ?? false);
    return { ...m, proxyProtocolIn: tcp && ppInHere, proxyProtocolOut: tcp ? ppOut : null };
  });
  for (const p of ppInPorts ?? []) {
    if (!cliMappings.some((m) => m.transport === 'tcp' && m.listenPort === p)) {
      throw new UsageError(`--proxy-protocol-in ${String(ppIn)}: no command-line TCP listener on port ${p} (the PROXY protocol is for TCP)`);
    }
  }
  let file: ProxyFileSettings = {};
  const configPath = o['config'] as string | undefined;
  if (configPath !== undefined) {
    const config = loadProxyConfig(configPath);
    mappings.push(...config.mappings);
    file = config.settings;
  }
  checkMappings(mappings);
  // Command-line values win over the file's; the file's over the defaults.
  const pick = (flag: string, fromFile: number | undefined): number => (given(flag) || fromFile === undefined ? (o[flag] as number) : fromFile);
  return {
    mappings,
    connectTimeout: pick('connectTimeout', file.connectTimeout),
    idleTimeout: pick('idleTimeout', file.idleTimeout),
    linger: pick('linger', file.linger),
    udpIdleTimeout: pick('udpIdleTimeout', file.udpIdleTimeout),
    maxConnections: pick('maxConnections', file.maxConnections),
    durationSec: typeof o['duration'] === 'number' ? o['duration'] : null,
    json: o['json'] === true,
    ...(typeof o['flows'] === 'string' ? { flows: o['flows'] } : {}),
    top: o['top'] as number,
    face: faceOptionsFrom(o),
    ...(Array.isArray(o['rules']) ? { rules: o['rules'] as string[] } : {}),
    ...(Array.isArray(o['products']) ? { products: o['products'] as string[] } : {}),
    noRules: o['noRules'] === true,
    ...(typeof o['monitoringHosts'] === 'string' ? { monitoringHosts: o['monitoringHosts'] } : {}),
    ...(typeof o['policy'] === 'string' ? { policy: o['policy'] } : {}),
    fleet: fleetOptionsFrom(o),
  };
}

function portList(text: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const r = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const lo = r ? Number(r[1]) : NaN;
    const hi = r && r[2] !== undefined ? Number(r[2]) : lo;
    if (!(lo >= 1 && hi <= 65535 && hi >= lo && hi - lo < 65536)) throw new UsageError(`--proxy-protocol-in: '${part}' is not a listen port or range`);
    for (let p = lo; p <= hi; p++) out.add(p);
  }
  return out;
}

/** The classifier for the loaded rules and the options (--products, --monitoring-hosts, --policy), as capture mode builds it. */
export function proxyClassifier(ruleSet: RuleSet, opts: ClassificationOptions & { policy?: string }, evidenceDetail: boolean): StreamClassifier {
  const index = compileRules(ruleSet, { products: opts.products });
  const monitoringHosts = opts.monitoringHosts === undefined ? null : parseCidrList(opts.monitoringHosts);
  const policy = opts.policy === undefined ? null : new PolicyChecker(loadPolicyFile(opts.policy, ruleSet, { monitoringHosts: monitoringHosts !== null }), monitoringHosts);
  return new StreamClassifier(index, { monitoringHosts, evidenceDetail, policy });
}

/** The startup lines: one per listener (at most 16, then a count), saying which are not loopback. */
export function describeListeners(list: readonly ProxyListenerInfo[]): string[] {
  const lines = list.slice(0, 16).map((l) => {
    const extra = [
      l.proxyProtocolIn ? 'PROXY protocol in' : '',
      l.proxyProtocolOut !== null ? `PROXY protocol ${l.proxyProtocolOut} out` : '',
      l.listen.ip === '0.0.0.0' || l.listen.ip === '::' ? 'ALL interfaces: reachable from other hosts' : !isLoopback(l.listen.ip) ? 'not loopback: reachable from other hosts' : '',
    ].filter((x) => x !== '');
    return `portsniff: proxy ${l.transport} ${formatHostPort(l.listen.ip, l.listen.port)} -> ${formatHostPort(l.upstream.host, l.upstream.port)}${extra.length ? ` (${extra.join(', ')})` : ''}`;
  });
  if (list.length > 16) lines.push(`portsniff: ... and ${list.length - 16} more listeners`);
  return lines;
}

/**
 * Runs the proxy until io.signal aborts or --duration passes; returns the exit code. The relay is a
 * producer for the same session as `replay` and `live` (cli/session.ts): the flow log, the summary,
 * the progress line and the dashboard are the session's consumers, not a copy of them.
 */
export async function runProxy(cmd: ProxyCommandOptions, io: CliIo, extra: Partial<ProxyOptions> = {}): Promise<number> {
  const face = await chooseFace(io, cmd.face);
  const dirs = ruleDirs(cmd);
  const ruleSet = dirs.length === 0 ? null : loadRuleDirs(dirs);
  if (cmd.policy !== undefined && ruleSet === null) throw new UsageError('--policy needs rules: it names products and rules (drop --no-rules)');
  // Evidence fields (SNI, gRPC path...) are kept when something shows flows: the flow log or a consumer.
  const evidenceDetail = cmd.flows !== undefined || (face.extras.consumers ?? []).some((c) => c.flow !== undefined);
  const classifier = ruleSet === null ? null : proxyClassifier(ruleSet, cmd, evidenceDetail);
  const { ProxyServer } = await import('../../proxy/server.js');
  const server = new ProxyServer({
    mappings: cmd.mappings,
    classifier,
    connectTimeout: cmd.connectTimeout,
    idleTimeout: cmd.idleTimeout,
    linger: cmd.linger,
    udpIdleTimeout: cmd.udpIdleTimeout,
    maxConnections: cmd.maxConnections,
    detail: face.extras.detail === true,
    ...(face.extras.snapshotIntervalMs !== undefined ? { snapshotIntervalMs: face.extras.snapshotIntervalMs } : {}),
    onWarning: (line) => io.stderr(`portsniff: ${line}`),
    ...extra,
  });
  let listeners: ProxyListenerInfo[];
  try {
    listeners = await server.start();
  } catch (err) {
    // Start-up failure: one line, no summary (nothing was relayed).
    if (err instanceof PortsniffError && !(err instanceof UsageError)) {
      io.stderr(`portsniff: ${err.message}`);
      return 1;
    }
    throw err;
  }
  for (const line of describeListeners(listeners)) io.stderr(line);
  io.stderr(`portsniff: relaying; Ctrl-C to stop${cmd.durationSec !== null ? ` (or after ${cmd.durationSec} s)` : ''}`);
  const session: SessionOptions = {
    json: cmd.json,
    ...(cmd.flows !== undefined ? { flows: cmd.flows } : {}),
    // The summary's options: --max-connections bounds the live flows, --idle-timeout ends them.
    maxFlows: cmd.maxConnections,
    idleTimeout: cmd.idleTimeout,
    activeTimeout: 0,
    top: cmd.top,
    workers: 0,
    ...(cmd.rules !== undefined ? { rules: cmd.rules } : {}),
    ...(cmd.products !== undefined ? { products: cmd.products } : {}),
    ...(cmd.noRules !== undefined ? { noRules: cmd.noRules } : {}),
    ...(cmd.monitoringHosts !== undefined ? { monitoringHosts: cmd.monitoringHosts } : {}),
    ...(cmd.policy !== undefined ? { policy: cmd.policy } : {}),
    fleet: cmd.fleet,
  };
  try {
    return await runSession(
      {
        kind: 'proxy',
        name: listeners.map((l) => `${l.transport} ${formatHostPort(l.listen.ip, l.listen.port)}->${formatHostPort(l.upstream.host, l.upstream.port)}`).join(', '),
        producer: server,
        relayStats: () => server.proxyStats(),
        ruleSet,
        run: (signal) =>
          new Promise<void>((resolve) => {
            if (signal.aborted) return resolve();
            signal.addEventListener('abort', () => resolve(), { once: true });
            if (cmd.durationSec !== null) setTimeout(resolve, cmd.durationSec * 1000).unref();
          }),
      },
      session,
      io,
      face.extras,
    );
  } finally {
    await server.close();
  }
}
