/**
 * A request on the connection's shared reply inbox, through the client's own muxer: the same `_INBOX.{nuid}.*`
 * subscription and the same `_INBOX.{nuid}.{token}` reply subject (8 base62 characters, as the client's
 * `randomToken`) as `nc.request`, so the bytes on the wire are the same.
 *
 * Why not `nc.request`: the bus already races each request against its own timer, the caller's abort and the bus
 * closing (`raceRequest`), and `nc.request` adds a second timer, a deferred, a `Promise.race`, and on every reply a
 * `RequestError("cancelled")` (an Error, so a stack trace captured) that nobody reads: together a sixth of the CPU a
 * mesh call spent on NATS. The muxer still tells this request what it tells its own: the reply, no responders (its
 * `NoRespondersError`), a permission violation on the request's subject, the connection closing.
 */
import type { NatsConnectionImpl, Request } from '@nats-io/nats-core/internal';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { BusBody, BusHeaders } from '../bus.js';
import { publishFrame } from './frame.js';

/** How a muxed request ends: with the reply, or with the client's error (null `msg`). */
export type MuxAnswer = (error: Error | null, msg: Msg | null) => void;

const TOKEN_DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const TOKEN_LENGTH = 8;

/** A reply token as the client's `randomToken` makes one: 8 base62 characters from `Math.random()`. */
function replyToken(): string {
  let token = '';
  for (let i = 0; i < TOKEN_LENGTH; i++) token += TOKEN_DIGITS[Math.floor(Math.random() * 62)];
  return token;
}

/** What the muxer holds for one request in flight: the shape of the client's `Request`. */
class MuxedRequest implements Request {
  readonly token = replyToken();
  received = 0;

  constructor(
    readonly requestSubject: string,
    private readonly protocol: NatsConnectionImpl['protocol'],
    private readonly answer: MuxAnswer,
  ) {}

  /** The muxer's call: the reply (`err` null), or why none will come. Either way the request leaves the muxer. */
  resolver(err: Error | null, msg: Msg): void {
    this.cancel();
    // The muxer hands `{}` as the message of an error; only a reply carries one.
    this.answer(err, err ? null : msg);
  }

  /** Forgets the request: a reply that still comes finds no token and is dropped, as the client drops it. */
  cancel(): void {
    this.protocol.muxSubscriptions.cancel(this);
  }
}

/**
 * Publishes `body` (`bodyBytes` long, copied into the frame, see `publishFrame`) to `subject` with a muxed reply subject; `answer` is
 * called at most once. Returns the cancel that forgets the request (after a timeout or an abort). Throws what
 * `publish` throws, the request forgotten.
 */
export function muxRequest(
  nc: NatsConnection,
  subject: string,
  body: BusBody,
  bodyBytes: number,
  headers: BusHeaders | undefined,
  answer: MuxAnswer,
): () => void {
  const { protocol } = nc as NatsConnectionImpl;
  const request = new MuxedRequest(subject, protocol, answer);
  protocol.request(request); // subscribes the shared inbox on first use, then registers the token
  try {
    publishFrame(nc, subject, body, bodyBytes, `${protocol.muxSubscriptions.baseInbox}${request.token}`, headers);
  } catch (error) {
    request.cancel();
    throw error;
  }
  return () => request.cancel();
}
