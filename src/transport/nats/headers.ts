/** Bus headers to and from the NATS client's header object, without its per-call copying and checks. */
import { MsgHdrsImpl } from '@nats-io/nats-core';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { BusHeaders } from '../bus.js';

/**
 * The client's header object, filled directly: `set()` looks every key up twice, canonicalizes it and tests the
 * value with a regex, which made headers cost as much as the rest of a request. The names and values were checked
 * by `checkMessage` already; the value is trimmed as `set()` trims it, so the bytes on the wire are the same.
 */
export function toNatsHeaders(headers: BusHeaders): MsgHdrs | undefined {
  const out = new MsgHdrsImpl();
  for (const name in headers) out.headers.set(name, [(headers[name] as string).trim()]);
  return out.size() === 0 ? undefined : out;
}

/** Iterated, not `keys()` + `get()`: each `get()` copies and filters every key again. The first value, as `get()`. */
export function fromNatsHeaders(headers: MsgHdrs | undefined): BusHeaders {
  const out: BusHeaders = {};
  if (headers) for (const [name, values] of headers) out[name] = values[0] ?? '';
  return out;
}
