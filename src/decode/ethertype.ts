/**
 * EtherType values the decoder dispatches on (IEEE Registration Authority EtherType list;
 * https://www.iana.org/assignments/ieee-802-numbers). Unknown values are kept as numbers.
 */
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
/** IEEE 802.1Q customer VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** IEEE 802.1ad service VLAN tag (QinQ outer tag). */
export const ETHERTYPE_QINQ = 0x88a8;
/** Pre-standard QinQ outer tag used by some switches. */
export const ETHERTYPE_QINQ_OLD = 0x9100;
/** Values up to 1500 in the type field are an IEEE 802.3 length: an LLC header follows. */
export const ETHER_MAX_LENGTH_FIELD = 1500;
