/**
 * Proxy mappings: which local address and port relays to which upstream.
 *
 *   [tcp:|udp:][LISTEN_ADDR:]PORT[-PORT]=UPSTREAM_HOST:PORT[-PORT]
 *
 * LISTEN_ADDR is an IP literal (IPv6 in brackets) or `localhost`, default 127.0.0.1: any other
 * bind is explicit. A port range maps one to one onto an upstream range of the same size
 * (`16000-16010=db:12000-12010`). Listen port 0 lets the system pick a free port (tests, one-off
 * runs; the startup line names it). The upstream host may be a name; it is resolved for each
 * connection, so DNS changes apply to new connections.
 */
import { isIP } from '../util/builtins.js';
import { UsageError } from '../errors.js';

export type ProxyTransport = 'tcp' | 'udp';
export type ProxyProtocolVersion = 'v1' | 'v2';

export interface ProxyMapping {
  transport: ProxyTransport;
  /** IP literal the listener binds. */
  listenHost: string;
  /** 0: the system picks one. */
  listenPort: number;
  /** Name or IP literal (without brackets). */
  upstreamHost: string;
  upstreamPort: number;
  /** The listener expects a PROXY protocol header (v1 or v2) in front of every connection. */
  proxyProtocolIn: boolean;
  /** Send a PROXY protocol header of this version to the upstream. */
  proxyProtocolOut: ProxyProtocolVersion | null;
  /** Where the mapping was given, for messages: `--map 16000=db:12000` or `proxy.yaml:4:5`. */
  origin: string;
}

export const DEFAULT_LISTEN_HOST = '127.0.0.1';
/** Listeners one run may open (a range like 1-65535 is a typo, not a plan). */
export const MAX_LISTENERS = 1024;

/** Per-mapping settings given next to the text (config file keys, command-line flags). */
export interface MappingSettings {
  proxyProtocolIn?: boolean;
  proxyProtocolOut?: ProxyProtocolVersion | null;
}

/**
 * Parses one `--map` value into its mappings (one per port of a range). Throws UsageError naming
 * `origin` and what is wrong.
 */
export function parseMapping(text: string, origin: string, settings: MappingSettings = {}): ProxyMapping[] {
  const fail = (why: string): never => {
    throw new UsageError(`${origin}: ${why} (expected [tcp:|udp:][LISTEN_ADDR:]PORT[-PORT]=UPSTREAM_HOST:PORT[-PORT], e.g. 16000=db.internal:12000)`);
  };
  const s = text.trim();
  const eq = s.indexOf('=');
  if (eq < 0 || s.indexOf('=', eq + 1) >= 0) fail(`'${text}' needs exactly one '='`);
  let left = s.slice(0, eq).trim();
  const right = s.slice(eq + 1).trim();
  let transport: ProxyTransport = 'tcp';
  const t = /^(tcp|udp):/i.exec(left);
  if (t !== null) {
    transport = t[1]!.toLowerCase() as ProxyTransport;
    left = left.slice(t[0].length);
  }
  const listen = splitHostPorts(left, false, fail);
  const upstream = splitHostPorts(right, true, fail);
  const listenHost = listen.host === null ? DEFAULT_LISTEN_HOST : listen.host === 'localhost' ? '127.0.0.1' : listen.host;
  if (isIP(listenHost) === 0) fail(`listen address '${listen.host}' is not an IP address (use 0.0.0.0 or :: to listen on every interface)`);
  const n = listen.hi - listen.lo + 1;
  const m = upstream.hi - upstream.lo + 1;
  if (n !== m) {
    fail(`${listen.lo}-${listen.hi} has ${n} port${n === 1 ? '' : 's'} but ${upstream.lo}-${upstream.hi} has ${m}: ranges map one to one`);
  }
  if (listen.lo === 0 && n > 1) fail('listen port 0 (any free port) cannot be part of a range');
  if (upstream.lo === 0) fail('upstream port 0 is not a port');
  if (n > MAX_LISTENERS) fail(`${n} ports is more than ${MAX_LISTENERS} listeners`);
  if (transport === 'udp' && (settings.proxyProtocolIn === true || (settings.proxyProtocolOut ?? null) !== null)) {
    fail('the PROXY protocol is for TCP listeners only');
  }
  const out: ProxyMapping[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      transport,
      listenHost,
      listenPort: listen.lo + i,
      upstreamHost: upstream.host!,
      upstreamPort: upstream.lo + i,
      proxyProtocolIn: settings.proxyProtocolIn === true,
      proxyProtocolOut: settings.proxyProtocolOut ?? null,
      origin,
    });
  }
  return out;
}

/** `--listen` + `--upstream`: the one-mapping form. */
export function parseListenUpstream(listen: string, upstream: string, settings: MappingSettings = {}): ProxyMapping[] {
  return parseMapping(`${listen}=${upstream}`, `--listen ${listen} --upstream ${upstream}`, settings);
}

/** Rejects two listeners on the same transport, address and port (port 0 never clashes). */
export function checkMappings(mappings: readonly ProxyMapping[]): void {
  if (mappings.length === 0) throw new UsageError('give at least one mapping: --map [LISTEN_ADDR:]PORT=UPSTREAM_HOST:PORT, --listen/--upstream or --config FILE');
  if (mappings.length > MAX_LISTENERS) throw new UsageError(`${mappings.length} listeners is more than ${MAX_LISTENERS}`);
  const seen = new Map<string, ProxyMapping>();
  for (const m of mappings) {
    if (m.listenPort === 0) continue;
    const key = `${m.transport} ${m.listenHost} ${m.listenPort}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw new UsageError(`${m.origin}: ${m.transport} ${formatHostPort(m.listenHost, m.listenPort)} is already mapped by ${prev.origin}`);
    }
    seen.set(key, m);
  }
}

/** `127.0.0.1:16000`, `[::1]:16000`, `db.internal:12000`. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Whether a listen address is only reachable from this host. */
export function isLoopback(host: string): boolean {
  return host === '::1' || /^127\./.test(host) || /^::ffff:127\./i.test(host);
}

interface HostPorts {
  host: string | null;
  lo: number;
  hi: number;
}

function splitHostPorts(text: string, needHost: boolean, fail: (why: string) => never): HostPorts {
  let host: string | null = null;
  let ports = text;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') fail(`'${text}': an IPv6 address goes in brackets followed by :PORT, e.g. [::1]:6379`);
    host = text.slice(1, close);
    if (isIP(host) !== 6) fail(`'${host}' is not an IPv6 address`);
    ports = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      host = text.slice(0, colon);
      ports = text.slice(colon + 1);
      if (host.includes(':')) fail(`'${text}': put an IPv6 address in brackets, e.g. [${host}]:${ports}`);
      if (host === '') fail(`'${text}' has an empty host`);
    }
  }
  if (needHost && host === null) {
    fail(/^\d+(-\d+)?$/.test(text) ? `the upstream '${text}' needs a host, e.g. 127.0.0.1:${text}` : `the upstream '${text}' needs a port, e.g. ${text || 'db.internal'}:6379`);
  }
  if (host !== null && !/^[A-Za-z0-9.\-_:%]+$/.test(host)) fail(`'${host}' is not a host name or address`);
  const r = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(ports);
  if (r === null) fail(`'${ports}' is not a port or a port range`);
  const lo = Number(r![1]);
  const hi = r![2] === undefined ? lo : Number(r![2]);
  if (lo > 65535 || hi > 65535) fail(`port ${Math.max(lo, hi)} is above 65535`);
  if (hi < lo) fail(`range ${lo}-${hi} ends before it starts`);
  return { host, lo, hi };
}
