/**
 * Which encapsulations the decoder opens (`--decap auto|off`, `--vxlan-port N`): plain data, so it
 * crosses to worker threads as is, and the port table built from it.
 *
 * UDP-carried tunnels are recognised by port, as tshark does with its default preferences: VXLAN on
 * 4789 (IANA) and 8472 (Linux kernel default: flannel, Cilium) plus any --vxlan-port, VXLAN-GPE on
 * 4790, Geneve on 6081, GTP-U on 2152, Teredo on 3544. Either port of the datagram may be the tunnel's (a reply
 * comes from it); when both are tunnel ports the lower one decides, as in tshark.
 */
export interface DecapOptions {
  /** 'auto': open every encapsulation portsniff knows; 'off': outer headers only (as before tunnels were decoded). */
  mode: 'auto' | 'off';
  /** Extra UDP ports carrying VXLAN (besides 4789 and 8472). */
  vxlanPorts?: readonly number[];
}

export const DEFAULT_DECAP_OPTIONS: DecapOptions = Object.freeze({ mode: 'auto' as const });

/** The options as the --json summary states them: the mode and every port opened as VXLAN. */
export function decapSummary(opts: DecapOptions = DEFAULT_DECAP_OPTIONS): { decap: 'auto' | 'off'; vxlanPorts: number[] } {
  if (opts.mode === 'off') return { decap: 'off', vxlanPorts: [] };
  return { decap: 'auto', vxlanPorts: [...new Set([...VXLAN_PORTS, ...(opts.vxlanPorts ?? [])])].sort((a, b) => a - b) };
}

/** UDP tunnels (values of the port table). */
export const UdpTunnel = {
  None: 0,
  VXLAN: 1,
  GENEVE: 2,
  GTP_U: 3,
  TEREDO: 4,
  VXLAN_GPE: 5,
} as const;

export const VXLAN_PORTS = [4789, 8472] as const;
export const VXLAN_GPE_PORT = 4790;
export const GENEVE_PORT = 6081;
export const GTPU_PORT = 2152;
export const TEREDO_PORT = 3544;

/**
 * A 65536-entry table (port -> UdpTunnel) for `opts`, or null when decapsulation is off. Built once
 * per engine (and once for the reading thread's sharding), never per packet.
 */
export function udpTunnelPorts(opts: DecapOptions = DEFAULT_DECAP_OPTIONS): Uint8Array | null {
  if (opts.mode === 'off') return null;
  const t = new Uint8Array(65536);
  t[GTPU_PORT] = UdpTunnel.GTP_U;
  t[TEREDO_PORT] = UdpTunnel.TEREDO;
  t[GENEVE_PORT] = UdpTunnel.GENEVE;
  t[VXLAN_GPE_PORT] = UdpTunnel.VXLAN_GPE;
  // VXLAN last: an explicit --vxlan-port wins over another tunnel's default port.
  for (const p of [...VXLAN_PORTS, ...(opts.vxlanPorts ?? [])]) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`VXLAN port must be 1-65535, got ${p}`);
    t[p] = UdpTunnel.VXLAN;
  }
  return t;
}

/** The tunnel a UDP datagram between these ports carries (UdpTunnel), from a udpTunnelPorts() table. */
export function udpTunnelOf(ports: Uint8Array, srcPort: number, dstPort: number): number {
  const lo = srcPort < dstPort ? srcPort : dstPort;
  const k = ports[lo]!;
  return k !== 0 ? k : ports[srcPort < dstPort ? dstPort : srcPort]!;
}
