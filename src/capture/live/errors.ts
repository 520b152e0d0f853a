/**
 * Live-capture failures as one actionable line each (bandwhich style): which interface, what went
 * wrong, how to fix it. libpcap's own words are kept (they are the most precise), prefixes such as
 * "tcpdump: " are not.
 */
import { CaptureFormatError, ErrorCode, PortsniffError } from '../../errors.js';
import type { CaptureReadResult } from '../types.js';
import type { LiveBackendName } from './types.js';

/** A live capture failed; `partial` holds what was captured before, when packets had flowed. */
export class LiveCaptureError extends PortsniffError {
  /** What kind of failure (for tests and callers that react differently). */
  readonly reason: LiveFailure;
  partial?: CaptureReadResult;
  constructor(reason: LiveFailure, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Capture, message, options);
    this.name = 'LiveCaptureError';
    this.reason = reason;
  }
}

export type LiveFailure =
  | 'no-such-interface'
  | 'permission'
  | 'bad-filter'
  | 'backend-missing'
  | 'backend-failed'
  | 'write-failed';

export const TCPDUMP_INSTALL_HINT = 'install it (apt-get install tcpdump) or use --backend cap';
export const CAP_BUILD_HINT =
  'build it with: apt-get install libpcap-dev && npm rebuild cap (run npm install first if node_modules/cap is missing)';
export const SETCAP_HINT = 'setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump)';

/**
 * Turns libpcap/tcpdump error text into a LiveCaptureError. `text` is everything the backend said
 * (tcpdump's stderr, or the binding's exception message); `filter` the BPF expression in use.
 */
export function classifyCaptureFailure(
  backend: LiveBackendName,
  iface: string,
  filter: string | undefined,
  text: string,
): LiveCaptureError {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^tcpdump: (listening on|WARNING)/.test(l) && !/packets? (captured|received by filter|dropped by)/.test(l));
  const said = lines.map((l) => l.replace(/^tcpdump: /, '')).join(' ');
  // libpcap: "You don't have permission to perform this capture on that device (socket: Operation
  // not permitted)", or "... to capture on that device"; plain EPERM/EACCES from socket().
  if (/permission|Operation not permitted|Permission denied/i.test(said)) {
    const how =
      backend === 'tcpdump'
        ? `run portsniff as root, or allow tcpdump to capture without root: ${SETCAP_HINT}`
        : 'the cap backend captures inside the Node process: run portsniff as root, or use --backend tcpdump with a setcap-enabled tcpdump';
    return new LiveCaptureError('permission', `cannot capture on '${iface}': permission denied (${stripIface(said, iface)}); ${how}`);
  }
  // "nosuch0: No such device exists (SIOCGIFHWADDR: No such device)", "... doesn't exist".
  if (/No such device|doesn't exist|does not exist|no such interface/i.test(said)) {
    return new LiveCaptureError('no-such-interface', `cannot capture on '${iface}': no such interface (list them with: portsniff interfaces)`);
  }
  if (filter !== undefined && filter !== '' && looksLikeFilterError(said)) {
    return new LiveCaptureError('bad-filter', `invalid capture filter '${filter}': ${said}`);
  }
  const what = said === '' ? 'it stopped without saying why' : said;
  return new LiveCaptureError('backend-failed', `capture on '${iface}' failed (${backend}): ${what}`);
}

/**
 * pcap_compile()'s messages: "syntax error", "can't parse filter expression: syntax error",
 * "unknown port 'foo'", "illegal port number 99999 > 65535", "unknown host 'x'", "ip proto
 * 'foo' not known", "expression rejects all packets", "'tcp' modifier applied to ...".
 */
function looksLikeFilterError(said: string): boolean {
  return /syntax error|parse filter|filter expression|illegal|unknown (port|host|protocol|network|ether|proto)|not known|modifier|expression|bpf|invalid|mask|too (big|large)|not supported/i.test(
    said,
  );
}

function stripIface(said: string, iface: string): string {
  return said.startsWith(`${iface}: `) ? said.slice(iface.length + 2) : said;
}

/**
 * Attaches what was captured before a failure, so the summary still reports it. A PortsniffError
 * from elsewhere (the --write file, ...) becomes a LiveCaptureError carrying the partial result.
 */
export function withLivePartial(err: unknown, partial: CaptureReadResult): unknown {
  if (err instanceof CaptureFormatError || err instanceof LiveCaptureError) {
    err.partial ??= partial;
    return err;
  }
  if (err instanceof PortsniffError) {
    const wrapped = new LiveCaptureError('write-failed', err.message, { cause: err });
    wrapped.partial = partial;
    return wrapped;
  }
  return err;
}
