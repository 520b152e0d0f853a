/**
 * `portsniff proxy --config FILE`: the same mappings and settings as the command line, in YAML.
 *
 *   maps:
 *     - 16000-16010=db.internal:12000-12010          # the --map syntax
 *     - listen: 0.0.0.0:26500                          # or a map, with per-listener settings
 *       upstream: zeebe-gateway:26500
 *       proxy_protocol_in: true                        # expect a PROXY header (v1 or v2)
 *       proxy_protocol_out: v2                         # send one upstream (v1, v2 or none)
 *     - udp:5300=10.0.0.2:53
 *   connect_timeout: 5
 *   idle_timeout: 300
 *   linger: 30
 *   udp_idle_timeout: 30
 *   max_connections: 4096
 *
 * Every problem is reported as `file:line:col: problem` (all of them, then a usage error), like the
 * rule files; unknown keys are errors (a typo is reported, not ignored).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Node as YamlNode, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { PortsniffError, UsageError } from '../errors.js';
import { parseMapping, type ProxyMapping, type ProxyProtocolVersion } from './mapping.js';

/** What the command line and a --config file override (here, not in server.ts: `portsniff --help` needs them, the relay only when it runs). */
export const DEFAULT_PROXY_SETTINGS = { connectTimeout: 5, idleTimeout: 300, linger: 30, udpIdleTimeout: 30, maxConnections: 4096 } as const;

export interface ProxyFileSettings {
  connectTimeout?: number;
  idleTimeout?: number;
  linger?: number;
  udpIdleTimeout?: number;
  maxConnections?: number;
}

export interface ProxyConfig {
  mappings: ProxyMapping[];
  settings: ProxyFileSettings;
}

const TOP_KEYS = ['maps', 'connect_timeout', 'idle_timeout', 'linger', 'udp_idle_timeout', 'max_connections'] as const;
const MAP_KEYS = ['listen', 'upstream', 'transport', 'proxy_protocol_in', 'proxy_protocol_out'] as const;
const SECONDS: Record<string, keyof ProxyFileSettings> = {
  connect_timeout: 'connectTimeout',
  idle_timeout: 'idleTimeout',
  linger: 'linger',
  udp_idle_timeout: 'udpIdleTimeout',
};

// The yaml package is loaded only when a config file is read: other commands never pay for it
// (the shipped rules come from a build-time cache, see rules/load.ts).
let yamlModule: typeof import('yaml') | null = null;
function yaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}
const isMap = (node: unknown): node is YAMLMap => yaml().isMap(node);
const isSeq = (node: unknown): node is YAMLSeq => yaml().isSeq(node);
const isScalar = (node: unknown): node is Scalar => yaml().isScalar(node);

/** Thrown for a config file with problems: a usage error (exit 2) listing each as file:line:col. */
export class ProxyConfigError extends UsageError {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ProxyConfigError';
  }
}

export function loadProxyConfig(path: string): ProxyConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`--config ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message}`);
  }
  return parseProxyConfig(path, text);
}

export function parseProxyConfig(path: string, text: string): ProxyConfig {
  const { LineCounter, parseDocument } = yaml();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  const at = (node: YamlNode | null | undefined, problem: string): void => {
    const range = node?.range;
    const { line, col } = range ? lc.linePos(range[0]) : { line: 1, col: 1 };
    problems.push(`${path}:${line}:${col}: ${problem}`);
  };
  const where = (node: YamlNode | null | undefined): string => {
    const { line, col } = node?.range ? lc.linePos(node.range[0]) : { line: 1, col: 1 };
    return `${path}:${line}:${col}`;
  };
  if (doc.errors.length > 0 || doc.warnings.length > 0) {
    for (const e of [...doc.errors, ...doc.warnings]) {
      const { line, col } = lc.linePos(e.pos[0]);
      problems.push(`${path}:${line}:${col}: YAML: ${e.message.split('\n')[0]}`);
    }
    throw new ProxyConfigError(problems);
  }
  const root = doc.contents as YamlNode | null;
  const config: ProxyConfig = { mappings: [], settings: {} };
  if (!isMap(root)) {
    at(root, `the proxy config must be a map with keys ${TOP_KEYS.join(', ')}`);
    throw new ProxyConfigError(problems);
  }
  let sawMaps = false;
  for (const pair of root.items) {
    const keyNode = pair.key as YamlNode;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const value = pair.value as YamlNode | null;
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      at(keyNode, `unknown key '${key}' (known: ${TOP_KEYS.join(', ')})`);
      continue;
    }
    if (key === 'maps') {
      sawMaps = true;
      if (!isSeq(value) || value.items.length === 0) {
        at(value ?? keyNode, "'maps' must be a non-empty list of mappings");
        continue;
      }
      for (const item of value.items as YamlNode[]) {
        try {
          config.mappings.push(...mappingOf(item, where, at));
        } catch (err) {
          if (err instanceof PortsniffError) problems.push(err.message);
          else throw err;
        }
      }
    } else if (key === 'max_connections') {
      const n = isScalar(value) ? value.value : null;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1_000_000) at(value ?? keyNode, `'max_connections' must be a whole number from 1 to 1000000`);
      else config.settings.maxConnections = n;
    } else {
      const n = isScalar(value) ? value.value : null;
      if (typeof n !== 'number' || !(n > 0) || !Number.isFinite(n)) at(value ?? keyNode, `'${key}' must be a number of seconds greater than 0`);
      else config.settings[SECONDS[key]!] = n;
    }
  }
  if (!sawMaps) at(root, "missing required key 'maps'");
  if (problems.length > 0) throw new ProxyConfigError(problems);
  return config;
}

function mappingOf(item: YamlNode, where: (n: YamlNode | null | undefined) => string, at: (n: YamlNode | null | undefined, p: string) => void): ProxyMapping[] {
  if (isScalar(item) && typeof item.value === 'string') return parseMapping(item.value, where(item));
  if (!isMap(item)) {
    at(item, "a mapping is a string like '16000=db:12000' or a map with listen and upstream");
    return [];
  }
  let listen: string | null = null;
  let upstream: string | null = null;
  let transport: string | null = null;
  let ppIn = false;
  let ppOut: ProxyProtocolVersion | null = null;
  let ok = true;
  for (const pair of item.items) {
    const keyNode = pair.key as YamlNode;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const value = pair.value as YamlNode | null;
    const v = isScalar(value) ? value.value : undefined;
    switch (key) {
      case 'listen':
      case 'upstream':
        if (typeof v !== 'string' && typeof v !== 'number') {
          at(value ?? keyNode, `'${key}' must be [ADDR:]PORT[-PORT]${key === 'upstream' ? ' with a host' : ''}`);
          ok = false;
        } else if (key === 'listen') listen = String(v);
        else upstream = String(v);
        break;
      case 'transport':
        if (v !== 'tcp' && v !== 'udp') {
          at(value ?? keyNode, "'transport' must be tcp or udp");
          ok = false;
        } else transport = v;
        break;
      case 'proxy_protocol_in':
        if (typeof v !== 'boolean') {
          at(value ?? keyNode, "'proxy_protocol_in' must be true or false");
          ok = false;
        } else ppIn = v;
        break;
      case 'proxy_protocol_out':
        if (v !== 'v1' && v !== 'v2' && v !== 'none' && v !== false) {
          at(value ?? keyNode, "'proxy_protocol_out' must be v1, v2 or none");
          ok = false;
        } else ppOut = v === 'v1' || v === 'v2' ? v : null;
        break;
      default:
        at(keyNode, `unknown key '${key}' (known: ${MAP_KEYS.join(', ')})`);
        ok = false;
    }
  }
  if (listen === null || upstream === null) {
    at(item, `a mapping needs ${listen === null ? "'listen'" : ''}${listen === null && upstream === null ? ' and ' : ''}${upstream === null ? "'upstream'" : ''}`);
    return [];
  }
  if (!ok) return [];
  const prefix = transport !== null && !/^(tcp|udp):/i.test(listen) ? `${transport}:` : '';
  return parseMapping(`${prefix}${listen}=${upstream}`, where(item), { proxyProtocolIn: ppIn, proxyProtocolOut: ppOut });
}
