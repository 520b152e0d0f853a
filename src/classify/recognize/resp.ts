/**
 * RESP recogniser: the Redis serialization protocol, RESP2 and RESP3 (redis.io "Redis
 * serialization protocol specification").
 *
 * Towards the server: a command is an array of bulk strings ("*N\r\n$L\r\nCMD\r\n..."), whose
 * first element is the command name (detail.respCommand, upper-cased), or an inline command line
 * ("PING\r\n") whose first word is on a short list. Towards the client: a reply, recognised by its
 * type byte and a well-formed first line; aggregates also need a well-formed first element when it
 * is in the bytes. Lines must end in CRLF. Strict on purpose: random bytes, HTTP and TLS are not RESP.
 */
import { ascii, isAlpha, isDigit, isUpper, latin1, matchBytes, matchLower, windowEnd } from './bytes.js';
import { Direction, NO_DETAIL, type ProtocolEvidence } from './evidence.js';

const CR = 0x0d;
const LF = 0x0a;
/** Longest first line we look for a CRLF in. */
const MAX_LINE = 1024;
/** Longest command name (Redis' longest is ~30; module commands like FT.AGGREGATE are shorter). */
const MAX_COMMAND_LEN = 32;
/** Redis' proto-max-bulk-len default is 512 MB; larger lengths are not RESP. */
const MAX_BULK_LEN = 512 * 1024 * 1024;
/** Redis limits multibulk length to 1024*1024*1024 elements; we accept up to that. */
const MAX_AGGREGATE = 1024 * 1024 * 1024;
const MAX_DEPTH = 4;
/** Longer first words cannot be on RESP_INLINE_COMMANDS (longest: SUBSCRIBE). */
const MAX_INLINE_WORD = 9;

/**
 * Inline commands we accept (a client typing into a socket, or health checks such as HAProxy's
 * "PING"). Longer list = more false positives; these are the ones seen in practice.
 */
export const RESP_INLINE_COMMANDS: ReadonlySet<string> = new Set([
  'PING', 'QUIT', 'INFO', 'AUTH', 'HELLO', 'SELECT', 'ECHO', 'DBSIZE', 'MONITOR', 'COMMAND', 'CLIENT',
  'CONFIG', 'KEYS', 'EXISTS', 'GET', 'SET', 'DEL', 'FLUSHALL', 'SHUTDOWN', 'SUBSCRIBE', 'ROLE', 'CLUSTER',
]);

const INLINE_LIST = [...RESP_INLINE_COMMANDS];
const INLINE_BYTES = INLINE_LIST.map((c) => ascii(c.toLowerCase()));
const SP_HTTP_1 = ascii(' HTTP/1.');

/** First bytes of RESP2/RESP3 values: + - : $ * _ # , ( ! = % ~ | > */
const REPLY_TYPES = '+-:$*_#,(!=%~|>';
const IS_REPLY_TYPE = new Uint8Array(256);
for (let i = 0; i < REPLY_TYPES.length; i++) IS_REPLY_TYPE[REPLY_TYPES.charCodeAt(i)] = 1;
const RESP3_ONLY = '_#,(!=%~|>';

/** True when `b` can start RESP bytes (cheap dispatch check): a type byte or an inline command letter. */
export function mayStartResp(b: number): boolean {
  return IS_REPLY_TYPE[b] === 1 || isAlpha(b);
}

/**
 * What every answer without details is: one shared object, which the classifier recognises by
 * identity (its tag set needs no working out per flow).
 */
const SLIM_RESP: ProtocolEvidence = Object.freeze({ protocol: 'resp', tags: Object.freeze(['resp']), detail: NO_DETAIL }) as ProtocolEvidence;

/**
 * RESP command (ToServer) or reply (ToClient) bytes. `detail` false: the same answer without the
 * decoded fields (SLIM_RESP). Never throws.
 */
export function recognizeResp(buf: Uint8Array, offset: number, length: number, direction: Direction, detail = true): ProtocolEvidence | null {
  const end = windowEnd(buf, offset, length);
  if (end < 0) return null;
  if (direction === Direction.ToServer) {
    return buf[offset] === 0x2a ? command(buf, offset, end, detail) : inline(buf, offset, end, detail);
  }
  const first = buf[offset]!;
  if (IS_REPLY_TYPE[first] !== 1) return null;
  if (checkValue(buf, offset, end, 0) < 0) return null;
  if (!detail) return SLIM_RESP;
  const fields: Record<string, string> = { respType: String.fromCharCode(first) };
  if (first === 0x2b || first === 0x2d) {
    const e = lineEnd(buf, offset + 1, end);
    fields['respReply'] = latin1(buf, offset + 1, Math.min(e, offset + 1 + 64));
  }
  if (RESP3_ONLY.includes(String.fromCharCode(first))) fields['respVersion'] = '3';
  return { protocol: 'resp', tags: ['resp'], detail: fields };
}

/** Index of the CR of the CRLF ending the line that starts at p, or -1 (absent, bare LF, or too long). */
function lineEnd(buf: Uint8Array, p: number, end: number): number {
  const limit = Math.min(end - 1, p + MAX_LINE);
  for (let i = p; i < limit; i++) {
    const b = buf[i]!;
    if (b === CR) return buf[i + 1] === LF ? i : -1;
    if (b === LF) return -1;
  }
  return -1;
}

/** Parses [-]digits from p up to a CRLF. Returns the value, or NaN; sets NEXT to after the CRLF. */
let NEXT = 0;
function readNumberLine(buf: Uint8Array, p: number, end: number, allowNeg: boolean): number {
  const e = lineEnd(buf, p, end);
  if (e < 0) return NaN;
  let q = p;
  let neg = false;
  if (allowNeg && buf[q] === 0x2d) {
    neg = true;
    q++;
  }
  if (q === e || e - q > 19) return NaN;
  let v = 0;
  for (; q < e; q++) {
    const b = buf[q]!;
    if (!isDigit(b)) return NaN;
    v = v * 10 + (b - 0x30);
  }
  NEXT = e + 2;
  return neg ? -v : v;
}

/**
 * Checks the RESP value at p. Returns the offset after it, `end` when it is well-formed as far as
 * the bytes go, or -1 when it is not RESP.
 */
function checkValue(buf: Uint8Array, p: number, end: number, depth: number): number {
  if (p >= end) return end;
  const t = buf[p]!;
  const q = p + 1;
  switch (t) {
    case 0x2b: // + simple string
    case 0x2d: {
      // - error: "ERR ...", "WRONGTYPE ...": starts with an upper-case word
      const e = lineEnd(buf, q, end);
      if (e < 0 || e === q) return -1;
      if (t === 0x2d && !isUpper(buf[q]!)) return -1;
      for (let i = q; i < e; i++) if (buf[i]! < 0x20 || buf[i]! > 0x7e) return -1;
      return e + 2;
    }
    case 0x3a: // : integer
      return Number.isNaN(readNumberLine(buf, q, end, true)) ? -1 : NEXT;
    case 0x28: {
      // ( big number: [-]digits of any length
      const e = lineEnd(buf, q, end);
      const d = buf[q] === 0x2d ? q + 1 : q;
      if (e < 0 || e === d) return -1;
      for (let i = d; i < e; i++) if (!isDigit(buf[i]!)) return -1;
      return e + 2;
    }
    case 0x24: // $ bulk string
    case 0x21: // ! blob error
    case 0x3d: {
      // = verbatim string
      const n = readNumberLine(buf, q, end, t === 0x24);
      if (Number.isNaN(n) || n > MAX_BULK_LEN) return -1;
      if (n < 0) return n === -1 ? NEXT : -1;
      const dataEnd = NEXT + n;
      if (t === 0x3d && NEXT + 4 <= end && (n < 4 || buf[NEXT + 3] !== 0x3a)) return -1; // "txt:"
      if (dataEnd + 2 > end) return end;
      return buf[dataEnd] === CR && buf[dataEnd + 1] === LF ? dataEnd + 2 : -1;
    }
    case 0x2a: // * array
    case 0x25: // % map
    case 0x7e: // ~ set
    case 0x7c: // | attribute
    case 0x3e: {
      // > push
      const n = readNumberLine(buf, q, end, t === 0x2a);
      if (Number.isNaN(n) || n > MAX_AGGREGATE) return -1;
      if (n < 0) return n === -1 ? NEXT : -1;
      if (n === 0) return NEXT;
      if (depth >= MAX_DEPTH) return end;
      const after = NEXT;
      if (after >= end) return end;
      // The first element must be RESP too (only the first: the rest may not be in the bytes).
      const r = checkValue(buf, after, end, depth + 1);
      return r < 0 ? -1 : end;
    }
    case 0x5f: // _ null
      return buf[q] === CR && buf[q + 1] === LF ? q + 2 : -1;
    case 0x23: // # boolean
      return (buf[q] === 0x74 || buf[q] === 0x66) && buf[q + 1] === CR && buf[q + 2] === LF ? q + 3 : -1;
    case 0x2c: {
      // , double: digits, sign, '.', 'e', or inf/nan
      const e = lineEnd(buf, q, end);
      if (e < 0 || e === q) return -1;
      for (let i = q; i < e; i++) {
        const b = buf[i]! | 0x20;
        if (!(isDigit(b) || b === 0x2d || b === 0x2b || b === 0x2e || b === 0x65 || b === 0x69 || b === 0x6e || b === 0x66 || b === 0x61)) return -1;
      }
      return e + 2;
    }
    default:
      return -1;
  }
}

function command(buf: Uint8Array, start: number, end: number, detail: boolean): ProtocolEvidence | null {
  const n = readNumberLine(buf, start + 1, end, false);
  if (Number.isNaN(n) || n < 1 || n > MAX_AGGREGATE) return null;
  let p = NEXT;
  if (p >= end || buf[p] !== 0x24) return null;
  const len = readNumberLine(buf, p + 1, end, false);
  if (Number.isNaN(len) || len < 1 || len > MAX_COMMAND_LEN) return null;
  p = NEXT;
  if (p + len + 2 > end) return null; // need more data
  if (!isCommandName(buf, p, p + len)) return null;
  if (buf[p + len] !== CR || buf[p + len + 1] !== LF) return null;
  if (!detail) return SLIM_RESP;
  const cmd = latin1(buf, p, p + len).toUpperCase();
  return { protocol: 'resp', tags: ['resp'], detail: { respCommand: cmd, respType: '*', respArgs: String(n - 1) } };
}

/** A letter, then letters, digits, '.', '_', '-', '|' (module commands: FT.SEARCH, JSON.SET). */
function isCommandName(buf: Uint8Array, p: number, e: number): boolean {
  if (!isAlpha(buf[p]!)) return false;
  for (let i = p + 1; i < e; i++) {
    const b = buf[i]!;
    if (!(isAlpha(b) || isDigit(b) || b === 0x2e || b === 0x5f || b === 0x2d || b === 0x7c)) return false;
  }
  return true;
}

/**
 * The first word of an inline command at `start` (letters, at most MAX_INLINE_WORD of
 * them, then a space or line end): its index in INLINE_LIST, or NO_WORD (these bytes can never be
 * one) or WORD_CUT (the bytes end before the word does).
 */
function inlineWord(buf: Uint8Array, start: number, end: number): number {
  if (!isAlpha(buf[start]!)) return NO_WORD;
  let w = start;
  while (w < end && w - start <= MAX_INLINE_WORD && isAlpha(buf[w]!)) w++;
  if (w - start > MAX_INLINE_WORD) return NO_WORD;
  if (w >= end) return WORD_CUT;
  const b0 = buf[w]!;
  if (b0 !== 0x20 && b0 !== CR && b0 !== LF) return NO_WORD;
  for (let i = 0; i < INLINE_BYTES.length; i++) {
    const c = INLINE_BYTES[i]!;
    if (c.length === w - start && matchLower(buf, start, w, c)) return i;
  }
  return NO_WORD;
}
const NO_WORD = -1;
const WORD_CUT = -2;

/**
 * True when no bytes appended to `buf[offset, end)`, the first bytes of one direction of a TCP
 * stream, could make recognizeResp answer: towards the client the first byte is no reply type;
 * towards the server it is neither '*' nor the first word of an inline command (a word already
 * there that is too long, not ended by a space or line end, or not on the list). False when that
 * cannot be told yet.
 */
export function respNeverMatches(buf: Uint8Array, offset: number, end: number, direction: Direction): boolean {
  if (end <= offset) return false;
  const b0 = buf[offset]!;
  if (direction !== Direction.ToServer) return IS_REPLY_TYPE[b0] !== 1;
  return b0 !== 0x2a && inlineWord(buf, offset, end) === NO_WORD;
}

function inline(buf: Uint8Array, start: number, end: number, detail: boolean): ProtocolEvidence | null {
  const word = inlineWord(buf, start, end);
  if (word < 0) return null;
  // The line: printable bytes and spaces, then CRLF or a bare LF (redis accepts both inline).
  let e = start + INLINE_BYTES[word]!.length;
  const limit = Math.min(end, start + MAX_LINE);
  while (e < limit && buf[e] !== LF) {
    const b = buf[e]!;
    if ((b < 0x20 && b !== CR && b !== 0x09) || b > 0x7e) return null;
    e++;
  }
  if (e >= limit) return null;
  const lineStop = buf[e - 1] === CR ? e - 1 : e;
  // "GET / HTTP/1.1" is HTTP, not an inline GET.
  if (matchBytes(buf, lineStop - 9, lineStop - 1, SP_HTTP_1)) return null;
  if (!detail) return SLIM_RESP;
  return { protocol: 'resp', tags: ['resp'], detail: { respCommand: INLINE_LIST[word]!, respType: 'inline' } };
}
