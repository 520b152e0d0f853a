/**
 * IEEE 802.1Q VLAN tags (IEEE Std 802.1Q-2022 clause 9.6) and 802.1ad / pre-standard 0x9100 QinQ
 * outer tags: after the TPID (read as the EtherType) come the TCI (PCP 3 bits, DEI 1, VID 12) and
 * the next EtherType. At most MAX_VLAN_DEPTH tags are decoded; a deeper stack is not decoded (NotIp,
 * vlan_depth_exceeded), which bounds the work per frame.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be } from '../util/bytes.js';
import { ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD, ETHERTYPE_VLAN } from './ethertype.js';
import { cut, notIp } from './status.js';
import { MAX_VLAN_DEPTH, type DecodedPacket } from './types.js';

const VLAN_TAG_LEN = 4;
const VLAN_TCI = 0;
const VLAN_TYPE = 2;
const VLAN_VID_MASK = 0x0fff;
// Module-local copies of the imported TPIDs: V8 folds a module's own constants into optimized code
// but reads an imported binding (and checks it is initialised) on every use. Measured on the
// shard extractor, which calls isVlanTpid() for every record: ~1.5 ns per call.
const TPID_8021Q = ETHERTYPE_VLAN;
const TPID_8021AD = ETHERTYPE_QINQ;
const TPID_QINQ_OLD = ETHERTYPE_QINQ_OLD;

/** True for the TPIDs (read where an EtherType would be) that announce a VLAN tag. */
export function isVlanTpid(type: number): boolean {
  return type === TPID_8021Q || type === TPID_8021AD || type === TPID_QINQ_OLD;
}

/**
 * Walks the tags starting at out.l3Offset, `type` being the TPID that announced the first one.
 * Returns the EtherType after the last tag (out.l3Offset moved past the tags) or -1.
 */
export function decodeVlanTags(out: DecodedPacket, buf: Uint8Array, type: number, end: number): number {
  let off = out.l3Offset;
  for (let depth = 0; isVlanTpid(type); depth++) {
    if (depth === MAX_VLAN_DEPTH) return notIp(out, Anomaly.vlan_depth_exceeded);
    if (end - off < VLAN_TAG_LEN) return cut(out, Anomaly.truncated_vlan_header);
    const vid = u16be(buf, off + VLAN_TCI) & VLAN_VID_MASK;
    if (depth === 0) out.vlanOuter = vid;
    else out.vlanInner = vid;
    out.vlanCount = depth + 1;
    type = u16be(buf, off + VLAN_TYPE);
    off += VLAN_TAG_LEN;
  }
  out.l3Offset = off;
  return type;
}
