/**
 * Bus headers to and from the NATS client's header object, without its per-call copying and checks.
 *
 * Out, the client's `set()` looks every key up twice, canonicalizes it and tests the value with a regex, and its
 * `encode()` gives the block an ArrayBuffer of its own; here the map is filled directly (names and values were
 * checked by `checkMessage`; values trimmed as `set()` trims them) and the block, the client's own `toString()`, is
 * encoded into the shared buffer pool. Same bytes on the wire. (JetStream's messages come through here; core
 * messages, publishes and requests, have their block written straight into their frame by `frame.ts`.)
 *
 * In, the client decodes a block with `split`, `slice`, `map` and, per header, a canonicalization, a key search and
 * a regex; `messageHeaders` reads a received message's block directly, with the same names and first values. A
 * block the client's decoder would refuse is left to the client, which says what is wrong as before.
 */
import { MsgHdrsImpl, MsgImpl } from '@nats-io/nats-core/internal';
import type { Msg, MsgHdrs } from '@nats-io/transport-node';
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

/** A header name the client's decoder accepts: printable ASCII without ':' (its `canonicalMIMEHeaderKey`). */
const NAME = /^[!-9;-~]*$/;
/** A value the client's decoder refuses (a lone CR or LF inside a line). */
const LINE_BREAK = /[\r\n]/;
/**
 * A block every line of which passes those checks: the status line, then `name:value` lines (name as `NAME`, no line
 * break anywhere but the CRLFs), then the blank line. One test of the whole block instead of two per line.
 */
const WELL_FORMED = /^[^\r\n]*\r\n(?:[!-9;-~]*:[^\r\n]*\r\n)*(?:\r\n)?$/;
/** The client's decoder: not fatal, a bad sequence becomes U+FFFD. */
const decoder = new TextDecoder();

/** A received message's headers, the first value of each name, in the order the block lists them. */
export function messageHeaders(message: Msg): BusHeaders {
  if (message instanceof MsgImpl && message._headers === undefined) {
    const { hdr } = message._msg;
    if (hdr < 0) return {};
    const raw = message._rdata;
    // A Buffer (the socket's chunk) decodes a range in place; a plain array (a message split across reads) needs a view.
    const text = Buffer.isBuffer(raw) ? raw.toString('utf8', 0, hdr) : decoder.decode(raw.subarray(0, hdr));
    const read = readBlock(text);
    if (read !== null) return read;
  }
  return fromNatsHeaders(message.headers);
}

/**
 * The lines after the status line, as the client's `MsgHdrsImpl.decode` reads them: split at CRLF, empty lines and
 * lines without ':' skipped, the name before the first ':' as is, the value after it trimmed. Null when the client
 * would refuse a line (a name it cannot canonicalize, a value with a line break).
 */
function readBlock(text: string): BusHeaders | null {
  const checked = WELL_FORMED.test(text);
  const headers: BusHeaders = {};
  let start = text.indexOf('\r\n');
  if (start < 0) return headers;
  start += 2;
  while (start < text.length) {
    let end = text.indexOf('\r\n', start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', start);
    if (colon > -1 && colon < end) {
      const name = text.slice(start, colon);
      const value = text.slice(colon + 1, end).trim();
      if (!checked && (!NAME.test(name) || LINE_BREAK.test(value))) return null;
      if (!Object.hasOwn(headers, name)) headers[name] = value;
    }
    start = end + 2;
  }
  return headers;
}
