/**
 * The client hands out Node Buffers for some reads and plain Uint8Arrays for others; the bus always gives a plain
 * Uint8Array (a view on the same memory, no copy), as the in-process bus does, so callers compare bytes alike.
 */
export function plainBytes(data: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(data) === Uint8Array.prototype
    ? data
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
