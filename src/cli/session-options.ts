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

/** Validates the list now (usage error, exit 2); the workers parse the same text again. */
function monitoringHostsOption(value: string): string {
  parseCidrList(value);
  return value;
}

export function addSessionOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print one JSON summary on stdout at the end instead of the text table')
    .option('--flows <path>', 'write one JSON line per flow (NDJSON) to PATH, or - for stdout')
    .addOption(
      new Option('--max-flows <n>', 'bound on live flows; the least recently seen flow is evicted (and counted) when full')
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
        .default(DEFAULT_ENGINE_OPTIONS.activeTimeout)
        .argParser(parseSecondsOption('--active-timeout', true)),
    )
    .addOption(new Option('--rules <dir>', 'extra rule directory (repeatable; later ones may override)').argParser(collectRepeat))
    .addOption(new Option('--products <list>', 'only classify against these products, e.g. zeebe,redis-enterprise').argParser(collectList))
    .option('--no-rules', 'do not load the shipped rules/ (flows only, no classification)')
    .addOption(
      new Option(
        '--monitoring-hosts <list>',
        'addresses/prefixes of your monitoring systems, e.g. 10.0.5.0/24,fd00:5::/64: clients of monitoring-only ports (metrics) outside them are exposure violations',
      ).argParser(monitoringHostsOption),
    )
    .addOption(new Option('--top <n>', 'flows listed in the text summary').default(20).argParser(parseIntOption('--top', 0, 100_000)))
    .addOption(
      new Option(
        '--workers <n>',
        `decoding threads (0 = decode on the reading thread); output is the same for any value (default: ${defaultWorkers()} on this machine, 1 with the dashboard)`,
      ).argParser(parseIntOption('--workers', 0, MAX_WORKERS)),
    )
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
      .default(null, 'max')
      .argParser((v: string) => {
        try {
          return parseSpeed(v);
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
    ...(typeof o['flows'] === 'string' ? { flows: o['flows'] } : {}),
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
    noRules: o['rules'] === false,
    ...(typeof o['monitoringHosts'] === 'string' ? { monitoringHosts: o['monitoringHosts'] } : {}),
    ...(typeof o['workers'] === 'number' ? { workers: o['workers'] } : {}),
    ...(o['speed'] !== undefined ? { speed: o['speed'] as number | null } : {}),
  };
}

