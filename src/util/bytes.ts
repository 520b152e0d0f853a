/**
 * Unchecked fixed-width readers for the decoders, the payload recognisers and the shard picker.
 * Every caller has already checked, once per layer or message, that the bytes lie inside the buffer;
 * these only assemble the integer. Reading past the end of a Uint8Array yields undefined (0 after
 * the bit operations), never an exception.
 */

/** Big-endian (network order) unsigned 16-bit value at `i`. */
export function u16be(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

/** Big-endian unsigned 32-bit value at `i`. */
export function u32be(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** Little-endian unsigned 16-bit value at `i`. */
export function u16le(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8);
}

/** Little-endian unsigned 32-bit value at `i`. */
export function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}
