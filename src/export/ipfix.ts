/**
 * `--ipfix HOST:PORT`: every finished flow record goes to an IPFIX collector (nfdump's nfcapd,
 * pmacct, GoFlow2, ElastiFlow, ...) over UDP, as a SessionConsumer. Encoding: ipfix-encode.ts;
 * elements: docs/ipfix.md.
 *
 * UDP has no session, so the templates go out in the first message and again every
 * `templateRefreshSec` seconds of wall-clock time or every `templateRefreshMessages` messages,
 * whichever comes first (RFC 7011 section 8.4): a collector started (or restarted) after portsniff
 * learns them within that time. A message is sent when it is full, when `flushIntervalMs` passed
 * since its first record (checked at every session update), and at the end. UDP has no flow
 * control either: a collector that falls behind loses messages, which it can see as gaps in the
 * sequence numbers. Send errors (no collector listening: ICMP port unreachable) are counted and
 * reported once at the end, never fatal.
 */
import type { Socket } from 'node:dgram';
import { isIP, nodeDgram } from '../util/builtins.js';
import { UsageError } from '../errors.js';
import type { ClassifiedFlow } from '../pipeline/results.js';
import type { SessionConsumer, SessionEnd, SessionUpdate } from './consumer.js';
import {
  DEFAULT_ENTERPRISE_NUMBER,
  DEFAULT_MAX_MESSAGE_BYTES,
  encodeFlowRecordViews,
  MessageBuilder,
  TEMPLATE_ID_IPV4,
  TEMPLATE_ID_IPV6,
  templateFields,
} from './ipfix-encode.js';

export interface IpfixTarget {
  host: string;
  port: number;
}

/** `HOST:PORT` with an IPv4 address, `[v6]:PORT`, or `name:PORT` (resolved by the socket). */
export function parseIpfixTarget(text: string): IpfixTarget {
  const t = text.trim();
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(t) ?? /^([^:\s]+):(\d{1,5})$/.exec(t);
  if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new UsageError(`--ipfix: expected HOST:PORT of the collector, e.g. 127.0.0.1:4739 or [fd00::5]:4739 (got '${text}')`);
  }
  if (t.startsWith('[') && isIP(m[1]!) !== 6) throw new UsageError(`--ipfix: '${m[1]}' is not an IPv6 address (got '${text}')`);
  return { host: m[1]!, port: Number(m[2]) };
}

export interface IpfixOptions extends IpfixTarget {
  /** Observation Domain ID in every message header (default 1). */
  domain?: number;
  /** Enterprise number of portsniff's own elements (default 32473, see ipfix-encode.ts). */
  enterprise?: number;
  maxMessageBytes?: number;
  templateRefreshSec?: number;
  templateRefreshMessages?: number;
  flushIntervalMs?: number;
  /** Wall clock in ms (tests). */
  now?: () => number;
  /** Called once at the end when messages could not be sent. */
  onWarning?: (message: string) => void;
}

export interface IpfixStats {
  messages: number;
  /** Data records (two per flow that carried packets both ways). */
  records: number;
  flows: number;
  templateMessages: number;
  sendErrors: number;
  lastError: string | null;
}

export class IpfixExporter implements SessionConsumer {
  readonly updateNeeds = 'totals';
  readonly stats: IpfixStats = { messages: 0, records: 0, flows: 0, templateMessages: 0, sendErrors: 0, lastError: null };
  private readonly builder: MessageBuilder;
  private readonly enterprise: number;
  private readonly refreshMs: number;
  private readonly refreshMessages: number;
  private readonly flushMs: number;
  private readonly now: () => number;
  /** Data records sent before the message being built (the next message's sequence number). */
  private sequence = 0;
  private lastTemplatesAt = -Infinity;
  private messagesSinceTemplates = 0;
  private openedAt = 0;
  private pending = 0;
  private idle: Array<() => void> = [];
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly opts: IpfixOptions,
  ) {
    this.enterprise = opts.enterprise ?? DEFAULT_ENTERPRISE_NUMBER;
    this.builder = new MessageBuilder(opts.domain ?? 1, opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    this.refreshMs = (opts.templateRefreshSec ?? 60) * 1000;
    this.refreshMessages = opts.templateRefreshMessages ?? 1000;
    this.flushMs = opts.flushIntervalMs ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** Opens the UDP socket towards the collector (resolves `host`; throws UsageError when it cannot). */
  static async open(opts: IpfixOptions): Promise<IpfixExporter> {
    const family = isIP(opts.host) === 6 ? 'udp6' : 'udp4';
    const socket = nodeDgram().createSocket(family);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      // A name that does not resolve comes to the callback (Node's types leave that argument out);
      // ignoring it left the socket unconnected, and the first send threw.
      const connected = (err?: Error | null): void => {
        socket.off('error', reject);
        if (err) reject(err);
        else resolve();
      };
      socket.connect(opts.port, opts.host, connected as () => void);
    }).catch((err: NodeJS.ErrnoException) => {
      socket.close();
      throw new UsageError(`--ipfix: cannot reach ${opts.host}:${opts.port}: ${err.code === 'ENOTFOUND' ? 'no such host' : err.message}`);
    });
    const exporter = new IpfixExporter(socket, opts);
    // A send error may also surface as an 'error' event: counted, never thrown.
    socket.on('error', (err) => exporter.noteError(err));
    socket.unref();
    return exporter;
  }

  private noteError(err: Error): void {
    this.stats.sendErrors++;
    this.stats.lastError = (err as NodeJS.ErrnoException).code ?? err.message;
  }

  flow(f: ClassifiedFlow): void {
    if (this.closed) return;
    // Views of reused memory: addRecord copies each into the message at once.
    const records = encodeFlowRecordViews(f);
    if (records.length === 0) return;
    this.stats.flows++;
    for (const r of records) {
      const templateId = r.ipVersion === 4 ? TEMPLATE_ID_IPV4 : TEMPLATE_ID_IPV6;
      if (!this.builder.empty && !this.builder.fits(r.bytes.length, templateId)) this.send();
      if (this.builder.empty) this.beginMessage();
      this.builder.addRecord(r);
    }
  }

  /** A new message: templates first when they are due. */
  private beginMessage(): void {
    this.openedAt = this.now();
    if (this.openedAt - this.lastTemplatesAt >= this.refreshMs || this.messagesSinceTemplates >= this.refreshMessages) {
      this.builder.addTemplates(this.enterprise);
      this.lastTemplatesAt = this.openedAt;
      this.messagesSinceTemplates = 0;
      this.stats.templateMessages++;
    }
  }

  update(_u: SessionUpdate): void {
    if (this.closed) return;
    const now = this.now();
    if (!this.builder.empty && now - this.openedAt >= this.flushMs) this.send();
    // A quiet sensor still refreshes the templates for a collector that restarted.
    else if (this.builder.empty && this.lastTemplatesAt > -Infinity && now - this.lastTemplatesAt >= this.refreshMs) {
      this.beginMessage();
      this.send();
    }
  }

  private send(): void {
    if (this.builder.empty) return;
    const { bytes, records } = this.builder.finish(Math.floor(this.now() / 1000), this.sequence);
    this.sequence = (this.sequence + records) >>> 0;
    this.stats.messages++;
    this.stats.records += records;
    this.messagesSinceTemplates++;
    this.pending++;
    this.socket.send(bytes, (err) => {
      if (err) this.noteError(err);
      if (--this.pending === 0) for (const w of this.idle.splice(0)) w();
    });
  }

  /** Sends what is buffered and waits until the kernel took every message. */
  async flush(): Promise<void> {
    this.send();
    if (this.pending > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  async finish(_end: SessionEnd): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    if (this.stats.sendErrors > 0) {
      const hint = this.stats.lastError === 'ECONNREFUSED' ? ': nothing listens there (ICMP port unreachable)' : '';
      this.opts.onWarning?.(
        `ipfix: ${this.stats.sendErrors} of ${this.stats.messages} messages to ${this.opts.host}:${this.opts.port} failed (${this.stats.lastError})${hint}`,
      );
    }
  }

  /** Template field counts (tests, docs). */
  static templateFieldCount(v: 4 | 6): number {
    return templateFields(v, DEFAULT_ENTERPRISE_NUMBER).length;
  }
}
