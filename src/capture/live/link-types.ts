/**
 * Link-type names and hints for live capture on Linux: libpcap's DLT_ names (what tcpdump prints)
 * to LINKTYPE_ numbers (what pcap files carry), and the link type libpcap will pick for an
 * interface, guessed from its ARPHRD_ type in /sys/class/net/NAME/type (libpcap's pcap-linux.c
 * map_arphrd_to_dlt does the real choice; this covers the common cases).
 */
import * as fs from 'node:fs';
import { LinkType } from '../types.js';

/** DLT_ names tcpdump prints ("link-type EN10MB") to LINKTYPE_ numbers. */
const DLT_NAMES: Record<string, number> = {
  NULL: LinkType.NULL,
  EN10MB: LinkType.ETHERNET,
  RAW: LinkType.RAW,
  IEEE802_11: LinkType.IEEE802_11,
  LOOP: LinkType.LOOP,
  LINUX_SLL: LinkType.LINUX_SLL,
  IEEE802_11_RADIO: LinkType.IEEE802_11_RADIOTAP,
  IPV4: LinkType.IPV4,
  IPV6: LinkType.IPV6,
  LINUX_SLL2: LinkType.LINUX_SLL2,
  NFLOG: 239,
  DBUS: 231,
  BLUETOOTH_LINUX_MONITOR: 254,
  USB_LINUX_MMAPPED: 220,
};

/** LINKTYPE_ for a DLT_ name, -1 if unknown. */
export function linkTypeFromDltName(name: string): number {
  return DLT_NAMES[name.replace(/^(DLT_|LINKTYPE_)/, '')] ?? -1;
}

/** The `cap` binding's link-type strings ("ETHERNET", "LINKTYPE_LINUX_SLL", "Unknown linktype 276"). */
export function linkTypeFromCapName(name: string): number {
  switch (name) {
    case 'NULL':
      return LinkType.NULL;
    case 'ETHERNET':
      return LinkType.ETHERNET;
    case 'IEEE802_11_RADIO':
      return LinkType.IEEE802_11_RADIOTAP;
    case 'LINKTYPE_LINUX_SLL':
      return LinkType.LINUX_SLL;
    case 'RAW':
      // The binding maps DLT_RAW (12 or 14 depending on the platform) to 'RAW'; the file value is 101.
      return LinkType.RAW;
    default: {
      // Other DLT_ values: from 104 up DLT_ and LINKTYPE_ numbers are the same.
      const m = /Unknown linktype (\d+)/.exec(name);
      return m === null ? -1 : Number(m[1]);
    }
  }
}

/** ARPHRD_ (linux/if_arp.h) -> the LINKTYPE_ libpcap uses for it. */
const ARPHRD_LINK: Record<number, number> = {
  1: LinkType.ETHERNET, // ARPHRD_ETHER
  772: LinkType.ETHERNET, // ARPHRD_LOOPBACK: Linux lo carries Ethernet headers with zero MACs
  65534: LinkType.RAW, // ARPHRD_NONE: tun, WireGuard
  776: LinkType.RAW, // ARPHRD_SIT
  768: LinkType.RAW, // ARPHRD_TUNNEL (ipip)
  769: LinkType.RAW, // ARPHRD_TUNNEL6
  778: LinkType.LINUX_SLL, // ARPHRD_IPGRE
  512: LinkType.LINUX_SLL, // ARPHRD_PPP: cooked on Linux
  801: LinkType.IEEE802_11, // ARPHRD_IEEE80211
  803: LinkType.IEEE802_11_RADIOTAP, // ARPHRD_IEEE80211_RADIOTAP
  32: 247, // ARPHRD_INFINIBAND (LINKTYPE_INFINIBAND)
  280: 227, // ARPHRD_CAN (LINKTYPE_CAN_SOCKETCAN)
};

/** Pseudo-devices by name (they have no /sys/class/net entry). */
const PSEUDO_LINK: Record<string, number> = {
  nflog: 239,
  nfqueue: LinkType.IPV4, // libpcap's netfilter module hands queued packets over as raw IPv4
  'dbus-system': 231,
  'dbus-session': 231,
  'bluetooth-monitor': 254,
};

/**
 * The link type a capture on `name` will most likely have, or null when unknown. `any` is Linux
 * cooked: SLL2 through tcpdump 4.99 (it asks for it), SLL through the cap binding (libpcap's default).
 */
export function linkTypeHint(name: string, backend: 'tcpdump' | 'cap'): number | null {
  if (name === 'any') return backend === 'tcpdump' ? LinkType.LINUX_SLL2 : LinkType.LINUX_SLL;
  const type = readSysNet(name, 'type');
  if (type !== null) return ARPHRD_LINK[Number(type)] ?? null;
  if (name.startsWith('usbmon')) return 220;
  return PSEUDO_LINK[name] ?? null;
}

/** IFF_LOOPBACK from /sys/class/net/NAME/flags, or the name `lo` when /sys is not there. */
export function isLoopbackInterface(name: string): boolean {
  const flags = readSysNet(name, 'flags');
  if (flags !== null) return (Number(flags) & 0x8) !== 0;
  return name === 'lo' || name === 'lo0';
}

function readSysNet(name: string, file: string): string | null {
  if (name.includes('/') || name === '.' || name === '..') return null;
  try {
    return fs.readFileSync(`/sys/class/net/${name}/${file}`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Frames the default kernel buffer should hold at least (bursts of ~1000 packets on lo, counting both copies). */
const TARGET_RING_FRAMES = 2048;
const MIN_DEFAULT_BUFFER_KIB = 64 * 1024;
const MAX_DEFAULT_BUFFER_KIB = 256 * 1024;

/**
 * Default kernel buffer (KiB) for `iface`. In immediate mode libpcap uses a TPACKET_V2 ring with one
 * fixed-size frame per packet, sized from the interface MTU and rounded up to a power-of-two block:
 * on lo (MTU 65536) that is one packet per 128 KiB, so 64 MiB holds only 512 packets and a
 * redis-benchmark burst overflowed it. We aim at TARGET_RING_FRAMES frames: 64 MiB for ordinary
 * MTUs, 256 MiB on lo (and `any`, which carries lo's traffic too).
 */
export function defaultBufferKiB(iface: string): number {
  const mtu = iface === 'any' ? maxMtu() : readMtu(iface);
  if (mtu === null) return MIN_DEFAULT_BUFFER_KIB;
  let block = 4096;
  while (block < mtu + 128) block *= 2;
  const want = (TARGET_RING_FRAMES * block) / 1024;
  return Math.min(MAX_DEFAULT_BUFFER_KIB, Math.max(MIN_DEFAULT_BUFFER_KIB, want));
}

function readMtu(name: string): number | null {
  const v = readSysNet(name, 'mtu');
  return v === null || !/^\d+$/.test(v) ? null : Number(v);
}

function maxMtu(): number | null {
  let names: string[];
  try {
    names = fs.readdirSync('/sys/class/net');
  } catch {
    return null;
  }
  let max: number | null = null;
  for (const n of names) {
    const m = readMtu(n);
    if (m !== null && (max === null || m > max)) max = m;
  }
  return max;
}
