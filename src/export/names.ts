/** Human names for link types (for summaries; numbers stay the machine interface). */
const LINK_TYPE_NAMES: Record<number, string> = {
  0: 'BSD loopback (NULL)',
  1: 'Ethernet',
  101: 'Raw IP',
  105: 'IEEE 802.11',
  108: 'OpenBSD loopback (LOOP)',
  113: 'Linux cooked (SLL)',
  127: 'IEEE 802.11 + radiotap',
  228: 'Raw IPv4',
  229: 'Raw IPv6',
  239: 'Linux NFLOG',
  258: 'Apple PKTAP',
  276: 'Linux cooked v2 (SLL2)',
};

export function linkTypeName(lt: number): string {
  return LINK_TYPE_NAMES[lt] ?? `link type ${lt}`;
}
