/**
 * `subscribe({ agent | channel | subject })`: messages on the mesh as an async iterable, as OpenAgentMesh's
 * `mesh.subscribe` reads them (`oam-wire.md` §8). An agent's events (`mesh.agent.{name}.events`) end with the
 * publisher's `X-Mesh-Stream-End: true` frame; an error frame (`X-Mesh-Status: error` with a body) throws the
 * MeshError it carries; a message with an empty body is not yielded. A channel (`mesh.agent.{channel}.>`, which also
 * matches invocation subjects under it, as in OAM) or a raw subject runs until stopped: one publisher ending does not
 * end a whole channel (OAM ends any subscription on the first End frame; automesh only an agent's).
 *
 * The subscription starts when `subscribe` is called, not at the first `next()`, so a message published right after
 * the call is not missed.
 */
import type { Bus, BusMessage, BusSubscription } from '../bus.js';
import { MeshError } from './mesh-error.js';
import { MessageQueue } from './message-queue.js';
import { agentNameProblem, decodeBody, HEADER, subjects } from './wire.js';

export type SubscribeTarget = { agent: string } | { channel: string } | { subject: string };

export interface SubscribeOptions {
  /** Ends the subscription (the iteration finishes; no error). */
  signal?: AbortSignal;
  /** Fails with `timeout` when nothing arrives for this long (default: wait for ever). */
  idleTimeoutMs?: number;
}

/** A live subscription: iterate it; `stop()` ends the iteration (also `break` out of `for await`). */
export interface MeshSubscription extends AsyncIterableIterator<unknown> {
  readonly subject: string;
  /** Resolves once the subscription has reached the broker: what others publish after that is received. */
  readonly ready: Promise<void>;
  stop(): void;
}

/** The subject a target listens on; a name or channel that is no subject token is refused (`invalid_definition`). */
export function subjectOf(target: SubscribeTarget): string {
  if ('agent' in target) return subjects.events(checkedToken(target.agent, 'agent'));
  if ('channel' in target) return subjects.channel(checkedToken(target.channel, 'channel'));
  if ('subject' in target && typeof target.subject === 'string' && target.subject.trim() !== '') return target.subject;
  throw new MeshError(
    'invalid_definition',
    'subscribe() needs exactly one of { agent: "name" }, { channel: "prefix" } or { subject: "mesh.some.subject" }.',
  );
}

function checkedToken(name: string, what: 'agent' | 'channel'): string {
  const problem = agentNameProblem(name);
  if (problem !== null) {
    throw new MeshError('invalid_definition', `Cannot subscribe to ${what} "${String(name)}": ${problem}.`, {
      agent: typeof name === 'string' ? name : '',
    });
  }
  return name;
}

const STOPPED = Symbol('stopped');

/** Subscribes at once and returns the iterator over the decoded message bodies. */
export function subscribeMessages(bus: Bus, target: SubscribeTarget, options: SubscribeOptions = {}): MeshSubscription {
  const subject = subjectOf(target);
  const endsOnEndFrame = 'agent' in target;
  const queue = new MessageQueue<BusMessage>();
  let idle: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    if (options.idleTimeoutMs === undefined) return;
    clearTimeout(idle);
    idle = setTimeout(
      () => queue.fail(new MeshError('timeout', `No message on ${subject} within ${options.idleTimeoutMs} ms`)),
      options.idleTimeoutMs,
    );
  };
  const subscription: BusSubscription = bus.subscribe(subject, (message) => {
    armIdle();
    queue.push(message);
  });
  armIdle();
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(idle);
    subscription.unsubscribe();
    options.signal?.removeEventListener('abort', stop);
    queue.fail(STOPPED);
  };
  const stop = (): void => finish();
  if (options.signal?.aborted) finish();
  else options.signal?.addEventListener('abort', stop, { once: true });

  const done = (): IteratorResult<unknown> => ({ done: true, value: undefined });
  const ready = readiness(bus);
  const iterator: MeshSubscription = {
    subject,
    ready,
    stop,
    async next(): Promise<IteratorResult<unknown>> {
      for (;;) {
        if (finished) return done();
        let message: BusMessage;
        try {
          message = await queue.next();
        } catch (err) {
          finish();
          if (err === STOPPED) return done();
          throw err;
        }
        const isEnd = message.headers[HEADER.streamEnd] === 'true';
        if (message.headers[HEADER.status] === 'error' && message.data.length > 0) {
          finish();
          throw MeshError.fromEnvelope(decodeBody(message.data, message.subject), { agent: '', requestId: '' });
        }
        if (message.data.length > 0) {
          const value = decodeEvent(message);
          if (isEnd && endsOnEndFrame) finish();
          return { done: false, value };
        }
        if (isEnd && endsOnEndFrame) {
          finish();
          return done();
        }
      }
    },
    async return(): Promise<IteratorResult<unknown>> {
      finish();
      return done();
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** `bus.flush()`, marked handled so nobody has to await it; whoever does still sees a failure. */
export function readiness(bus: Bus): Promise<void> {
  const flushed = bus.flush();
  flushed.catch(() => undefined);
  return flushed;
}

/**
 * A message body as its sender meant it: OAM main's `mesh.publish` says so in `X-Mesh-Content-Type` (text, bytes or
 * JSON); without it the body is JSON, as every other OAM message. A body that is not JSON is given as its text.
 */
export function decodeEvent(message: BusMessage): unknown {
  const contentType = message.headers[HEADER.contentType];
  if (contentType === 'application/octet-stream') return new Uint8Array(message.data); // a plain copy, whatever the bus hands over
  const text = Buffer.from(message.data).toString('utf8');
  if (contentType === 'text/plain') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
