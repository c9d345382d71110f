import { type Msg, MsgImpl } from '@nats-io/nats-core/internal';

/**
 * The client hands out Node Buffers for some reads and plain Uint8Arrays for others; the bus always gives a plain
 * Uint8Array (a view on the same memory, no copy), as the in-process bus does, so callers compare bytes alike.
 */
export function plainBytes(data: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(data) === Uint8Array.prototype
    ? data
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A received message's body as a plain Uint8Array on the client's bytes: one view made here, where the client's
 * `data` getter makes a Buffer view first that `plainBytes` would then wrap again.
 */
export function messageBody(message: Msg): Uint8Array {
  if (!(message instanceof MsgImpl) || !message._rdata) return plainBytes(message.data);
  const raw = message._rdata;
  const skip = Math.max(message._msg.hdr, 0);
  return new Uint8Array(raw.buffer, raw.byteOffset + skip, raw.byteLength - skip);
}
