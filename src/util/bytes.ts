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

/**
 * Big-endian 32-bit word at `i` as a signed int32 (two's complement). Addresses, hashes and sequence
 * numbers are kept this way on the packet path: V8 holds an int32 as a small integer, while a
 * uint32 of 2^31 or more is a heap number (boxed when it is passed or stored as a tagged value).
 */
export function i32be(b: Uint8Array, i: number): number {
  return (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
}

/** Little-endian unsigned 16-bit value at `i`. */
export function u16le(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8);
}

/** Little-endian unsigned 32-bit value at `i`. */
export function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}
