/**
 * Bus headers to and from the NATS client's header object, without its per-call copying and checks.
 *
 * Out, the client's `set()` looks every key up twice, canonicalizes it and tests the value with a regex, and its
 * `encode()` gives the block an ArrayBuffer of its own; here the map is filled directly (names and values were
 * checked by `checkMessage`; values trimmed as `set()` trims them) and the block, the client's own `toString()`, is
 * encoded into the shared buffer pool. Same bytes on the wire.
 */
import { MsgHdrsImpl } from '@nats-io/nats-core';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { BusHeaders } from '../bus.js';
import { utf8Bytes } from '../pooled-bytes.js';

class PooledHeaders extends MsgHdrsImpl {
  override encode(): Uint8Array {
    return utf8Bytes(this.toString());
  }
}

/**
 * The client's header object, filled directly: `set()` looks every key up twice, canonicalizes it and tests the
 * value with a regex, which made headers cost as much as the rest of a request. The names and values were checked
 * by `checkMessage` already; the value is trimmed as `set()` trims it, so the bytes on the wire are the same.
 */
export function toNatsHeaders(headers: BusHeaders): MsgHdrs | undefined {
  const out = new PooledHeaders();
  for (const name in headers) out.headers.set(name, [(headers[name] as string).trim()]);
  return out.size() === 0 ? undefined : out;
}

/** Iterated, not `keys()` + `get()`: each `get()` copies and filters every key again. The first value, as `get()`. */
export function fromNatsHeaders(headers: MsgHdrs | undefined): BusHeaders {
  const out: BusHeaders = {};
  if (headers) for (const [name, values] of headers) out[name] = values[0] ?? '';
  return out;
}
