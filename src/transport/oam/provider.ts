/**
 * Serving a function agent on any Bus, on OpenAgentMesh's wire (`oam-wire.md` §4–§8, OAM main's `_subscribe_agent`):
 *
 * - responders, triggers and streamers subscribe to `mesh.agent.{name}` in queue group `q.{name}`, so replicas in
 *   other processes (automesh or Python) share the requests;
 * - each request runs on its own, concurrently: a slow handler never holds up another request (nats-py runs one
 *   callback at a time per subscription; automesh does not);
 * - the `X-Mesh-Stream` flag must match the shape (`invocation_mismatch` otherwise, on the reply subject or as an
 *   error frame on the stream subject); the body is validated before the handler runs (`invalid_input`), the result
 *   after (`invalid_output`); a result too big for the server is a `payload_too_large` error reply, never a silent
 *   drop; a handler's throw is `handler_error` (a MeshError it throws keeps its code);
 * - every error envelope also goes to `mesh.errors.{name}`; a request with no reply subject (fire and forget) still
 *   runs, and its errors still go there;
 * - publishers run from the start, each event on `mesh.agent.{name}.events`, and send an End frame when they finish
 *   or stop; watchers run from the start as background tasks;
 * - `stop()` takes no new requests and waits for those in flight (up to the drain time, then aborts their signal).
 */
import { andThen, isThenable } from '../../core/maybe-async.js';
import { type AgentInfrastructure, notStartedInfrastructure } from '../../infra/agent-infra.js';
import { traceMeshServe } from '../../telemetry/mesh-spans.js';
import type { Bus, BusHeaders, BusMessage, BusSubscription } from '../bus.js';
import { isBusError } from '../bus-errors.js';
import { bodyLength } from '../pooled-bytes.js';
import { mismatchError } from './capability-check.js';
import {
  chunkHeaders,
  errorHeaders,
  eventErrorHeaders,
  eventHeaders,
  replyHeaders,
  statusErrorHeaders,
  streamErrorHeaders,
} from './frames.js';
import type { AgentContext, FunctionAgent } from './function-agent.js';
import { isMeshError, MeshError } from './mesh-error.js';
import {
  type MeshSubscription,
  readiness,
  type SubscribeOptions,
  type SubscribeTarget,
  subscribeMessages,
} from './subscription.js';
import { decodeBody, encodeBody, HEADER, queueGroup, subjects } from './wire.js';

export interface ServeOptions {
  /** Sent as `X-Mesh-Instance-Id` on every message (OAM main does; 0.2.0 sends none). */
  instanceId?: string;
  /** How long `stop()` waits for work in flight before aborting its signal (default 10 s). */
  drainTimeoutMs?: number;
  /**
   * Failures nobody else hears of: an answer that could not be sent (bus closed), a publisher or watcher that threw.
   * Default: a process warning.
   */
  onError?: (error: unknown) => void;
  /** The handler's `ctx.kv`, `ctx.blobs`, `ctx.mailbox` (a Mesh gives them; without, they throw saying so). */
  infrastructure?: AgentInfrastructure;
}

export interface ServedAgent {
  readonly agent: FunctionAgent;
  /**
   * Resolves once the agent's subscription has reached the broker (on NATS a subscription travels to the server
   * like a message; a request another process sends before that finds no responders). In-process: at once.
   */
  readonly ready: Promise<void>;
  /** Requests being handled now (publishers and watchers: 1 while they run). */
  readonly inFlight: number;
  /** Stops taking requests and waits for those in flight; a publisher sends its End frame. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_DRAIN_MS = 10_000;
const ABORT_GRACE_MS = 1_000;

/** Serves `agent` on `bus` according to its shape. */
export function serveAgent(bus: Bus, agent: FunctionAgent, options: ServeOptions = {}): ServedAgent {
  const settings = {
    instanceId: options.instanceId,
    drainTimeoutMs: options.drainTimeoutMs ?? DEFAULT_DRAIN_MS,
    onError: options.onError ?? warn,
    infrastructure: options.infrastructure ?? notStartedInfrastructure(`Agent "${agent.name}"`, 'ctx'),
  };
  if (agent.invocable) return serveRequests(bus, agent, settings);
  return agent.shape === 'publisher' ? runPublisher(bus, agent, settings) : runWatcher(bus, agent, settings);
}

interface Settings {
  instanceId: string | undefined;
  drainTimeoutMs: number;
  onError: (error: unknown) => void;
  infrastructure: AgentInfrastructure;
}

function warn(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)), { code: 'AUTOMESH_MESH' });
}

/** Where a context's signal comes from, asked when the handler first reads it. */
interface SignalSource {
  signal(): AbortSignal;
}

/**
 * A handler's context: a class, so its getters live on the prototype instead of being made again per request; its
 * signal is asked of `source` when read, so a request's AbortController is only made if its handler wants it.
 */
class HandlerContext implements AgentContext {
  // Private fields (not TypeScript's `private`), so the handler sees only the members AgentContext documents.
  readonly #bus: Bus;
  readonly #infra: AgentInfrastructure;
  readonly #source: SignalSource;

  constructor(
    bus: Bus,
    infra: AgentInfrastructure,
    readonly agent: string,
    readonly requestId: string,
    readonly headers: Readonly<Record<string, string>>,
    source: SignalSource,
  ) {
    this.#bus = bus;
    this.#infra = infra;
    this.#source = source;
  }

  get signal(): AbortSignal {
    return this.#source.signal();
  }

  subscribe(target: SubscribeTarget, subscribeOptions?: Omit<SubscribeOptions, 'signal'>): MeshSubscription {
    return subscribeMessages(this.#bus, target, { ...subscribeOptions, signal: this.signal });
  }

  // Getters: without a Mesh, reading one throws saying so (and building the context does not).
  get kv(): AgentInfrastructure['kv'] {
    return this.#infra.kv;
  }

  get blobs(): AgentInfrastructure['blobs'] {
    return this.#infra.blobs;
  }

  get mailbox(): AgentInfrastructure['mailbox'] {
    return this.#infra.mailbox;
  }
}

/**
 * The abort of one request, made when first needed: when its handler reads `ctx.signal`, or when `stop()` aborts
 * it. Most handlers never read the signal, and an AbortController per request was a twentieth of what serving cost.
 */
class LazyAbort implements SignalSource {
  #controller: AbortController | undefined;

  signal(): AbortSignal {
    return this.#controlled().signal;
  }

  abort(reason: unknown): void {
    this.#controlled().abort(reason);
  }

  #controlled(): AbortController {
    this.#controller ??= new AbortController();
    return this.#controller;
  }
}

// ── responders, triggers, streamers ────────────────────────────────────────────────────────────────────────────

/** What serving a request ended with: the error it was answered with, or null for a reply. */
type Served = MeshError | null;

/**
 * A request being served: its lazy abort, and, once its work goes asynchronous (an async handler, say), that work,
 * in `running` until it ends. A request served synchronously (a plain handler, sync schemas) is never tracked.
 */
class ServedRequest extends LazyAbort {
  done: Promise<void> = Promise.resolve();

  track(work: Promise<unknown>, running: Set<ServedRequest>, settings: Settings): void {
    running.add(this);
    this.done = work.then(
      () => {
        running.delete(this);
      },
      (error: unknown) => {
        running.delete(this);
        settings.onError(error);
      },
    );
  }
}

function serveRequests(bus: Bus, agent: FunctionAgent, settings: Settings): ServedAgent {
  const running = new Set<ServedRequest>();
  const onMessage = (message: BusMessage): void => {
    const request = new ServedRequest();
    let served: Served | Promise<Served>;
    try {
      served = traceMeshServe(agent.name, message.subject, message.headers, () =>
        handleRequest(bus, agent, settings, message, request),
      );
    } catch (error) {
      // The answer could not be sent (the bus closed, say): nobody else hears of it.
      settings.onError(error);
      return;
    }
    if (served instanceof Promise) request.track(served, running, settings);
  };
  const subscription: BusSubscription = bus.subscribe(subjects.agent(agent.name), onMessage, {
    queue: queueGroup(agent.name),
  });
  let stopping: Promise<void> | null = null;
  return {
    agent,
    ready: readiness(bus),
    get inFlight() {
      return running.size;
    },
    stop() {
      stopping ??= (async () => {
        subscription.unsubscribe();
        await drain(workOf(running), settings.drainTimeoutMs);
        if (running.size === 0) return;
        for (const request of running) request.abort(stopReason(agent));
        // A handler that honours its signal settles now; give it the time to tell its caller `cancelled`.
        await drain(workOf(running), Math.min(settings.drainTimeoutMs, ABORT_GRACE_MS));
      })();
      return stopping;
    },
  };
}

function workOf(running: Set<ServedRequest>): Promise<void>[] {
  return [...running].map((request) => request.done);
}

/**
 * Answers one request. Synchronous as long as everything in it is (input schema, handler, output schema), which
 * is the common case: a promise per step cost serving more than the handler (one served request: ~2.5 µs of CPU
 * less in-process). Once a step returns a promise, the rest follows it and the answer is a promise too. Throws
 * only when the answer itself could not be sent.
 */
function handleRequest(
  bus: Bus,
  agent: FunctionAgent,
  settings: Settings,
  message: BusMessage,
  abort: SignalSource,
): Served | Promise<Served> {
  const requestId = message.headers[HEADER.requestId] ?? '';
  const wantsStream = message.headers[HEADER.stream] === 'true';
  const answer = new Answer(bus, agent, settings, message, requestId, wantsStream);
  const fail = (err: unknown): MeshError => {
    const error = asMeshError(err, agent.name, requestId);
    answer.error(error);
    return error;
  };
  try {
    const mismatch = mismatchError(wantsStream ? 'stream' : 'call', agent.name, agent, requestId);
    if (mismatch) throw mismatch;
    if (wantsStream && !answer.streamable) {
      throw new MeshError(
        'invalid_input',
        `A stream request to agent '${agent.name}' needs an X-Mesh-Request-Id that is one subject token (32 hex characters), got ${JSON.stringify(requestId)}`,
        { agent: agent.name, requestId },
      );
    }
    const input = agent.takesInput ? agent.inputOf(requestBody(agent, message, requestId), requestId) : undefined;
    const handled = andThen(input, (value) => {
      const context = new HandlerContext(bus, settings.infrastructure, agent.name, requestId, message.headers, abort);
      return agent.shape === 'streamer'
        ? streamChunks(bus, agent, answer, value, context)
        : reply(agent, answer, value, context);
    });
    return isThenable(handled) ? Promise.resolve(handled).then(() => null, fail) : null;
  } catch (err) {
    return fail(err);
  }
}

/** The decoded body; a body that is not JSON is `invalid_input` with pydantic's `json_invalid`. */
function requestBody(agent: FunctionAgent, message: BusMessage, requestId: string): unknown {
  try {
    return decodeBody(message.data, message.subject);
  } catch (err) {
    throw new MeshError('invalid_input', `Input failed validation for agent '${agent.name}'`, {
      agent: agent.name,
      requestId,
      details: {
        errors: [
          {
            type: 'json_invalid',
            loc: [],
            msg: `Invalid JSON: ${(err as Error).message}`,
            input: Buffer.from(message.data).toString('utf8'),
          },
        ],
      },
    });
  }
}

/** Runs a responder's or trigger's handler and answers with its checked result; a promise only if a step is one. */
function reply(agent: FunctionAgent, answer: Answer, input: unknown, context: AgentContext): unknown {
  const result = agent.takesInput ? agent.handler(input, context) : agent.handler(context);
  return andThen(result, (value) => {
    if (isAsyncIterable(value)) {
      throw new MeshError(
        'handler_error',
        `Agent '${agent.name}' returned an async iterable; declare the handler \`async function*\` so it is served as a streamer`,
        { agent: agent.name, requestId: answer.requestId },
      );
    }
    return andThen(agent.outputOf(value, answer.requestId), (output) => {
      // OAM sends a `None` result as `{}`.
      answer.ok(output === undefined || output === null ? {} : output);
    });
  });
}

async function streamChunks(
  bus: Bus,
  agent: FunctionAgent,
  answer: Answer,
  input: unknown,
  context: AgentContext,
): Promise<void> {
  const chunks = (agent.handler(input, context) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let seq = 0;
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      const chunk = await agent.parseOutput(next.value, answer.requestId);
      // An empty frame would be dropped by every OAM caller and break the sequence after it.
      if (chunk === undefined) {
        throw new MeshError('handler_error', `Agent '${agent.name}' yielded undefined, which JSON cannot carry`, {
          agent: agent.name,
          requestId: answer.requestId,
        });
      }
      answer.chunk(seq, chunk);
      await bus.flush();
      seq += 1;
    }
  } catch (err) {
    await chunks.return?.().catch(() => undefined);
    throw err;
  }
  answer.end(seq);
  await bus.flush();
}

/** Where and how one request is answered. */
class Answer {
  constructor(
    private readonly bus: Bus,
    private readonly agent: FunctionAgent,
    private readonly settings: Settings,
    private readonly message: BusMessage,
    readonly requestId: string,
    private readonly wantsStream: boolean,
  ) {}

  /** Whether the request id can name a stream subject (`mesh.stream.{id}`): one subject token. */
  get streamable(): boolean {
    return /^[A-Za-z0-9_-]+$/.test(this.requestId);
  }

  ok(output: unknown): void {
    if (!this.message.reply) return; // fire and forget: nobody waits for the result
    this.send(
      this.message.reply,
      output,
      replyHeaders(this.agent.name, this.requestId, this.settings.instanceId),
      'result',
    );
  }

  chunk(seq: number, chunk: unknown): void {
    const headers = chunkHeaders(seq, false, this.requestId, this.settings.instanceId);
    this.send(subjects.stream(this.requestId), chunk, headers, 'chunk');
  }

  end(count: number): void {
    const headers = chunkHeaders(count, true, this.requestId, this.settings.instanceId);
    this.bus.publish(subjects.stream(this.requestId), new Uint8Array(0), { headers });
  }

  /** The envelope to whoever waits (reply subject or stream subject), and a copy to `mesh.errors.{name}`. */
  error(error: MeshError): void {
    const body = encodeBody(error.toEnvelope());
    const { instanceId } = this.settings;
    try {
      if (this.wantsStream && this.streamable) {
        this.bus.publish(subjects.stream(this.requestId), body, {
          headers: streamErrorHeaders(this.requestId, instanceId),
        });
      } else if (this.message.reply) {
        this.bus.publish(this.message.reply, body, { headers: errorHeaders(this.requestId, instanceId) });
      }
    } finally {
      this.bus.publish(subjects.errors(this.agent.name), body, { headers: errorHeaders(this.requestId, instanceId) });
    }
  }

  /** Publishes a JSON body; one over the server's max_payload becomes a `payload_too_large` MeshError. */
  private send(subject: string, value: unknown, headers: BusHeaders, what: 'result' | 'chunk'): void {
    const body = jsonBody(this.agent.name, value, this.requestId);
    try {
      this.bus.publish(subject, body, { headers });
    } catch (err) {
      if (!isBusError(err, 'payload_too_large')) throw err;
      const size = bodyLength(body);
      throw new MeshError(
        'payload_too_large',
        `Agent '${this.agent.name}' produced a ${what} of ${size} bytes, over the server's max_payload of `
          + `${this.bus.maxPayload} bytes: return less, or put large data in the workspace and return its name`,
        {
          agent: this.agent.name,
          requestId: this.requestId,
          details: { size, max_payload: this.bus.maxPayload },
        },
      );
    }
  }
}

function jsonBody(agent: string, value: unknown, requestId: string): string {
  try {
    return encodeBody(value);
  } catch (err) {
    throw new MeshError(
      'handler_error',
      `Agent '${agent}' produced a value that is not JSON: ${(err as Error).message}`,
      {
        agent,
        requestId,
      },
    );
  }
}

/** A handler's failure as the envelope reports it: a MeshError keeps its code; anything else is `handler_error`. */
function asMeshError(err: unknown, agent: string, requestId: string): MeshError {
  if (isMeshError(err)) {
    if (err.agent !== '' && err.requestId !== '') return err;
    return new MeshError(err.code, err.message, {
      agent: err.agent || agent,
      requestId: err.requestId || requestId,
      details: err.details,
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new MeshError('handler_error', message, { agent, requestId, cause: err });
}

function isAsyncIterable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

// ── publishers and watchers ────────────────────────────────────────────────────────────────────────────────────

function runPublisher(bus: Bus, agent: FunctionAgent, settings: Settings): ServedAgent {
  const subject = subjects.events(agent.name);
  const { instanceId } = settings;
  let seq = 0;
  let ended = false;
  const sendEnd = (): void => {
    if (ended) return;
    ended = true;
    bus.publish(subject, new Uint8Array(0), { headers: eventHeaders(seq, true, instanceId) });
  };
  let events: AsyncIterator<unknown> | undefined;
  return backgroundTask(
    bus,
    agent,
    settings,
    async (context, stopping) => {
      events = (agent.handler(context) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await events.next();
          if (next.done || stopping()) break;
          const event = await agent.parseOutput(next.value, '');
          const body = jsonBody(agent.name, event ?? null, '');
          bus.publish(subject, body, { headers: eventHeaders(seq, false, instanceId) });
          seq += 1;
        }
      } catch (err) {
        if (!stopping()) {
          ended = true;
          reportFailure(bus, agent, settings, err, subject);
          return;
        }
      }
      sendEnd(); // finished, or stopped (an abort the stop caused is no failure)
    },
    (stillRunning) => {
      if (stillRunning) void events?.return?.().catch(() => undefined);
      sendEnd();
    },
  );
}

function runWatcher(bus: Bus, agent: FunctionAgent, settings: Settings): ServedAgent {
  return backgroundTask(
    bus,
    agent,
    settings,
    async (context, stopping) => {
      try {
        await agent.handler(context);
      } catch (err) {
        if (!stopping()) reportFailure(bus, agent, settings, err);
      }
    },
    () => undefined,
  );
}

/**
 * A publisher's or watcher's one task, started now with its own context; `stop()` aborts the context's signal, waits
 * for the task (up to the drain time) and then calls `afterStop` with whether it is still running.
 */
function backgroundTask(
  bus: Bus,
  agent: FunctionAgent,
  settings: Settings,
  run: (context: AgentContext, stopping: () => boolean) => Promise<void>,
  afterStop: (stillRunning: boolean) => void,
): ServedAgent {
  const controller = new AbortController();
  let stopping = false;
  let running = true;
  const context = new HandlerContext(
    bus,
    settings.infrastructure,
    agent.name,
    '',
    {},
    {
      signal: () => controller.signal,
    },
  );
  const task = run(context, () => stopping)
    .catch(settings.onError)
    .finally(() => {
      running = false;
    });
  let stopped: Promise<void> | null = null;
  return {
    agent,
    ready: readiness(bus),
    get inFlight() {
      return running ? 1 : 0;
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        controller.abort(stopReason(agent));
        await drain([task], settings.drainTimeoutMs);
        afterStop(running);
      })();
      return stopped;
    },
  };
}

/** A background agent's failure: on its event subject (publishers, an End error frame), on `mesh.errors.{name}`. */
function reportFailure(bus: Bus, agent: FunctionAgent, settings: Settings, err: unknown, eventSubject?: string): void {
  const error = asMeshError(err, agent.name, '');
  const body = encodeBody(error.toEnvelope());
  if (eventSubject !== undefined) bus.publish(eventSubject, body, { headers: eventErrorHeaders(settings.instanceId) });
  bus.publish(subjects.errors(agent.name), body, { headers: statusErrorHeaders(settings.instanceId) });
  settings.onError(error);
}

function stopReason(agent: FunctionAgent): MeshError {
  return new MeshError('cancelled', `Agent '${agent.name}' is stopping`, { agent: agent.name });
}

/** Waits for `work` to settle, at most `timeoutMs`. */
async function drain(work: Promise<unknown>[], timeoutMs: number): Promise<void> {
  if (work.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(work),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
