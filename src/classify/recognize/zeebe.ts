/**
 * Zeebe broker traffic recogniser: the Atomix/Netty cluster messaging transport that Zeebe runs on
 * both the Command API port (26501) and the internal API port (26502), and the SBE messages and
 * subjects carried inside it.
 *
 * Wire format (all transport integers big-endian, Netty ByteBuf defaults; SBE bodies little-endian).
 * Sources and commits are listed in docs/zeebe-wire-format.md; in short:
 *   handshake   i32 preamble (Java String.hashCode of the cluster name) + i16 protocol version (1|2),
 *               sent once by each side right after connect (NettyMessagingService).
 *   address     V2: u16 host length + UTF-8 host + i32 port; once per direction, before the first
 *               message (AbstractMessageEncoder.addressWritten, MessageEncoderV2).
 *   message     u8 type (1 request, 2 reply) + varint64 message id + varint32 content length +
 *               content + footer: request => u16 subject length + subject; reply => u8 status 0..3
 *               (MessageEncoderV1, MessageDecoderV2, ProtocolMessage, ProtocolReply).
 *   content     Command API: SBE message (header blockLength/templateId/schemaId/version, u16 LE
 *               each) of schema 0 (protocol.xml) or 1 (cluster-management-protocol.xml); heartbeat
 *               messages use schema 10 (cluster-messaging.xml). Raft and SWIM contents are Kryo and
 *               are not decoded: their subjects name them.
 *   unicast     UDP gossip datagram: i32 preamble + i32 length + Kryo Message(source, subject, payload).
 *
 * recognizeZeebe() reads the TCP stream of either port (handshake, frames); recognizeZeebeUnicast()
 * reads one UDP datagram (SWIM gossip, sent to the internal API port).
 *
 * Never throws; reads are bounds-checked against [offset, offset+length); the work is bounded by
 * MAX_HOST_LEN, MAX_SUBJECT_LEN and UNICAST_SCAN_LIMIT. The reject path allocates nothing (it only
 * touches the module-level scratch record below); a positive result allocates its evidence object.
 *
 * `direction` is 0 for bytes sent by the connection's originator (client -> server), 1 for the
 * responder. It is recorded but not enforced: Atomix connections carry requests one way and replies
 * the other, yet a flow's direction may have been guessed wrongly upstream.
 */

import { u16be, u16le, u32be } from '../../util/bytes.js';
import { ascii, latin1, matchBytes, windowEnd } from './bytes.js';
import { NO_DETAIL } from './evidence.js';

/** Evidence returned when the bytes are recognised. */
export interface ZeebeEvidence {
  /** Which of the two Zeebe protocol tags the evidence supports. */
  protocol: 'zeebe-sbe' | 'zeebe-atomix';
  /** Protocol tags from src/rules/protocol-tags.ts (one entry, equal to `protocol`). */
  tags: Array<'zeebe-sbe' | 'zeebe-atomix'>;
  /** What was decoded; every value is a string. See docs/zeebe-wire-format.md for the keys. */
  detail: Record<string, string>;
  /** A handshake alone or a frame cut inside: the next bytes may carry the subject or SBE header. */
  incomplete?: boolean;
}

export const ZEEBE_COMMAND_API_PORT = 26501;
export const ZEEBE_INTERNAL_API_PORT = 26502;
/** Java "zeebe-cluster".hashCode(): the handshake preamble of a cluster with the default name. */
export const ZEEBE_DEFAULT_CLUSTER_PREAMBLE = -345052022;
export const ZEEBE_DEFAULT_CLUSTER_NAME = 'zeebe-cluster';

const HANDSHAKE_LEN = 6;
const MESSAGING_V1 = 1;
const MESSAGING_V2 = 2;
const TYPE_REQUEST = 1;
const TYPE_REPLY = 2;
/** Host names are at most 253 bytes, IPv6 literals 45: 255 is a plausibility cap, not a protocol one. */
const MAX_HOST_LEN = 255;
/** Zeebe subjects are < 80 bytes; the cap bounds the work and rejects length fields from garbage. */
const MAX_SUBJECT_LEN = 255;
/** Our plausibility cap on a message's content length (Zeebe's own limits are configurable). */
const MAX_CONTENT_LEN = 128 * 1024 * 1024;
/** Message ids come from a counter starting at 1; 8 varint bytes (< 2^56) is already absurd. */
const MAX_ID_VARINT_BYTES = 8;
const SBE_HEADER_LEN = 8;
/** Highest SBE schema version we accept as plausible (Zeebe protocol.xml is at 6 in 8.8). */
const MAX_SBE_VERSION = 64;
/** How far into a UDP datagram we look for the SWIM subject. */
const UNICAST_SCAN_LIMIT = 512;

const SBE_SCHEMA_PROTOCOL = 0;
const SBE_SCHEMA_CLUSTER_MANAGEMENT = 1;
const SBE_SCHEMA_CLUSTER_MESSAGING = 10;
const SBE_EXECUTE_COMMAND_REQUEST = 20;
const SBE_EXECUTE_COMMAND_RESPONSE = 21;
const KEY_EXECUTE_COMMAND_REQUEST = (SBE_SCHEMA_PROTOCOL << 16) | SBE_EXECUTE_COMMAND_REQUEST;
const KEY_EXECUTE_COMMAND_RESPONSE = (SBE_SCHEMA_PROTOCOL << 16) | SBE_EXECUTE_COMMAND_RESPONSE;

/** (schemaId << 16 | templateId) -> message name, from the three SBE schemas. */
const SBE_MESSAGES: ReadonlyMap<number, string> = new Map([
  [(SBE_SCHEMA_PROTOCOL << 16) | 10, 'ErrorResponse'],
  [(SBE_SCHEMA_PROTOCOL << 16) | SBE_EXECUTE_COMMAND_REQUEST, 'ExecuteCommandRequest'],
  [(SBE_SCHEMA_PROTOCOL << 16) | SBE_EXECUTE_COMMAND_RESPONSE, 'ExecuteCommandResponse'],
  [(SBE_SCHEMA_PROTOCOL << 16) | 30, 'ExecuteQueryRequest'],
  [(SBE_SCHEMA_PROTOCOL << 16) | 31, 'ExecuteQueryResponse'],
  [(SBE_SCHEMA_CLUSTER_MANAGEMENT << 16) | 1, 'AdminRequest'],
  [(SBE_SCHEMA_CLUSTER_MANAGEMENT << 16) | 2, 'AdminResponse'],
  [(SBE_SCHEMA_CLUSTER_MANAGEMENT << 16) | 3, 'BackupRequest'],
  [(SBE_SCHEMA_CLUSTER_MANAGEMENT << 16) | 4, 'BackupStatusResponse'],
  [(SBE_SCHEMA_CLUSTER_MANAGEMENT << 16) | 5, 'BackupListResponse'],
  [(SBE_SCHEMA_CLUSTER_MANAGEMENT << 16) | 6, 'CheckpointStateResponse'],
  [(SBE_SCHEMA_CLUSTER_MANAGEMENT << 16) | 7, 'BackupRangesResponse'],
  [(SBE_SCHEMA_CLUSTER_MESSAGING << 16) | 1, 'HeartbeatSetupRequest'],
  [(SBE_SCHEMA_CLUSTER_MESSAGING << 16) | 2, 'HeartbeatSetupResponse'],
  [(SBE_SCHEMA_CLUSTER_MESSAGING << 16) | 3, 'HeartbeatRequest'],
  [(SBE_SCHEMA_CLUSTER_MESSAGING << 16) | 4, 'HeartbeatResponse'],
]);

/** protocol.xml enum ValueType (uint8). Values not listed are reported as numbers. */
const VALUE_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'JOB'], [4, 'DEPLOYMENT'], [5, 'PROCESS_INSTANCE'], [6, 'INCIDENT'], [10, 'MESSAGE'],
  [11, 'MESSAGE_SUBSCRIPTION'], [12, 'PROCESS_MESSAGE_SUBSCRIPTION'], [14, 'JOB_BATCH'], [15, 'TIMER'],
  [16, 'MESSAGE_START_EVENT_SUBSCRIPTION'], [17, 'VARIABLE'], [18, 'VARIABLE_DOCUMENT'],
  [19, 'PROCESS_INSTANCE_CREATION'], [20, 'ERROR'], [21, 'PROCESS_INSTANCE_RESULT'], [22, 'PROCESS'],
  [23, 'DEPLOYMENT_DISTRIBUTION'], [24, 'PROCESS_EVENT'], [25, 'DECISION'], [26, 'DECISION_REQUIREMENTS'],
  [27, 'DECISION_EVALUATION'], [28, 'PROCESS_INSTANCE_MODIFICATION'], [29, 'ESCALATION'],
  [30, 'SIGNAL_SUBSCRIPTION'], [31, 'SIGNAL'], [32, 'RESOURCE_DELETION'], [33, 'COMMAND_DISTRIBUTION'],
  [34, 'PROCESS_INSTANCE_BATCH'], [35, 'MESSAGE_BATCH'], [36, 'FORM'], [37, 'USER_TASK'],
  [38, 'PROCESS_INSTANCE_MIGRATION'], [39, 'COMPENSATION_SUBSCRIPTION'], [40, 'MESSAGE_CORRELATION'],
  [41, 'USER'], [42, 'CLOCK'], [43, 'AUTHORIZATION'], [44, 'ROLE'], [45, 'TENANT'], [46, 'GROUP'],
  [47, 'MAPPING'], [48, 'IDENTITY_SETUP'], [49, 'RESOURCE'], [50, 'BATCH_OPERATION_CREATION'],
  [51, 'BATCH_OPERATION_EXECUTION'], [52, 'BATCH_OPERATION_CHUNK'],
  [53, 'AD_HOC_SUB_PROCESS_ACTIVITY_ACTIVATION'], [54, 'BATCH_OPERATION_LIFECYCLE_MANAGEMENT'],
  [55, 'BATCH_OPERATION_PARTITION_LIFECYCLE'], [56, 'ASYNC_REQUEST'], [253, 'SCALE'], [254, 'CHECKPOINT'],
]);

const RECORD_TYPES = ['EVENT', 'COMMAND', 'COMMAND_REJECTION'] as const;
const REPLY_STATUS = ['OK', 'ERROR_NO_HANDLER', 'ERROR_HANDLER_EXCEPTION', 'PROTOCOL_EXCEPTION'] as const;

/** Raft subject suffix (RaftMessageContext) -> request class name. Longest alternatives first. */
const RAFT_OPS: ReadonlyMap<string, string> = new Map([
  ['append-versioned', 'VersionedAppendRequest'], ['append', 'AppendRequest'], ['poll', 'PollRequest'],
  ['vote', 'VoteRequest'], ['configure', 'ConfigureRequest'], ['reconfigure', 'ReconfigureRequest'],
  ['force-configure', 'ForceConfigureRequest'], ['join', 'JoinRequest'], ['leave', 'LeaveRequest'],
  ['install', 'InstallRequest'], ['transfer', 'TransferRequest'], ['timeout-now', 'TimeoutNowRequest'],
  ['leadership-transfer-initiate', 'LeadershipTransferInitiateRequest'],
  ['leadership-transfer-result', 'LeadershipTransferResultRequest'], ['leaderHeartbeat', 'LeaderHeartbeat'],
  ['heartbeat', 'Heartbeat'], ['open', 'OpenSession'], ['close', 'CloseSession'], ['keep-alive', 'KeepAlive'],
  ['query', 'Query'], ['command', 'Command'], ['metadata', 'Metadata'],
]);
const RAFT_SUBJECT = new RegExp(`^(.+)-partition-(\\d+)-(${[...RAFT_OPS.keys()].join('|')})$`);
/** AtomixServerTransport "%s-api-%d" over RequestType ids, optionally prefixed "<engine>-". */
const API_SUBJECT =
  /^(?:(.+)-)?(command|query|admin|backup|snapshot|coordinate|publish|fetch|poll|unknown)-api-(\d+)$/;
const SWIM_SUBJECTS: ReadonlyMap<string, string> = new Map([
  ['atomix-membership-sync', 'SwimSync'],
  ['atomix-membership-gossip', 'SwimGossip'],
  ['atomix-membership-probe', 'SwimProbe'],
  ['atomix-membership-probe-request', 'SwimProbeRequest'],
]);
/** Job-stream subjects (StreamTopics), optionally prefixed "<physical tenant>-". */
const STREAM_SUBJECT = /^(?:(.+)-)?stream-(add|push|remove|remove-all|recreate)$/;
const HEARTBEAT_SETUP_SUBJECT = 'internal-heartbeat-setup';
const HEARTBEAT_SUBJECT = 'internal-heartbeat';

/** The subject prefix searched for in UDP gossip datagrams. */
const SWIM_PREFIX = ascii('atomix-membership-');
/** Snappy framing format: the stream identifier chunk every stream starts with. */
const SNAPPY_STREAM_ID = Uint8Array.of(0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59);
/** gzip member header: magic 1f 8b, compression method 8 (deflate). */
const GZIP_MAGIC = Uint8Array.of(0x1f, 0x8b, 0x08);
/** "gossip" without its last letter, which Kryo may write with the high bit set. */
const GOSSI = ascii('gossi');

/** parseFrame outcomes. */
const FRAME_NO = 0;
/** Header (address?, type, id, length) parsed; content or footer cut off by the buffer end. */
const FRAME_HEADER = 1;
/** The whole message, footer included, lies inside the buffer. */
const FRAME_FULL = 2;

/** Scratch record filled by parseFrame; reused so the reject path allocates nothing. */
const fr = {
  hasAddress: false,
  hostStart: 0,
  hostLen: 0,
  port: 0,
  type: 0,
  id: 0,
  contentStart: 0,
  contentLen: 0,
  subjectStart: 0,
  /** Subject bytes present in the buffer (may be fewer than declared when cut). */
  subjectAvail: 0,
  subjectLen: 0,
  status: -1,
  end: 0,
  /** The last FRAME_NO was for want of bytes, not for a byte that refuses the frame. */
  short: false,
};

/** FRAME_NO because the bytes end before the frame can be judged (more bytes may make it one). */
function tooShort(): number {
  fr.short = true;
  return FRAME_NO;
}

function isHostByte(b: number): boolean {
  // letters, digits, '.', '-', '_', ':' (IPv6 literal), '%' (IPv6 zone id)
  return (
    (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) ||
    b === 0x2e || b === 0x2d || b === 0x5f || b === 0x3a || b === 0x25
  );
}

function isSubjectByte(b: number): boolean {
  return b >= 0x21 && b <= 0x7e;
}

/**
 * Parses one messaging-protocol V2 message at `p`, optionally preceded by the address header.
 * Fills `fr`; returns FRAME_NO, FRAME_HEADER or FRAME_FULL. Every read is checked against `end`.
 */
function parseFrame(buf: Uint8Array, p: number, end: number, withAddress: boolean): number {
  fr.short = false;
  fr.hasAddress = false;
  fr.subjectAvail = 0;
  fr.subjectLen = 0;
  fr.status = -1;
  if (withAddress) {
    if (end - p < 2) return tooShort();
    const hostLen = u16be(buf, p);
    if (hostLen < 1 || hostLen > MAX_HOST_LEN) return FRAME_NO;
    // Too few bytes to see the whole address: not enough to judge.
    if (end - p < 2 + hostLen + 4) return tooShort();
    const hostStart = p + 2;
    for (let i = 0; i < hostLen; i++) if (!isHostByte(buf[hostStart + i]!)) return FRAME_NO;
    const q = hostStart + hostLen;
    // i32 port: the two high bytes must be zero and the port non-zero.
    if (buf[q]! !== 0 || buf[q + 1]! !== 0) return FRAME_NO;
    const port = u16be(buf, q + 2);
    if (port === 0) return FRAME_NO;
    fr.hasAddress = true;
    fr.hostStart = hostStart;
    fr.hostLen = hostLen;
    fr.port = port;
    p = q + 4;
  }
  if (p >= end) return tooShort();
  const type = buf[p++]!;
  if (type !== TYPE_REQUEST && type !== TYPE_REPLY) return FRAME_NO;
  fr.type = type;

  // varint64 message id (AbstractMessageEncoder.writeLong): 7 bits per byte, low group first.
  let id = 0;
  let mul = 1;
  let n = 0;
  let b = 0;
  for (;;) {
    if (p >= end) return tooShort();
    b = buf[p++]!;
    id += (b & 0x7f) * mul;
    n++;
    if ((b & 0x80) === 0) break;
    if (n >= MAX_ID_VARINT_BYTES) return FRAME_NO;
    mul *= 128;
  }
  // The encoder always writes the shortest form: a multi-byte varint never ends in 0x00.
  if (n > 1 && b === 0) return FRAME_NO;
  if (id < 1) return FRAME_NO;
  fr.id = id;

  // varint32 content length (writeInt): at most 5 bytes, the 5th holds bits 28..31 only.
  let len = 0;
  mul = 1;
  n = 0;
  for (;;) {
    if (p >= end) return tooShort();
    b = buf[p++]!;
    n++;
    if (n === 5) {
      if (b > 0x0f) return FRAME_NO;
      len += b * mul;
      break;
    }
    len += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) break;
    mul *= 128;
  }
  if (n > 1 && b === 0) return FRAME_NO;
  if (len > MAX_CONTENT_LEN) return FRAME_NO;
  fr.contentStart = p;
  fr.contentLen = len;
  if (end - p < len) return FRAME_HEADER;
  p += len;

  if (type === TYPE_REQUEST) {
    if (end - p < 2) return FRAME_HEADER;
    const subjectLen = u16be(buf, p);
    if (subjectLen < 1 || subjectLen > MAX_SUBJECT_LEN) return FRAME_NO;
    const start = p + 2;
    const avail = Math.min(subjectLen, end - start);
    for (let i = 0; i < avail; i++) if (!isSubjectByte(buf[start + i]!)) return FRAME_NO;
    fr.subjectStart = start;
    fr.subjectLen = subjectLen;
    fr.subjectAvail = avail;
    if (avail < subjectLen) return FRAME_HEADER;
    fr.end = start + subjectLen;
    return FRAME_FULL;
  }
  if (p >= end) return FRAME_HEADER;
  const status = buf[p]!;
  if (status > 3) return FRAME_NO;
  fr.status = status;
  fr.end = p + 1;
  return FRAME_FULL;
}

/**
 * windowEnd() for a window that must lie inside the buffer whole: a datagram or stream prefix cut
 * by a caller's mistake is not judged on the part that is there. -1 when it does not.
 */
function wholeWindowEnd(buf: Uint8Array, offset: number, length: number): number {
  const end = windowEnd(buf, offset, length);
  return end >= 0 && end - offset === length ? end : -1;
}

/** A preamble as the detail shows it: 0x + 8 hex digits. */
function hex32(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}

/** Java's signed 32-bit big-endian int (preambles are String.hashCode values, often negative). */
function i32be(buf: Uint8Array, p: number): number {
  return u32be(buf, p) | 0;
}

/**
 * Looks for a known SBE message header at the start of the message content. Returns the
 * (schemaId << 16 | templateId) key, or -1. Only the bytes inside the buffer are read.
 */
function sbeKeyAt(buf: Uint8Array, start: number, contentLen: number, end: number): number {
  if (contentLen < SBE_HEADER_LEN || end - start < SBE_HEADER_LEN) return -1;
  const blockLength = u16le(buf, start);
  const templateId = u16le(buf, start + 2);
  const schemaId = u16le(buf, start + 4);
  const version = u16le(buf, start + 6);
  if (version > MAX_SBE_VERSION) return -1;
  if (blockLength > contentLen - SBE_HEADER_LEN) return -1;
  const key = (schemaId << 16) | templateId;
  return SBE_MESSAGES.has(key) ? key : -1;
}

type Family = 'sbe' | 'atomix' | 'transport';

/**
 * Classifies a complete subject; writes message/partition details into `detail` (null: nobody will
 * read them, only the family is wanted). Returns the family.
 */
function classifySubject(subject: string, detail: Record<string, string> | null): Family {
  const swim = SWIM_SUBJECTS.get(subject);
  if (swim !== undefined) {
    if (detail !== null) detail['message'] = swim;
    return 'atomix';
  }
  if (subject === HEARTBEAT_SETUP_SUBJECT || subject === HEARTBEAT_SUBJECT) {
    if (detail !== null) detail['message'] = subject === HEARTBEAT_SUBJECT ? 'Heartbeat' : 'HeartbeatSetup';
    return 'transport';
  }
  if (detail === null) {
    if (API_SUBJECT.test(subject)) return 'sbe';
    return RAFT_SUBJECT.test(subject) || STREAM_SUBJECT.test(subject) ? 'atomix' : 'transport';
  }
  let m = API_SUBJECT.exec(subject);
  if (m !== null) {
    detail['apiRequestType'] = m[2]!;
    detail['partitionId'] = m[3]!;
    if (m[1] !== undefined) detail['subjectPrefix'] = m[1];
    return 'sbe';
  }
  m = RAFT_SUBJECT.exec(subject);
  if (m !== null) {
    detail['raftPartitionGroup'] = m[1]!;
    detail['partitionId'] = m[2]!;
    detail['message'] = RAFT_OPS.get(m[3]!) ?? m[3]!;
    return 'atomix';
  }
  m = STREAM_SUBJECT.exec(subject);
  if (m !== null) {
    detail['message'] = 'JobStream:' + m[2]!;
    return 'atomix';
  }
  return 'transport';
}

function familyOfSbeKey(key: number): Family {
  const schema = key >>> 16;
  return schema === SBE_SCHEMA_PROTOCOL || schema === SBE_SCHEMA_CLUSTER_MANAGEMENT ? 'sbe' : 'transport';
}

/** Evidence without details (a summary alone), by protocol and completeness: shared, frozen. */
function slim(protocol: 'zeebe-sbe' | 'zeebe-atomix', incomplete: boolean): ZeebeEvidence {
  const ev: ZeebeEvidence = incomplete ? { protocol, tags: [protocol], detail: NO_DETAIL, incomplete } : { protocol, tags: [protocol], detail: NO_DETAIL };
  Object.freeze(ev.tags);
  return Object.freeze(ev);
}
const SLIM_SBE = slim('zeebe-sbe', false);
const SLIM_SBE_PARTIAL = slim('zeebe-sbe', true);
const SLIM_ATOMIX = slim('zeebe-atomix', false);
const SLIM_ATOMIX_PARTIAL = slim('zeebe-atomix', true);

/** `detail` null: the shared evidence without details, with the same protocol and completeness. */
function result(family: Family, serverPort: number, detail: Record<string, string> | null, incomplete: boolean): ZeebeEvidence {
  let protocol: 'zeebe-sbe' | 'zeebe-atomix';
  if (family === 'sbe') protocol = 'zeebe-sbe';
  else if (family === 'atomix') protocol = 'zeebe-atomix';
  else {
    // Transport-level evidence only (handshake, heartbeat, unknown subject): the same Atomix
    // transport runs on both ports, so the documented port decides which tag it supports.
    protocol = serverPort === ZEEBE_COMMAND_API_PORT ? 'zeebe-sbe' : 'zeebe-atomix';
    if (detail !== null) detail['basis'] = 'port';
  }
  if (detail === null) {
    if (protocol === 'zeebe-sbe') return incomplete ? SLIM_SBE_PARTIAL : SLIM_SBE;
    return incomplete ? SLIM_ATOMIX_PARTIAL : SLIM_ATOMIX;
  }
  return incomplete ? { protocol, tags: [protocol], detail, incomplete } : { protocol, tags: [protocol], detail };
}

/**
 * Builds the evidence for a frame already parsed into `fr`. `detail` null: only the family is
 * worked out (subject and SBE header), and the shared evidence without details is returned.
 */
function frameEvidence(
  buf: Uint8Array,
  end: number,
  level: number,
  direction: 0 | 1,
  serverPort: number,
  detail: Record<string, string> | null,
): ZeebeEvidence {
  if (detail === null) {
    let family: Family = 'transport';
    if (fr.subjectLen > 0 && fr.subjectAvail === fr.subjectLen) {
      family = classifySubject(latin1(buf, fr.subjectStart, fr.subjectStart + fr.subjectLen), null);
    }
    if (family === 'transport') {
      const key = sbeKeyAt(buf, fr.contentStart, fr.contentLen, end);
      if (key >= 0) family = familyOfSbeKey(key);
    }
    return result(family, serverPort, null, level !== FRAME_FULL);
  }
  detail['frame'] = fr.type === TYPE_REQUEST ? 'request' : 'reply';
  detail['confidence'] = level === FRAME_FULL ? 'frame' : 'frame-header';
  detail['direction'] = direction === 0 ? 'to-server' : 'to-client';
  if (fr.hasAddress) detail['sender'] = latin1(buf, fr.hostStart, fr.hostStart + fr.hostLen) + ':' + String(fr.port);
  detail['messageId'] = String(fr.id);
  detail['contentLength'] = String(fr.contentLen);
  if (fr.status >= 0) detail['status'] = REPLY_STATUS[fr.status]!;

  let family: Family = 'transport';
  let fromSubject = false;
  if (fr.subjectLen > 0 && fr.subjectAvail === fr.subjectLen) {
    const subject = latin1(buf, fr.subjectStart, fr.subjectStart + fr.subjectLen);
    detail['subject'] = subject;
    family = classifySubject(subject, detail);
    fromSubject = family !== 'transport';
  }

  const key = sbeKeyAt(buf, fr.contentStart, fr.contentLen, end);
  if (key >= 0) {
    const c = fr.contentStart;
    const blockLength = u16le(buf, c);
    detail['sbeBlockLength'] = String(blockLength);
    detail['sbeTemplateId'] = String(key & 0xffff);
    detail['sbeSchemaId'] = String(key >>> 16);
    detail['sbeVersion'] = String(u16le(buf, c + 6));
    detail['message'] = SBE_MESSAGES.get(key)!;
    const body = c + SBE_HEADER_LEN;
    if (key === KEY_EXECUTE_COMMAND_REQUEST && blockLength >= 12 && end - body >= 12) {
      // protocol.xml offsets: partitionId u16 @0, key u64 @2, valueType u8 @10, intent u8 @11
      detail['partitionId'] = String(u16le(buf, body));
      const vt = buf[body + 10]!;
      detail['valueType'] = VALUE_TYPES.get(vt) ?? String(vt);
      detail['intent'] = String(buf[body + 11]!);
    } else if (key === KEY_EXECUTE_COMMAND_RESPONSE && blockLength >= 13 && end - body >= 13) {
      // partitionId u16 @0, key u64 @2, recordType u8 @10, valueType u8 @11, intent u8 @12
      detail['partitionId'] = String(u16le(buf, body));
      const rt = buf[body + 10]!;
      detail['recordType'] = RECORD_TYPES[rt] ?? String(rt);
      const vt = buf[body + 11]!;
      detail['valueType'] = VALUE_TYPES.get(vt) ?? String(vt);
      detail['intent'] = String(buf[body + 12]!);
    }
    if (!fromSubject) family = familyOfSbeKey(key);
  }
  detail['basis'] = fromSubject ? 'subject' : key >= 0 ? 'sbe' : 'transport';
  return result(family, serverPort, detail, level !== FRAME_FULL);
}

/**
 * One UDP datagram of Atomix's unicast service (NettyUnicastService), which carries Zeebe's SWIM
 * gossip: i32 preamble, i32 length equal to the rest of the datagram, a Kryo body whose subject
 * starts with "atomix-membership-" within its first UNICAST_SCAN_LIMIT bytes. Never throws.
 */
export function recognizeZeebeUnicast(buf: Uint8Array, offset: number, length: number, serverPort: number, withDetail = true): ZeebeEvidence | null {
  const end = wholeWindowEnd(buf, offset, length);
  if (end < 0) return null;
  const p = offset;
  const total = end - p;
  if (total < 8 + SWIM_PREFIX.length) return null;
  const declared = i32be(buf, p + 4);
  if (declared !== total - 8) return null;
  const bodyStart = p + 8;
  const scanEnd = Math.min(end, bodyStart + UNICAST_SCAN_LIMIT) - SWIM_PREFIX.length;
  for (let i = bodyStart; i <= scanEnd; i++) {
    if (buf[i] !== SWIM_PREFIX[0] || !matchBytes(buf, i, end, SWIM_PREFIX)) continue;
    if (!withDetail) return SLIM_ATOMIX;
    const preamble = i32be(buf, p);
    const detail: Record<string, string> = {
      frame: 'unicast',
      confidence: 'frame',
      preamble: hex32(preamble),
      contentLength: String(declared),
      basis: 'subject',
    };
    if (preamble === ZEEBE_DEFAULT_CLUSTER_PREAMBLE) detail['clusterName'] = ZEEBE_DEFAULT_CLUSTER_NAME;
    // Kryo writes ASCII strings with the high bit set on the last character, so "...gossip"
    // may end in 0xf0: match "gossi" and accept either form of the final 'p'.
    const s = i + SWIM_PREFIX.length;
    if (matchBytes(buf, s, end, GOSSI) && s + 5 < end && (buf[s + 5]! & 0x7f) === 0x70) {
      detail['subject'] = 'atomix-membership-gossip';
      detail['message'] = 'SwimGossip';
    }
    return result('atomix', serverPort, detail, false);
  }
  return null;
}

/**
 * For a message parsed whole into `fr` without the address header: true when it is followed by
 * nothing or another message, and names a known Zeebe subject (request) or carries a known SBE
 * message (reply): only then is such a frame specific enough.
 */
function laterMessageKnown(buf: Uint8Array, end: number): boolean {
  if (fr.end !== end && buf[fr.end]! !== TYPE_REQUEST && buf[fr.end]! !== TYPE_REPLY) return false;
  if (fr.type !== TYPE_REQUEST) return sbeKeyAt(buf, fr.contentStart, fr.contentLen, end) >= 0;
  const subject = latin1(buf, fr.subjectStart, fr.subjectStart + fr.subjectLen);
  return classifySubject(subject, null) !== 'transport' || subject === HEARTBEAT_SUBJECT || subject === HEARTBEAT_SETUP_SUBJECT;
}

/**
 * True when no bytes appended to `buf[offset, end)`, the first bytes of a TCP stream, could make
 * recognizeZeebe answer: bytes 4-5, already there, are not a handshake's version, and the first
 * byte starts neither an address header (0) nor a message (1, 2), or starts a message that the
 * bytes there already refuse. False when that cannot be told yet.
 */
export function zeebeNeverMatches(buf: Uint8Array, offset: number, end: number): boolean {
  if (end - offset < HANDSHAKE_LEN) return false;
  const version = buf[offset + 5]!;
  if (buf[offset + 4]! === 0 && (version === MESSAGING_V1 || version === MESSAGING_V2)) return false;
  const b0 = buf[offset]!;
  if (b0 === 0) return false;
  if (b0 > TYPE_REPLY) return true;
  // A message without the address header: refused for good by a byte already there, or whole
  // (then it never changes) and not one recognizeZeebe accepts.
  const level = parseFrame(buf, offset, end, false);
  if (level === FRAME_NO) return !fr.short;
  return level === FRAME_FULL && !laterMessageKnown(buf, end);
}

/**
 * Recognises Zeebe broker traffic in `buf[offset, offset+length)`, the first bytes of one direction
 * of a TCP connection: the messaging handshake, a message frame with or without the per-connection
 * address header, the SBE header of its content, and Atomix subjects. Returns null when the bytes
 * are not recognised (including when a prefix is too short to judge). Never throws.
 */
export function recognizeZeebe(
  buf: Uint8Array,
  offset: number,
  length: number,
  direction: 0 | 1,
  serverPort: number,
  withDetail = true,
): ZeebeEvidence | null {
  const end = wholeWindowEnd(buf, offset, length);
  if (end < 0) return null;
  const p = offset;
  const b0 = buf[p]!;

  // 1. Handshake: i32 preamble + i16 version (1|2).
  if (length >= HANDSHAKE_LEN && buf[p + 4]! === 0 && (buf[p + 5]! === MESSAGING_V1 || buf[p + 5]! === MESSAGING_V2)) {
    const preamble = i32be(buf, p);
    const version = buf[p + 5]!;
    const isDefault = preamble === ZEEBE_DEFAULT_CLUSTER_PREAMBLE;
    const after = p + HANDSHAKE_LEN;
    let ok = false;
    let compression = '';
    let level = FRAME_NO;
    if (length === HANDSHAKE_LEN) {
      // Six bytes on their own are weak evidence: accept them on the documented ports, or
      // anywhere when the preamble is the default cluster name's hash.
      ok = isDefault || serverPort === ZEEBE_COMMAND_API_PORT || serverPort === ZEEBE_INTERNAL_API_PORT;
    } else if (matchBytes(buf, after, end, SNAPPY_STREAM_ID)) {
      ok = true;
      compression = 'snappy';
    } else if (matchBytes(buf, after, end, GZIP_MAGIC)) {
      ok = true;
      compression = 'gzip';
    } else if (version === MESSAGING_V2) {
      level = parseFrame(buf, after, end, true);
      ok = level !== FRAME_NO;
    }
    if (ok) {
      if (!withDetail) return level !== FRAME_NO ? frameEvidence(buf, end, level, direction, serverPort, null) : result('transport', serverPort, null, true);
      const detail: Record<string, string> = {
        handshake: 'true',
        messagingVersion: String(version),
        preamble: hex32(preamble),
      };
      if (isDefault) detail['clusterName'] = ZEEBE_DEFAULT_CLUSTER_NAME;
      if (compression !== '') detail['compression'] = compression;
      if (level !== FRAME_NO) return frameEvidence(buf, end, level, direction, serverPort, detail);
      detail['frame'] = 'handshake';
      detail['confidence'] = 'handshake';
      detail['direction'] = direction === 0 ? 'to-server' : 'to-client';
      return result('transport', serverPort, detail, true);
    }
  }

  // 2. First message of a direction: V2 address header + message. Cheap reject: host length < 256.
  if (b0 === 0) {
    const level = parseFrame(buf, p, end, true);
    if (level !== FRAME_NO) return frameEvidence(buf, end, level, direction, serverPort, withDetail ? {} : null);
  }

  // 3. A later message (no address header): only a complete frame whose subject is a known Zeebe
  //    subject, or a complete reply carrying a known SBE message, is specific enough.
  if (b0 === TYPE_REQUEST || b0 === TYPE_REPLY) {
    const level = parseFrame(buf, p, end, false);
    if (level === FRAME_FULL && laterMessageKnown(buf, end)) return frameEvidence(buf, end, level, direction, serverPort, withDetail ? {} : null);
  }
  return null;
}
