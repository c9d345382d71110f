/**
 * The NATS bus, on `@nats-io/transport-node` 3.x: the same contract as the in-process bus over a real server.
 * It reconnects forever after a broker restart (subscriptions are restored by the client), reports
 * `disconnected` / `reconnected`, checks every message against the server's `max_payload` before sending (the
 * client would otherwise fail deep inside, or the server drop the connection), and keeps header names exact-case.
 * Key-value buckets, object stores and work queues live in JetStream.
 */
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type {
  Bus,
  BusBody,
  BusHandler,
  BusMessage,
  BusSubscription,
  KvBucket,
  KvBucketOptions,
  ObjectBucket,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
} from '../bus.js';
import { BusBase } from '../bus-base.js';
import type { BusError } from '../bus-errors.js';
import { runHandler } from '../deliver.js';
import { noResponders } from '../failures.js';
import { assertBucketName } from '../names.js';
import { bodyLength } from '../pooled-bytes.js';
import { raceRequest } from '../request-race.js';
import type { WorkQueue, WorkQueueOptions } from '../work-queue.js';
import { assertWorkQueueOptions } from '../work-queue-rules.js';
import { messageBody } from './bytes.js';
import { type ConnectPlan, connectPlan, type NatsConnectSettings } from './connect-options.js';
import { connectError, type ErrorContext, operationError } from './errors.js';
import { publishFrame } from './frame.js';
import { messageHeaders } from './headers.js';
import { openKvBucket } from './kv.js';
import { muxRequest } from './mux-request.js';
import { NatsObjectBucket } from './objects.js';
import { openWorkQueue } from './work-queue.js';

export interface NatsBusOptions {
  settings: NatsConnectSettings;
  /** The client name the server shows (the mesh: `oam-host-{instanceId}`, which OAM's monitor matches). */
  name?: string;
  /** How long the first connect may take (default 5 s). */
  connectTimeoutMs?: number;
  /** Pause between reconnect attempts (default 0.5 s); attempts never stop. */
  reconnectWaitMs?: number;
}

/** Connects to the NATS server(s) of `NATS_URL`; fails with `connection_failed` / `connection_denied` saying why. */
export async function connectNats(options: NatsBusOptions): Promise<Bus> {
  const plan = connectPlan(options.settings, options);
  let nc: NatsConnection;
  try {
    nc = await connect(plan.options);
  } catch (error) {
    throw connectError(error, plan);
  }
  return new NatsBus(nc, plan);
}

class NatsBus extends BusBase implements Bus {
  readonly kind = 'nats' as const;
  readonly location: string;
  private readonly context: ErrorContext;
  private jsm: Promise<JetStreamManager> | null = null;
  private js: JetStreamClient | null = null;
  private closing = false;

  constructor(
    private readonly nc: NatsConnection,
    plan: ConnectPlan,
  ) {
    super();
    this.location = plan.location;
    this.context = plan;
    void this.watchStatus();
    void this.nc
      .closed()
      .then((error) => this.emit({ type: 'closed', location: this.location, ...this.closedError(error ?? undefined) }));
  }

  /** The limit of the server we are connected to now (a reconnect may land on another one). */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  publish(subject: string, body: BusBody, options: PublishOptions = {}): void {
    const size = bodyLength(body);
    this.checkMessage(subject, size, options.headers, options.reply);
    try {
      // The frame holds a copy of `body`: the client writes it later, and the caller may reuse `body` at once.
      publishFrame(this.nc, subject, body, size, options.reply, options.headers);
    } catch (error) {
      throw operationError(error, `Publishing to ${subject}`, this.context);
    }
  }

  request(subject: string, body: BusBody, options: RequestOptions): Promise<BusMessage> {
    const size = bodyLength(body);
    try {
      this.checkMessage(subject, size, options.headers);
    } catch (error) {
      return Promise.reject(error);
    }
    return raceRequest(subject, options, this.location, this.inFlight, (settle) => {
      try {
        return muxRequest(this.nc, subject, body, size, options.headers, (error, reply) => {
          if (reply) settle.reply(toBusMessage(reply));
          else settle.fail(this.requestError(error, subject));
        });
      } catch (error) {
        settle.fail(this.requestError(error, subject));
        return () => undefined;
      }
    });
  }

  subscribe(subject: string, handler: BusHandler, options: SubscribeOptions = {}): BusSubscription {
    this.checkSubscription(subject, options.queue);
    let subscription: Subscription;
    try {
      subscription = this.nc.subscribe(subject, {
        ...(options.queue ? { queue: options.queue } : {}),
        callback: (error, message) => {
          if (error) this.reportSubscriptionError(error, subject);
          else runHandler(handler, toBusMessage(message));
        },
      });
    } catch (error) {
      throw operationError(error, `Subscribing to ${subject}`, this.context);
    }
    return {
      subject,
      unsubscribe: () => {
        if (!subscription.isClosed() && !this.nc.isClosed()) subscription.unsubscribe();
      },
    };
  }

  async flush(): Promise<void> {
    this.ensureOpen();
    try {
      await this.nc.flush();
    } catch (error) {
      throw operationError(error, 'Flushing', this.context);
    }
  }

  async kv(bucket: string, options: KvBucketOptions = {}): Promise<KvBucket> {
    this.ensureOpen();
    assertBucketName(bucket);
    try {
      return await openKvBucket(this.nc, await this.manager(), bucket, options, this.context, () => this.ensureOpen());
    } catch (error) {
      throw operationError(error, `Opening key-value bucket ${bucket}`, this.context);
    }
  }

  async objectStore(bucket: string): Promise<ObjectBucket> {
    this.ensureOpen();
    assertBucketName(bucket);
    try {
      await this.manager();
      const store = await new Objm(this.nc).create(bucket);
      return new NatsObjectBucket(bucket, store, this.context, () => this.ensureOpen());
    } catch (error) {
      throw operationError(error, `Opening object store ${bucket}`, this.context);
    }
  }

  async workQueue(name: string, options: WorkQueueOptions): Promise<WorkQueue> {
    this.ensureOpen();
    assertWorkQueueOptions(name, options);
    try {
      const jsm = await this.manager();
      this.js ??= jetstream(this.nc);
      const bus = this;
      return await openWorkQueue(
        {
          nc: this.nc,
          jsm,
          js: this.js,
          context: this.context,
          get maxPayload() {
            return bus.maxPayload;
          },
          ensureOpen: () => this.ensureOpen(),
          isClosed: () => this.isClosed(),
        },
        name,
        options,
      );
    } catch (error) {
      throw operationError(error, `Opening work queue ${name}`, this.context);
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.failInFlight();
    if (this.nc.isClosed()) return;
    try {
      await this.nc.drain();
    } catch {
      // Draining needs the server; while it is away, closing at once is all that is left to do.
      await this.nc.close();
    }
  }

  private manager(): Promise<JetStreamManager> {
    this.jsm ??= jetstreamManager(this.nc).catch((error: unknown) => {
      this.jsm = null;
      throw error;
    });
    return this.jsm;
  }

  protected isClosed(): boolean {
    return this.closing || this.nc.isClosed();
  }

  /** The muxer's error for a request (the bus's own timer, not the client's, times requests out). */
  private requestError(error: unknown, subject: string): unknown {
    // The client's NoRespondersError is named "NoResponders".
    if ((error as { name?: string })?.name === 'NoResponders') return noResponders(subject, this.location);
    return operationError(error, `Request to ${subject}`, this.context);
  }

  /** A subscription the server refused (permissions): said on stderr, as the contract has no caller to tell. */
  private reportSubscriptionError(error: Error, subject: string): void {
    const mapped = operationError(error, `Subscription to ${subject}`, this.context);
    process.emitWarning(mapped instanceof Error ? mapped.message : String(mapped), { code: 'AUTOMESH_BUS' });
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.emit({ type: 'disconnected', location: this.location });
      else if (status.type === 'reconnect') this.emit({ type: 'reconnected', location: this.location });
    }
  }

  private closedError(error: Error | undefined): { error?: BusError } {
    return error ? { error: connectError(error, this.context) } : {};
  }
}

function toBusMessage(message: Msg): BusMessage {
  const headers = messageHeaders(message);
  const data = messageBody(message);
  const { subject, reply } = message;
  return reply ? { subject, reply, headers, data } : { subject, headers, data };
}
