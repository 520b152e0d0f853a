/**
 * The HTTP side of `--metrics [ADDR:]PORT`: serves GET /metrics from a MetricsConsumer's registry.
 * Binds 127.0.0.1 unless an address is given (the vendor documents warn that metrics ports must not
 * be public); the caller announces where it listens, and says so when that is not loopback.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIP, nodeHttp } from '../util/builtins.js';
import { ErrorCode, PortsniffError, UsageError } from '../errors.js';
import type { MetricsConsumer } from './metrics.js';

export interface MetricsAddress {
  host: string;
  /** 0 = any free port (the startup line says which). */
  port: number;
}

export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** `9464`, `127.0.0.1:9464`, `0.0.0.0:9464`, `[::1]:9464`, `[::]:9464`; throws UsageError. */
export function parseMetricsAddress(text: string): MetricsAddress {
  const t = text.trim();
  let host = DEFAULT_METRICS_HOST;
  let portText = t;
  const bracket = /^\[([^\]]+)\]:(.*)$/.exec(t);
  if (bracket !== null) {
    host = bracket[1]!;
    portText = bracket[2]!;
  } else if (t.includes(':')) {
    const i = t.lastIndexOf(':');
    host = t.slice(0, i);
    portText = t.slice(i + 1);
    if (host.includes(':')) throw new UsageError(`--metrics: write an IPv6 address in brackets, e.g. [::1]:9464 (got '${text}')`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new UsageError(`--metrics: expected [ADDR:]PORT with PORT 0-65535, e.g. 9464 or 0.0.0.0:9464 (got '${text}')`);
  }
  if (isIP(host) === 0) throw new UsageError(`--metrics: '${host}' is not an IPv4 or IPv6 address (got '${text}')`);
  return { host, port: Number(portText) };
}

export function isLoopbackHost(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || host === '::ffff:127.0.0.1';
}

export class MetricsServer {
  /** Scrapes of /metrics answered after the consumer saw the end of the session. */
  private finalScrapes = 0;
  private finalScrapeWaiters: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
    private readonly consumer: MetricsConsumer,
  ) {}

  /** Listens (throws PortsniffError PSN_ERR_IO naming the address when it cannot). */
  static listen(addr: MetricsAddress, consumer: MetricsConsumer): Promise<MetricsServer> {
    return new Promise((resolve, reject) => {
      let self: MetricsServer | null = null;
      const server = nodeHttp().createServer((req, res) => void self?.handle(req, res));
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EADDRNOTAVAIL' ? 'no such local address' : err.code === 'EACCES' ? 'permission denied' : err.message;
        reject(new PortsniffError(ErrorCode.Io, `--metrics: cannot listen on ${formatHostPort(addr.host, addr.port)}: ${why}`));
      });
      server.listen({ host: addr.host, port: addr.port, exclusive: true }, () => {
        const a = server.address();
        const port = typeof a === 'object' && a !== null ? a.port : addr.port;
        self = new MetricsServer(server, addr.host, port, consumer);
        // Scrapers keep connections open; they must not keep the process alive at the end.
        server.unref();
        resolve(self);
      });
    });
  }

  get url(): string {
    return `http://${formatHostPort(this.host, this.port)}/metrics`;
  }

  /** The startup line (stderr). */
  describe(): string {
    const where = `portsniff: metrics at ${this.url}`;
    if (isLoopbackHost(this.host)) return `${where} (loopback only)`;
    return `${where}: bound to ${this.host} as asked, so other hosts can reach it; restrict it with a firewall or NetworkPolicy`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('portsniff: metrics are at /metrics\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    try {
      const ended = this.consumer.ended;
      const body = await this.consumer.metrics();
      res.writeHead(200, { 'content-type': this.consumer.registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
      if (ended) {
        this.finalScrapes++;
        for (const w of this.finalScrapeWaiters.splice(0)) w();
      }
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`error collecting metrics: ${(err as Error).message}\n`);
    }
  }

  /**
   * After the session ended: resolves once a scrape has read the final figures, or after
   * `timeoutMs`, or when `signal` aborts. Returns whether a final scrape happened.
   */
  waitForFinalScrape(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.finalScrapes > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve(this.finalScrapes > 0);
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.finalScrapeWaiters.push(done);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
