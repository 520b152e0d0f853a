/**
 * TCP facts of a flow, as Zeek's conn.log has them: handshake (and its RTT), the `history` letters
 * and the connection state (`conn_state`: S0, S1, SF, REJ, S2, S3, RSTO, RSTR, SH, OTH; see
 * docs/output-schema.md), kept in the flag word and history bytes of the flow's row
 * (row-layout.ts). Non-TCP flows only get the data letters and one-way / two-way.
 */
import { TcpFlag } from '../decode/types.js';
import { type FlowRows, ROW } from './row-layout.js';
import type { FlowTableMemory } from './fast-state.js';

/** Per-flow facts (bit flags in the row's I_FLAGS word). */
export const FlowFlag = Object.freeze({
  ClientSyn: 1 << 0,
  ServerSynAck: 1 << 1,
  HandshakeDone: 1 << 2,
  ClientFin: 1 << 3,
  ServerFin: 1 << 4,
  ClientRst: 1 << 5,
  ServerRst: 1 << 6,
  /** The client sent a packet (any transport). */
  ClientSent: 1 << 7,
  /** The server sent a packet (any transport). */
  ServerSent: 1 << 8,
  /** This record continues a flow cut by the active timeout. */
  Continued: 1 << 9,
  /** Cut by the active timeout and no packet since: the next packet sets the first time. */
  AwaitFirst: 1 << 11,
  /** The handshake RTT is known (TcpState.rttNs); until then the same column holds the SYN's time. */
  RttKnown: 1 << 12,
});

/** Zeek conn history letters: client uppercase, server lowercase; each letter once, in order. */
const HISTORY_LETTERS = 'SHADFRshadfr';
const H_SYN = 0;
const H_SYNACK = 1;
const H_ACK = 2;
const H_DATA = 3;
const H_FIN = 4;
const H_RST = 5;
/** Offset of the server's letters. */
const H_SERVER = 6;
/** Letters kept per flow (each at most once). */
export const HISTORY_MAX = 12;
/**
 * uint16 words of history per slot: letters are 4-bit codes, four to a word, in the order they
 * happened (3 words = 12 letters, 6 bytes instead of one byte per letter).
 */
export const HISTORY_WORDS = 3;

// Module-local copies (row-layout.ts says why).
const { I32: ROW_I32, BYTES: ROW_BYTES, U16: ROW_U16, I_FLAGS, H_HISTORY_SEEN, B_HISTORY_LEN } = ROW;
const { ClientSyn, ServerSynAck, HandshakeDone, ClientFin, ServerFin, ClientRst, ServerRst, ClientSent, ServerSent, RttKnown } = FlowFlag;
const { SYN, ACK, FIN, RST } = TcpFlag;

/** The TCP state of every slot of a table: reads and writes the table's rows and columns. */
export class TcpState {
  private readonly i32: Int32Array;
  private readonly u16: Uint16Array;
  private readonly u8: Uint8Array;

  /** History letters, HISTORY_WORDS per slot. */
  private readonly history: Uint16Array;
  /**
   * The second of the client's SYN until the handshake completes, then the handshake RTT in
   * nanoseconds (flag RttKnown): a flow needs one or the other, never both at once.
   */
  private readonly synOrRtt: Float64Array;
  private readonly synNsec: Uint32Array;

  /**
   * The table's rows (flag word, history bits and length); the other columns are its own, or
   * `memory`'s (the fast path's, fast-state.ts).
   */
  constructor(rows: FlowRows, capacity: number, memory?: Pick<FlowTableMemory, 'history' | 'synOrRtt' | 'synNsec'>) {
    this.i32 = rows.i32;
    this.u16 = rows.u16;
    this.u8 = rows.u8;
    if (memory !== undefined && (memory.history.length !== capacity * HISTORY_WORDS || memory.synOrRtt.length !== capacity || memory.synNsec.length !== capacity)) {
      throw new RangeError(`TCP columns: not sized for ${capacity} slots`);
    }
    this.history = memory?.history ?? new Uint16Array(capacity * HISTORY_WORDS);
    this.synOrRtt = memory?.synOrRtt ?? new Float64Array(capacity);
    this.synNsec = memory?.synNsec ?? new Uint32Array(capacity);
  }

  /** Bytes per slot of the columns kept here. */
  static readonly BYTES_PER_SLOT = HISTORY_WORDS * 2 + 8 + 4;

  /**
   * A new flow in slot `s` (or a record continuing after an active-timeout cut): no history, no
   * SYN. The caller clears RttKnown (the flag word is the table's).
   */
  start(s: number): void {
    this.u16[s * ROW_U16 + H_HISTORY_SEEN] = 0;
    this.u8[s * ROW_BYTES + B_HISTORY_LEN] = 0;
    this.synOrRtt[s] = 0;
    this.synNsec[s] = 0;
  }

  /** Handshake RTT (client SYN to the client's ACK of the SYN-ACK) in nanoseconds, -1 when unknown. */
  rttNs(s: number): number {
    return (this.i32[s * ROW_I32 + I_FLAGS]! & RttKnown) !== 0 ? this.synOrRtt[s]! : -1;
  }

  /** A packet without TCP flags (any transport): the data letter of its direction. */
  data(s: number, toServer: boolean): void {
    this.addLetter(s, toServer ? H_DATA : H_SERVER + H_DATA);
  }

  /** A TCP segment with flags `f` (TcpFlag bits) and `payloadLen` payload bytes. */
  update(s: number, toServer: boolean, f: number, tsSec: number, tsNsec: number, payloadLen: number): void {
    const d = toServer ? 0 : H_SERVER;
    const at = s * ROW_I32 + I_FLAGS;
    let fl = this.i32[at]!;
    if ((f & SYN) !== 0) {
      if ((f & ACK) === 0) {
        this.addLetter(s, d + H_SYN);
        if (toServer && (fl & ClientSyn) === 0) {
          fl |= ClientSyn;
          this.synOrRtt[s] = tsSec;
          this.synNsec[s] = tsNsec;
        }
      } else {
        this.addLetter(s, d + H_SYNACK);
        if (!toServer) fl |= ServerSynAck;
      }
    } else if ((f & ACK) !== 0) {
      if (toServer && (fl & (ServerSynAck | HandshakeDone)) === ServerSynAck) {
        fl |= HandshakeDone;
        if ((fl & ClientSyn) !== 0) {
          this.synOrRtt[s] = (tsSec - this.synOrRtt[s]!) * 1e9 + (tsNsec - this.synNsec[s]!);
          fl |= RttKnown;
        }
      }
      if (payloadLen === 0 && (f & (FIN | RST)) === 0) this.addLetter(s, d + H_ACK);
    }
    if (payloadLen > 0) this.addLetter(s, d + H_DATA);
    if ((f & FIN) !== 0) {
      this.addLetter(s, d + H_FIN);
      fl |= toServer ? ClientFin : ServerFin;
    }
    if ((f & RST) !== 0) {
      this.addLetter(s, d + H_RST);
      fl |= toServer ? ClientRst : ServerRst;
    }
    this.i32[at] = fl;
  }

  /** A reset, or a FIN from both sides: a new SYN on this 5-tuple starts a new connection. */
  isClosed(s: number): boolean {
    const fl = this.i32[s * ROW_I32 + I_FLAGS]!;
    return (fl & (ClientRst | ServerRst)) !== 0 || (fl & (ClientFin | ServerFin)) === (ClientFin | ServerFin);
  }

  /** Zeek-style connection state (see docs/output-schema.md); non-TCP: one-way / two-way. */
  stateName(s: number, tcp: boolean): string {
    const fl = this.i32[s * ROW_I32 + I_FLAGS]!;
    if (!tcp) return (fl & ServerSent) !== 0 && (fl & ClientSent) !== 0 ? 'two-way' : 'one-way';
    const cSyn = (fl & ClientSyn) !== 0;
    const sSynAck = (fl & ServerSynAck) !== 0;
    const est = (fl & HandshakeDone) !== 0 || (cSyn && sSynAck);
    const cFin = (fl & ClientFin) !== 0;
    const sFin = (fl & ServerFin) !== 0;
    const cRst = (fl & ClientRst) !== 0;
    const sRst = (fl & ServerRst) !== 0;
    if (!cSyn && !sSynAck) return 'OTH';
    if (cSyn && !sSynAck) {
      if (sRst) return 'REJ';
      if (cFin) return 'SH';
      return (fl & ServerSent) !== 0 ? 'OTH' : 'S0';
    }
    if (est) {
      if (cRst) return 'RSTO';
      if (sRst) return 'RSTR';
      if (cFin && sFin) return 'SF';
      if (cFin) return 'S2';
      if (sFin) return 'S3';
      return 'S1';
    }
    return 'OTH';
  }

  /** The history letters of slot `s` in the order they first happened. */
  historyString(s: number): string {
    let out = '';
    const base = s * HISTORY_WORDS;
    const len = this.u8[s * ROW_BYTES + B_HISTORY_LEN]!;
    for (let i = 0; i < len; i++) out += HISTORY_LETTERS[(this.history[base + (i >> 2)]! >> ((i & 3) * 4)) & 0xf];
    return out;
  }

  private addLetter(s: number, letter: number): void {
    const bit = 1 << letter;
    const h = s * ROW_U16 + H_HISTORY_SEEN;
    const seen = this.u16[h]!;
    if ((seen & bit) !== 0) return;
    this.u16[h] = seen | bit;
    const b = s * ROW_BYTES + B_HISTORY_LEN;
    const len = this.u8[b]!;
    if (len < HISTORY_MAX) {
      // The first letter of a word overwrites what an earlier flow of the slot left there.
      const w = s * HISTORY_WORDS + (len >> 2);
      const shift = (len & 3) * 4;
      this.history[w] = shift === 0 ? letter : this.history[w]! | (letter << shift);
      this.u8[b] = len + 1;
    }
  }
}
