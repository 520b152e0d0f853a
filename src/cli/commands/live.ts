/**
 * `portsniff live IFACE [BPF...]`: a session fed by a live interface (tcpdump or the cap binding,
 * docs/live-capture.md), and `portsniff interfaces`: the capture devices with link-type hints.
 *
 * Start-up failures (no such interface, no permission, invalid filter, backend missing) are one
 * line on stderr and exit 1, before any summary. Once packets flow, SIGINT/SIGTERM, --duration
 * and --count all end the same way: the backend is stopped, what is in flight is drained, and the
 * summary, the flow log and the --write file are complete; exit 0.
 */
import { Command, Option } from 'commander';
// The capture backends (child processes, the cap binding) load when a live command runs, not with every command.
import type { listInterfaces, openLiveSource } from '../../capture/live/open.js';
import {
  DEFAULT_SNAPLEN,
  type FlowClockTick,
  type LiveBackendChoice,
  type LiveCaptureOptions,
  type LiveReadResult,
  type LiveSource,
} from '../../capture/live/types.js';
import type { CaptureReadResult, FrameSink, LiveStats } from '../../capture/types.js';
import { PortsniffError, UsageError } from '../../errors.js';
import { linkTypeName } from '../../export/names.js';
import { Engine } from '../../pipeline/engine.js';
import type { CliIo } from '../io.js';
import { parseIntOption, parseSecondsOption } from '../options.js';
import { runSession, type SessionOptions } from '../session.js';
import { addSessionOptions, faceOptionsFrom, LIVE_ACTIVE_TIMEOUT, sessionOptionsFrom } from '../session-options.js';
import { chooseFace, type FaceOptions } from '../face.js';
import { sameFile } from '../../util/same-file.js';

const BACKENDS: readonly LiveBackendChoice[] = ['auto', 'tcpdump', 'cap'];

export interface LiveCommandOptions {
  backend: LiveBackendChoice;
  capture: LiveCaptureOptions;
  session: SessionOptions;
  face: FaceOptions;
}

export function registerLiveCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const live = program
    .command('live')
    .description(
      'Capture on a network interface and report its flows, like replay does for a file. Ctrl-C (or\n' +
        '--duration/--count) stops the capture; the summary, flow log and --write file are then complete.',
    )
    .argument('<interface>', 'interface to capture on (eth0, lo, any); see `portsniff interfaces`')
    .argument('[filter...]', 'BPF capture filter as trailing words, as tcpdump takes it (pcap-filter(7))')
    .addOption(
      new Option('--backend <name>', 'tcpdump (external process, kernel drop counts) or cap (in-process libpcap binding)')
        .choices(BACKENDS)
        .default('auto'),
    )
    .option('--filter <bpf>', 'BPF capture filter (instead of trailing words)')
    .addOption(
      new Option('--snaplen <bytes>', 'bytes kept per packet (cap: at most 65535)')
        .default(DEFAULT_SNAPLEN)
        .argParser(parseIntOption('--snaplen', 1, DEFAULT_SNAPLEN)),
    )
    .addOption(
      new Option('--buffer-size <KiB>', 'kernel capture buffer in KiB (tcpdump -B; default 65536 = 64 MiB, 262144 on lo)').argParser(
        parseIntOption('--buffer-size', 1, 2_000_000),
      ),
    )
    .option('--no-promisc', 'do not put the interface in promiscuous mode (tcpdump -p)')
    .addOption(new Option('--duration <seconds>', 'stop after this many seconds').argParser(parseSecondsOption('--duration', false)))
    .addOption(new Option('--count <n>', 'stop after this many packets').argParser(parseIntOption('--count', 1, 2_147_483_647)))
    .option('--write <file.pcap>', 'also save exactly what was captured to a pcap file (like tcpdump -w)');
  addSessionOptions(live, { activeTimeout: LIVE_ACTIVE_TIMEOUT })
    .addHelpText(
      'after',
      `
Examples:
  portsniff live eth0                                  the dashboard until q (or Ctrl-C), then the summary
  portsniff live eth0 --no-ui                          no dashboard: a progress line every 2 s, then the summary
  portsniff live eth0 tcp port 6379 or port 8443       BPF filter as trailing words
  portsniff live any --filter 'not port 22' --duration 60 --json
  portsniff live lo --count 10000 --write lo.pcap      keep the packets; replay lo.pcap gives the same flows
  portsniff live eth0 --backend cap                    in-process libpcap (no drop statistics)
  portsniff live eth0 --vxlan-port 4790                open VXLAN on another port too (overlays are
                                                       opened by default; --decap off: outer flows only)
  portsniff interfaces                                 which devices can be captured
  portsniff live eth0 --metrics 0.0.0.0:9464 --ipfix 10.0.5.20:4739 --alerts alerts.ndjson --policy policy.yaml
                                                       a long-running fleet sensor (docs/deployment.md)

Long flows are reported every 60 s (--active-timeout 60 is the default here); the --flows and
--alerts files are flushed every second and reopened on SIGHUP (logrotate; a FIFO is kept).
The dashboard draws and reads keys in a thread of its own; if its terminal goes away (ssh
dropped), the capture stops and every output is written, as with q.

Permissions: tcpdump opens the device, so run as root or give tcpdump the capabilities once:
  setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump)
The kernel's drop counts are printed on stderr at the end and are in the --json summary
(source.live); with the cap backend they are unknown. See docs/live-capture.md.`,
    )
    .action(async (iface: string, words: string[], o: Record<string, unknown>) => {
      setExit(await runLive(parseLiveCommand(iface, words, o, io), io));
    });

  program
    .command('interfaces')
    .description('List the devices live capture can open, with the link type a capture will most likely have.')
    .addOption(new Option('--backend <name>', 'ask this backend (default: tcpdump -D, else cap, else /sys/class/net)').choices(BACKENDS).default('auto'))
    .option('--json', 'print the list as JSON')
    .action(async (o: Record<string, unknown>) => {
      try {
        const { listInterfaces } = await import('../../capture/live/open.js');
        const list = listInterfaces(o['backend'] as LiveBackendChoice);
        if (o['json'] === true) {
          io.stdout.write(JSON.stringify(list, null, 2) + '\n');
        } else {
          for (const line of renderInterfaces(list)) io.stdout.writeLine(line);
        }
        setExit(0);
      } catch (err) {
        if (err instanceof PortsniffError && !(err instanceof UsageError)) {
          io.stderr(`portsniff: ${err.message}`);
          setExit(1);
          return;
        }
        throw err;
      }
    });
}

/** Validates and assembles the command's options (throws UsageError). */
export function parseLiveCommand(iface: string, words: string[], o: Record<string, unknown>, io: CliIo): LiveCommandOptions {
  const trailing = words.join(' ').trim();
  const flag = typeof o['filter'] === 'string' ? o['filter'].trim() : undefined;
  if (flag !== undefined && trailing !== '') {
    throw new UsageError(`give the capture filter either with --filter or as trailing words, not both (got --filter '${flag}' and '${trailing}')`);
  }
  const filter = flag ?? trailing;
  if (iface.trim() === '') throw new UsageError('the interface name is empty (see: portsniff interfaces)');
  const capture: LiveCaptureOptions = {
    interface: iface,
    snaplen: o['snaplen'] as number,
    promisc: o['promisc'] !== false,
    onReady: (info) =>
      io.stderr(
        `portsniff: capturing on ${info.interface} with ${info.backend} (link-type ${info.linkTypeName}, snapshot length ${info.snaplen} bytes` +
          `${filter !== '' ? `, filter '${filter}'` : ''}); Ctrl-C to stop`,
      ),
    onWarning: (message) => io.stderr(`portsniff: warning: ${message}`),
  };
  if (filter !== '') capture.filter = filter;
  if (typeof o['bufferSize'] === 'number') capture.bufferSizeKiB = o['bufferSize'];
  if (typeof o['duration'] === 'number') capture.durationSec = o['duration'];
  if (typeof o['count'] === 'number') capture.count = o['count'];
  const session = sessionOptionsFrom(o);
  if (typeof o['write'] === 'string') {
    capture.writePath = o['write'];
    // The pcap and an NDJSON stream in one file would overwrite each other.
    for (const [option, path] of [['--flows', session.flows], ['--alerts', session.fleet?.alerts]] as const) {
      if (path !== undefined && path !== '-' && sameFile(path, o['write'])) throw new UsageError(`--write and ${option} name the same file (${o['write']})`);
    }
  }
  return { backend: o['backend'] as LiveBackendChoice, capture, session, face: faceOptionsFrom(o) };
}

/** Runs one live session; returns the exit code. */
export async function runLive(cmd: LiveCommandOptions, io: CliIo, open?: typeof openLiveSource): Promise<number> {
  let source: LiveSource;
  try {
    source = (open ?? (await import('../../capture/live/open.js')).openLiveSource)(cmd.backend, cmd.capture);
    await source.open(io.signal);
  } catch (err) {
    // Start-up failure: one line, no summary (nothing was captured).
    if (err instanceof PortsniffError && !(err instanceof UsageError)) {
      io.stderr(`portsniff: ${err.message}`);
      return 1;
    }
    throw err;
  }
  let read: CaptureReadResult | null = null;
  const face = await chooseFace(io, cmd.face);
  const code = await runSession(
    {
      kind: 'live',
      name: cmd.capture.interface,
      backend: source.backend,
      ...(cmd.capture.filter !== undefined ? { filter: cmd.capture.filter } : {}),
      liveCounters: () => source.counters?.() ?? null,
      feed: async (sink, signal) => {
        try {
          const r: LiveReadResult = await source.start(sink, signal, flowClockFor(sink));
          read = r;
          return r;
        } catch (err) {
          read = (err as { partial?: CaptureReadResult }).partial ?? null;
          throw err;
        }
      },
    },
    cmd.session,
    io,
    face.extras,
  );
  const stats = (read as CaptureReadResult | null)?.live;
  if (stats !== undefined) io.stderr(`portsniff: ${formatLiveStats(stats)}`);
  return code;
}

/**
 * The flow clock for a quiet link: the sink's own `tick(nowSec)` when it has one (the contract
 * proposed for FrameSink), else the in-process Engine's flow-table sweep.
 */
export function flowClockFor(sink: FrameSink): FlowClockTick | undefined {
  const withTick = sink as FrameSink & { tick?: (nowSec: number) => void };
  if (typeof withTick.tick === 'function') return (nowSec) => withTick.tick!(nowSec);
  if (sink instanceof Engine) return (nowSec) => sink.table.sweepIfDue(nowSec);
  return undefined;
}

/** "lo: 4006 packets captured, 0 dropped by kernel, 0 dropped by interface (tcpdump, 3.2 s)". */
export function formatLiveStats(s: LiveStats): string {
  const n = (v: number | null): string => (v === null ? 'unknown' : String(v));
  const plural = s.captured === 1 ? 'packet' : 'packets';
  let line = `${s.interface}: ${s.captured} ${plural} captured, ${n(s.droppedByKernel)} dropped by kernel, ${n(s.droppedByInterface)} dropped by interface`;
  if (s.engineDrops > 0) line += `, ${s.engineDrops} lost between ${s.backend} and portsniff`;
  line += ` (${s.backend}, ${s.elapsedSec.toFixed(1)} s)`;
  if (s.backend === 'cap') line += '; the cap backend has no drop statistics';
  return line;
}

/** The `interfaces` table. */
export function renderInterfaces(list: ReturnType<typeof listInterfaces>): string[] {
  const rows = list.interfaces.map((i) => [
    i.name,
    i.linkType === null ? '?' : linkTypeLabel(i.linkType),
    [i.description, i.flags.join(', ')].filter((x) => x !== null && x !== '').join('; '),
  ]);
  const header = ['NAME', 'LINK TYPE', 'DESCRIPTION / STATE'];
  const widths = [0, 1].map((c) => Math.max(header[c]!.length, ...rows.map((r) => r[c]!.length)));
  const fmt = (r: string[]): string => `${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!}`.trimEnd();
  return [
    fmt(header),
    ...rows.map(fmt),
    `${list.interfaces.length} device${list.interfaces.length === 1 ? '' : 's'} (from ${list.source}; link types are for the ${list.backend} backend)`,
  ];
}

function linkTypeLabel(lt: number): string {
  const name = linkTypeName(lt);
  return name.startsWith('link type') ? `${lt} (not decoded)` : `${name} (${lt})`;
}
