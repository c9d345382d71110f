/**
 * Invoking agents on OpenAgentMesh's wire, from any Bus (`oam-wire.md` §4–§8; OAM main's `_invocation.py`):
 *
 * - `call`: a request on `mesh.agent.{name}` with `X-Mesh-Request-Id` (30 s by default); an `X-Mesh-Status: error`
 *   reply is the MeshError it describes (remote codes kept, unknown ones too); an empty success body is `{}`;
 * - `stream`: subscribes to `mesh.stream.{id}` before publishing the request (no reply subject, `X-Mesh-Stream:
 *   true`), checks every chunk's `X-Mesh-Stream-Seq` (`chunk_sequence_error`), drops frames without headers or body
 *   as OAM does, ends on the `End: true` frame, throws an error frame's MeshError; idle and total timeouts;
 * - `send`: fire and forget (no reply subject); with `onReply`, the reply comes on `mesh.results.{id}`, to which this
 *   subscribes BEFORE publishing (OAM subscribes after, and lost a fast reply in 1 of 4 runs) and stops listening
 *   after the reply (OAM kept listening and reported a `timeout` after a success);
 * - `publish` / `subscribe`: an agent's events, a channel, a subject.
 *
 * Before sending, the verb is checked against the agent's catalog entry (OAM main's table, `capability-check.ts`),
 * and a mismatch fails here with `invocation_mismatch`, sending nothing. Bus errors become MeshErrors: no responders
 * → `not_found` (not in the catalog) or `not_available` (in it); timeout → `timeout`; abort → `cancelled`. While a
 * call or stream is in flight it also listens on `mesh.death.{name}` (OAM main's per-request race), so a provider
 * whose host died fails it with `agent_died` and the death notice as details, instead of waiting for the timeout.
 */

import { currentTraceHeaders, traceMeshCall } from '../../telemetry/mesh-spans.js';
import type { Bus, BusBody, BusHeaders, BusMessage, BusSubscription } from '../bus.js';
import { isBusError } from '../bus-errors.js';
import { mismatchError, type Verb } from './capability-check.js';
import type { CatalogCapabilities } from './contract-types.js';
import { eventHeaders } from './frames.js';
import { isMeshError, MeshError } from './mesh-error.js';
import { MessageQueue } from './message-queue.js';
import {
  type MeshSubscription,
  type SubscribeOptions,
  type SubscribeTarget,
  subscribeMessages,
} from './subscription.js';
import { agentNameProblem, decodeBody, encodeBody, HEADER, newRequestId, subjects } from './wire.js';

/** The flags of a name's catalog entry, from the caller's warm catalog cache; undefined when it is not listed. */
export type CatalogLookup = (name: string) => CatalogCapabilities | undefined;

export interface CallerOptions {
  /** The catalog cache. Without it there is no pre-flight check, and no responders is always `not_found`. */
  lookup?: CatalogLookup;
  /** Sent as `X-Mesh-Instance-Id` on requests (OAM main does; 0.2.0 sends none). */
  instanceId?: string;
}

export interface CallOptions {
  /** Default 30 s, as OAM. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Extra request headers (a peer's session); OAM's own headers win, and OAM peers ignore names they do not know. */
  headers?: BusHeaders;
}

export interface StreamOptions {
  /** Fails with `timeout` when no frame arrives for this long (default: only the total timeout applies). */
  idleTimeoutMs?: number;
  /** The whole stream's deadline; default 60 s, as OAM. */
  totalTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface SendOptions {
  /** Called with the reply (a managed reply on `mesh.results.{id}`); without it, `send` is fire and forget. */
  onReply?: (reply: unknown) => void | Promise<void>;
  /** Called with the error reply, a `timeout` when no reply came, or a failure of `onReply`. */
  onError?: (error: MeshError) => void | Promise<void>;
  /** How long to wait for the reply (default 60 s, as OAM). */
  timeoutMs?: number;
  /** Extra request headers, as for `call`. */
  headers?: BusHeaders;
}

export interface PublishOptions {
  /** Extra headers; they win over the ones automesh sets. */
  headers?: BusHeaders;
}

/** A death notice (`mesh.death.{name}`, OAM main): who died, why, when, which host. */
export interface DeathNotice {
  agent: string;
  reason: string;
  detected_at: string;
  instance_id: string;
  [key: string]: unknown;
}

const CALL_TIMEOUT_MS = 30_000;
const STREAM_TIMEOUT_MS = 60_000;
const SEND_REPLY_TIMEOUT_MS = 60_000;

export class Caller {
  readonly #bus: Bus;
  readonly #lookup: CatalogLookup | undefined;
  readonly #instanceId: string | undefined;
  readonly #deaths: DeathWatch;
  readonly #eventSeq = new Map<string, number>();

  constructor(bus: Bus, options: CallerOptions = {}) {
    this.#bus = bus;
    this.#lookup = options.lookup;
    this.#instanceId = options.instanceId;
    this.#deaths = new DeathWatch(bus);
  }

  /** Request/reply: the agent's result (`{}` for an empty one). */
  call(name: string, input?: unknown, options: CallOptions = {}): Promise<unknown> {
    try {
      this.#preflight(name, 'call');
    } catch (err) {
      return Promise.reject(err);
    }
    return traceMeshCall(name, subjects.agent(name), () => this.#call(name, input, options));
  }

  /**
   * The request, settled by the first of its reply (or failure) and a death notice for `name`: one object per call
   * (PendingCall) that is the death watch's listener too, and the bus's request (no `Promise.race`, no promise per
   * death watch, no closure per way the call can end): this runs for every call.
   */
  #call(name: string, input: unknown, options: CallOptions): Promise<unknown> {
    const requestId = newRequestId();
    const timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const call = new PendingCall(name, requestId, timeoutMs, resolve, reject, this.#meshErrorOf);
      this.#deaths.watch(name, call);
      let reply: Promise<BusMessage>;
      try {
        reply = this.#bus.request(subjects.agent(name), encodeBody(input), {
          headers: this.#requestHeaders(requestId, options.headers),
          timeoutMs,
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (err) {
        call.failed(err);
        return;
      }
      reply.then(
        (message) => call.replied(message),
        (err: unknown) => call.failed(err),
      );
    });
  }

  /** A stream request: the chunks, in order. The request is sent when iteration starts. */
  async *stream(name: string, input?: unknown, options: StreamOptions = {}): AsyncGenerator<unknown, void, undefined> {
    this.#preflight(name, 'stream');
    const requestId = newRequestId();
    const totalMs = options.totalTimeoutMs ?? STREAM_TIMEOUT_MS;
    const queue = new MessageQueue<BusMessage>();
    const fail = (error: MeshError): void => queue.fail(error);
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      if (options.idleTimeoutMs === undefined) return;
      clearTimeout(idle);
      idle = setTimeout(
        () => fail(timeoutError(name, requestId, `no frame from agent '${name}' for ${options.idleTimeoutMs} ms`)),
        options.idleTimeoutMs,
      );
    };
    const total = setTimeout(
      () => fail(timeoutError(name, requestId, `stream from agent '${name}' not finished within ${totalMs} ms`)),
      totalMs,
    );
    const onAbort = (): void => fail(cancelledError(name, requestId));
    const deathListener = new StreamDeathListener((notice) => fail(diedError(name, requestId, notice)));
    this.#deaths.watch(name, deathListener);
    // Subscribe before publishing: the first chunk may come back before a later subscription would exist.
    const subscription = this.#bus.subscribe(subjects.stream(requestId), (frame) => {
      armIdle();
      queue.push(frame);
    });
    try {
      if (options.signal?.aborted) throw cancelledError(name, requestId);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      armIdle();
      this.#publish(
        subjects.agent(name),
        encodeBody(input),
        {
          headers: {
            ...currentTraceHeaders(),
            [HEADER.requestId]: requestId,
            [HEADER.stream]: 'true',
            ...this.#instanceHeader(),
          },
        },
        name,
        requestId,
      );
      let expected = 0;
      for (;;) {
        const frame = await queue.next();
        const { headers, data } = frame;
        if (headers[HEADER.status] === 'error' && data.length > 0) {
          throw MeshError.fromEnvelope(decodeBody(data, frame.subject), { agent: name, requestId });
        }
        if (headers[HEADER.streamEnd] === 'true') return;
        // OAM counts a frame only when it has headers and a body; others are dropped silently.
        if (data.length === 0 || Object.keys(headers).length === 0) continue;
        const seq = Number.parseInt(headers[HEADER.streamSeq] ?? '-1', 10);
        if (seq !== expected) {
          throw new MeshError(
            'chunk_sequence_error',
            `Agent '${name}' sent chunk ${seq} where chunk ${expected} was due`,
            {
              agent: name,
              requestId,
              details: { expected_seq: expected, got_seq: seq },
            },
          );
        }
        expected += 1;
        yield decodeBody(data, frame.subject);
      }
    } catch (err) {
      throw isMeshError(err) ? err : this.#meshErrorOf(err, name, requestId, totalMs);
    } finally {
      clearTimeout(idle);
      clearTimeout(total);
      options.signal?.removeEventListener('abort', onAbort);
      subscription.unsubscribe();
      deathListener.unwatch();
    }
  }

  /**
   * Fire and forget: resolves with the request id once the request is sent. With `onReply`, the reply (or the error,
   * or a timeout) is delivered to the callbacks later.
   */
  async send(name: string, input?: unknown, options: SendOptions = {}): Promise<string> {
    this.#preflight(name, 'send');
    const requestId = newRequestId();
    const headers = this.#requestHeaders(requestId, options.headers);
    if (!options.onReply) {
      this.#publish(subjects.agent(name), encodeBody(input), { headers }, name, requestId);
      return requestId;
    }
    const replySubject = subjects.results(requestId);
    const timeoutMs = options.timeoutMs ?? SEND_REPLY_TIMEOUT_MS;
    const report = reporter(options.onError, name);
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      subscription.unsubscribe();
      return true;
    };
    // Subscribed before the request goes out, so even an instant reply is heard; one reply, then we stop listening.
    const subscription = this.#bus.subscribe(replySubject, (message) => {
      if (!settle()) return;
      let reply: unknown;
      try {
        reply = readReply(message, name, requestId);
      } catch (err) {
        void report(this.#meshErrorOf(err, name, requestId, timeoutMs));
        return;
      }
      void Promise.resolve()
        .then(() => options.onReply?.(reply))
        .catch((err: unknown) =>
          report(
            new MeshError('handler_error', `onReply of send('${name}') failed: ${messageOf(err)}`, {
              agent: name,
              requestId,
              cause: err,
            }),
          ),
        );
    });
    const timer = setTimeout(() => {
      if (settle()) void report(timeoutError(name, requestId, `no reply from agent '${name}' within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      this.#publish(subjects.agent(name), encodeBody(input), { headers, reply: replySubject }, name, requestId);
    } catch (err) {
      settle();
      throw err;
    }
    return requestId;
  }

  /**
   * Publishes an event. A string or `{ agent }` publishes as that agent's events (`mesh.agent.{name}.events`, with
   * `X-Mesh-Stream-Seq` counting from 0 per agent, as a publisher agent does), which `subscribe({ agent })` and
   * `subscribe({ channel })` receive; `{ subject }` publishes on that subject as OAM main's `mesh.publish` does
   * (`X-Mesh-Request-Id` and `X-Mesh-Content-Type`: JSON for values, text for strings, octet-stream for bytes).
   */
  publish(
    target: string | { agent: string } | { subject: string },
    payload: unknown,
    options: PublishOptions = {},
  ): void {
    if (typeof target === 'string' || 'agent' in target) {
      const name = typeof target === 'string' ? target : target.agent;
      checkedName(name);
      const seq = this.#eventSeq.get(name) ?? 0;
      const headers = { ...eventHeaders(seq, false, this.#instanceId), ...options.headers };
      this.#publish(subjects.events(name), encodeBody(payload ?? null), { headers }, name, '');
      this.#eventSeq.set(name, seq + 1);
      return;
    }
    const subject = target.subject;
    if (typeof subject !== 'string' || !/^[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*$/.test(subject)) {
      throw new MeshError(
        'invalid_definition',
        `Cannot publish on "${String(subject)}": a subject is dotted tokens of letters, digits, "_" and "-" (wildcards only subscribe).`,
      );
    }
    const [data, contentType]: [BusBody, string] =
      payload instanceof Uint8Array
        ? [payload, 'application/octet-stream']
        : typeof payload === 'string'
          ? [payload, 'text/plain']
          : [encodeBody(payload ?? null), 'application/json'];
    const headers = {
      [HEADER.requestId]: newRequestId(),
      [HEADER.contentType]: contentType,
      ...this.#instanceHeader(),
      ...options.headers,
    };
    this.#publish(subject, data, { headers }, '', '');
  }

  /** Messages of an agent's events (ending with its End frame), a channel or a subject; starts listening at once. */
  subscribe(target: SubscribeTarget, options: SubscribeOptions = {}): MeshSubscription {
    if (typeof target === 'object' && target !== null && 'agent' in target) {
      checkedName(target.agent);
      this.#preflight(target.agent, 'subscribe');
    }
    return subscribeMessages(this.#bus, target, options);
  }

  /** Refuses locally, sending nothing, a verb the catalog says the agent does not take (OAM main's table). */
  #preflight(name: string, verb: Verb): void {
    checkedName(name);
    const entry = this.#lookup?.(name);
    if (entry === undefined) return; // not in the catalog: let the request go out, as OAM does
    const mismatch = mismatchError(verb, name, entry);
    if (mismatch) throw mismatch;
  }

  #instanceHeader(): BusHeaders {
    return this.#instanceId === undefined ? {} : { [HEADER.instanceId]: this.#instanceId };
  }

  #requestHeaders(requestId: string, extra?: BusHeaders): BusHeaders {
    // The caller's trace (W3C traceparent) travels with the request: the agent's work is part of it. Filled in this
    // order, the names in the order of `{ ...trace, ...extra, requestId, ...instance }`, without the copies.
    const headers: BusHeaders = Object.assign({}, currentTraceHeaders(), extra);
    headers[HEADER.requestId] = requestId;
    if (this.#instanceId !== undefined) headers[HEADER.instanceId] = this.#instanceId;
    return headers;
  }

  #publish(
    subject: string,
    data: BusBody,
    options: { headers: BusHeaders; reply?: string },
    name: string,
    requestId: string,
  ): void {
    try {
      this.#bus.publish(subject, data, options);
    } catch (err) {
      throw this.#meshErrorOf(err, name, requestId, 0);
    }
  }

  /** A bus failure as the MeshError a caller sees (a property, so that a PendingCall can hold it). */
  readonly #meshErrorOf = (err: unknown, name: string, requestId: string, timeoutMs: number): MeshError => {
    if (isMeshError(err)) return err;
    if (!isBusError(err)) {
      return new MeshError('handler_error', `Calling agent '${name}' failed: ${messageOf(err)}`, {
        agent: name,
        requestId,
        cause: err,
      });
    }
    const init = { agent: name, requestId, cause: err };
    switch (err.code) {
      case 'no_responders':
        return this.#lookup?.(name)
          ? new MeshError('not_available', `Agent '${name}' is in the catalog but no process serves it now`, init)
          : new MeshError(
              'not_found',
              `No agent '${name}' on the mesh: nothing serves it and the catalog does not list it`,
              init,
            );
      case 'timeout':
        return timeoutError(name, requestId, `no reply from agent '${name}' within ${timeoutMs} ms`);
      case 'cancelled':
        return cancelledError(name, requestId);
      case 'payload_too_large':
        return new MeshError('payload_too_large', `The input for agent '${name}' is too large: ${err.message}`, init);
      case 'invalid_subject':
        return new MeshError('invalid_definition', err.message, init);
      case 'connection_denied':
        return new MeshError('connection_denied', err.message, init);
      default:
        return new MeshError('connection_failed', err.message, init);
    }
  };
}

/** The result of a reply: the envelope's MeshError when `X-Mesh-Status: error`, else the body (`{}` when empty). */
function readReply(reply: BusMessage, name: string, requestId: string): unknown {
  if (reply.headers[HEADER.status] === 'error') {
    throw MeshError.fromEnvelope(decodeBody(reply.data, reply.subject), { agent: name, requestId });
  }
  return reply.data.length === 0 ? {} : decodeBody(reply.data, reply.subject);
}

function checkedName(name: string): void {
  const problem = agentNameProblem(name);
  if (problem !== null) {
    throw new MeshError('invalid_definition', `Cannot reach agent "${String(name)}": ${problem}.`, {
      agent: typeof name === 'string' ? name : '',
    });
  }
}

function timeoutError(name: string, requestId: string, what: string): MeshError {
  return new MeshError('timeout', `Timed out: ${what}`, { agent: name, requestId });
}

function cancelledError(name: string, requestId: string): MeshError {
  return new MeshError('cancelled', `The request to agent '${name}' was cancelled`, { agent: name, requestId });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Delivers an error to `onError`, or (without one, or when it throws) as a process warning: never lost. */
function reporter(onError: SendOptions['onError'], name: string): (error: MeshError) => Promise<void> {
  return async (error) => {
    try {
      if (onError) {
        await onError(error);
        return;
      }
    } catch (err) {
      process.emitWarning(`onError of send('${name}') failed: ${messageOf(err)}`, { code: 'AUTOMESH_MESH' });
    }
    process.emitWarning(`send('${name}'): ${error.code}: ${error.message}`, { code: 'AUTOMESH_MESH' });
  };
}

/**
 * How long the `mesh.death.{name}` subscription outlives the last request to `name`. Subscribing and unsubscribing
 * around every call cost two protocol messages per call, a third of what the mesh added to a serial call on NATS;
 * a notice that arrives while nobody waits is dropped.
 */
const DEATH_WATCH_LINGER_MS = 30_000;

/**
 * A request that a death notice for its agent ends: a link of its agent's list of watchers. The request object
 * itself is the link (no closure and no Set entry per request: this is on every call's path).
 */
abstract class DeathListener {
  /** The neighbours in the list of the watcher this listens on; `watcher` is null when not listening. */
  prevListener: DeathListener | null = null;
  nextListener: DeathListener | null = null;
  watcher: DeathWatcher | null = null;

  abstract died(notice: unknown): void;

  /** Stops listening (the request ended). Idempotent. */
  unwatch(): void {
    this.watcher?.remove(this);
  }
}

/** The listeners of one agent's `mesh.death.{name}` subscription, in a doubly linked list. */
class DeathWatcher {
  #first: DeathListener | null = null;
  #count = 0;
  /** The pending unsubscribe, while no request listens. */
  #idle: NodeJS.Timeout | undefined;
  readonly #subscription: BusSubscription;

  constructor(
    bus: Bus,
    name: string,
    private readonly forget: (watcher: DeathWatcher) => void,
  ) {
    this.#subscription = bus.subscribe(subjects.death(name), (message) => this.#tellAll(readNotice(message)));
  }

  add(listener: DeathListener): void {
    if (this.#idle !== undefined) {
      clearTimeout(this.#idle);
      this.#idle = undefined;
    }
    listener.watcher = this;
    listener.nextListener = this.#first;
    if (this.#first) this.#first.prevListener = listener;
    this.#first = listener;
    this.#count += 1;
  }

  remove(listener: DeathListener): void {
    if (listener.watcher !== this) return;
    const { prevListener, nextListener } = listener;
    if (prevListener) prevListener.nextListener = nextListener;
    else this.#first = nextListener;
    if (nextListener) nextListener.prevListener = prevListener;
    listener.prevListener = null;
    listener.nextListener = null;
    listener.watcher = null;
    this.#count -= 1;
    if (this.#count === 0) this.#lingerThenUnsubscribe();
  }

  #lingerThenUnsubscribe(): void {
    this.#idle = setTimeout(() => {
      if (this.#count > 0) return;
      this.forget(this);
      this.#subscription.unsubscribe();
    }, DEATH_WATCH_LINGER_MS);
    this.#idle.unref();
  }

  /** Tells every listener of now (each one leaves the list as its request ends, so the list is copied first). */
  #tellAll(notice: unknown): void {
    const listeners: DeathListener[] = [];
    for (let listener = this.#first; listener; listener = listener.nextListener) listeners.push(listener);
    for (const listener of listeners) listener.died(notice);
  }
}

/** A death notice's body; one that is not JSON is kept as its text. */
function readNotice(message: BusMessage): unknown {
  try {
    return decodeBody(message.data, message.subject) ?? {};
  } catch {
    return { raw: Buffer.from(message.data).toString('utf8') };
  }
}

/**
 * One subscription per agent name to `mesh.death.{name}`, shared by every call and stream to it in flight (the same
 * race as OAM main's per-request subscription, without a subscribe/unsubscribe pair per request on the wire).
 */
class DeathWatch {
  readonly #bus: Bus;
  readonly #watchers = new Map<string, DeathWatcher>();

  constructor(bus: Bus) {
    this.#bus = bus;
  }

  /** `listener.died(notice)` is called if a notice for `name` arrives before `listener.unwatch()`. */
  watch(name: string, listener: DeathListener): void {
    let watcher = this.#watchers.get(name);
    if (!watcher) {
      watcher = new DeathWatcher(this.#bus, name, (gone) => {
        if (this.#watchers.get(name) === gone) this.#watchers.delete(name);
      });
      this.#watchers.set(name, watcher);
    }
    watcher.add(listener);
  }
}

/** A stream's death watch: fails the stream's queue. */
class StreamDeathListener extends DeathListener {
  constructor(private readonly onDeath: (notice: unknown) => void) {
    super();
  }

  died(notice: unknown): void {
    this.onDeath(notice);
  }
}

type MeshErrorOf = (err: unknown, name: string, requestId: string, timeoutMs: number) => MeshError;

/** One call in flight: settled once, by its reply, its failure or a death notice for its agent. */
class PendingCall extends DeathListener {
  #settled = false;

  constructor(
    private readonly name: string,
    private readonly requestId: string,
    private readonly timeoutMs: number,
    private readonly resolve: (result: unknown) => void,
    private readonly reject: (error: unknown) => void,
    private readonly errorOf: MeshErrorOf,
  ) {
    super();
  }

  replied(message: BusMessage): void {
    if (!this.#settle()) return;
    try {
      this.resolve(readReply(message, this.name, this.requestId));
    } catch (err) {
      this.reject(this.errorOf(err, this.name, this.requestId, this.timeoutMs));
    }
  }

  failed(err: unknown): void {
    if (this.#settle()) this.reject(this.errorOf(err, this.name, this.requestId, this.timeoutMs));
  }

  died(notice: unknown): void {
    if (this.#settle()) this.reject(diedError(this.name, this.requestId, notice));
  }

  /** Ends the death watch; false when the call was settled already. */
  #settle(): boolean {
    this.unwatch();
    if (this.#settled) return false;
    this.#settled = true;
    return true;
  }
}

/** The `agent_died` error of a request to `name`, the death notice as its details. */
function diedError(name: string, requestId: string, notice: unknown): MeshError {
  const details = (typeof notice === 'object' && notice !== null ? notice : { notice }) as Record<string, unknown>;
  const reason = typeof details.reason === 'string' ? details.reason : 'unknown';
  return new MeshError('agent_died', `Agent '${name}' died while handling the request (${reason})`, {
    agent: name,
    requestId,
    details,
  });
}
