/**
 * The in-process bus: one connection to an {@link InProcessBroker}, with the NATS bus's semantics (subjects and
 * wildcards, queue groups, request/reply with no-responders, headers exact-case, `max_payload`, KV, object store,
 * work queues)
 * and nothing to install. Closing a connection ends its own subscriptions; the broker and its buckets stay, as a
 * NATS server's do when one client leaves.
 */
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
import { noResponders } from '../failures.js';
import { assertBucketName } from '../names.js';
import { bodyBytes } from '../pooled-bytes.js';
import { raceRequest } from '../request-race.js';
import type { WorkQueue, WorkQueueOptions } from '../work-queue.js';
import { assertWorkQueueOptions } from '../work-queue-rules.js';
import { BrokerSubscription, type InProcessBroker, sharedBroker } from './broker.js';
import { InProcessKvBucket, newKvBucketState } from './kv.js';
import { InProcessObjectBucket } from './objects.js';
import { InProcessWorkQueue, WorkQueueState } from './work-queue.js';

const LOCATION = 'in-process';

let inboxCounter = 0;

export class InProcessBus extends BusBase implements Bus {
  readonly kind = 'in-process' as const;
  readonly location = LOCATION;
  private readonly subscriptions = new Set<BrokerSubscription>();
  /** Work-queue takers and exhaustion listeners of this connection: closing halts them, as a dropped client's. */
  private readonly takers = new Set<{ halt(): void }>();
  private closed = false;

  constructor(private readonly broker: InProcessBroker) {
    super();
  }

  get maxPayload(): number {
    return this.broker.maxPayload;
  }

  publish(subject: string, body: BusBody, options: PublishOptions = {}): void {
    const data = bodyBytes(body);
    this.checkMessage(subject, data.length, options.headers, options.reply);
    this.broker.route({ subject, data, ...options });
  }

  request(subject: string, body: BusBody, options: RequestOptions): Promise<BusMessage> {
    const data = bodyBytes(body);
    try {
      this.checkMessage(subject, data.length, options.headers);
    } catch (error) {
      return Promise.reject(error);
    }
    return raceRequest(subject, options, LOCATION, this.inFlight, (settle) => {
      const inbox = `_INBOX.${process.pid}.${++inboxCounter}`;
      const listener = this.listen(inbox, (reply) => settle.reply(reply), undefined);
      const receivers = this.broker.route({ subject, reply: inbox, data, headers: options.headers });
      if (receivers === 0) settle.fail(noResponders(subject, LOCATION));
      return () => this.drop(listener);
    });
  }

  subscribe(subject: string, handler: BusHandler, options: SubscribeOptions = {}): BusSubscription {
    this.checkSubscription(subject, options.queue);
    const subscription = this.listen(subject, handler, options.queue);
    return { subject, unsubscribe: () => this.drop(subscription) };
  }

  async flush(): Promise<void> {
    this.ensureOpen();
  }

  async kv(bucket: string, options: KvBucketOptions = {}): Promise<KvBucket> {
    this.ensureOpen();
    assertBucketName(bucket);
    let state = this.broker.kvBuckets.get(bucket);
    if (!state) {
      state = newKvBucketState(bucket, options);
      this.broker.kvBuckets.set(bucket, state);
    }
    return new InProcessKvBucket(state, () => this.ensureOpen());
  }

  async objectStore(bucket: string): Promise<ObjectBucket> {
    this.ensureOpen();
    assertBucketName(bucket);
    let objects = this.broker.objectBuckets.get(bucket);
    if (!objects) {
      objects = new Map();
      this.broker.objectBuckets.set(bucket, objects);
    }
    return new InProcessObjectBucket(bucket, objects, () => this.ensureOpen());
  }

  async workQueue(name: string, options: WorkQueueOptions): Promise<WorkQueue> {
    this.ensureOpen();
    assertWorkQueueOptions(name, options);
    let state = this.broker.workQueues.get(name);
    if (!state) {
      state = new WorkQueueState(name);
      this.broker.workQueues.set(name, state);
    }
    return new InProcessWorkQueue(
      state,
      { ackWaitMs: options.ackWaitMs, maxDeliver: options.maxDeliver },
      {
        location: LOCATION,
        maxPayload: this.maxPayload,
        ensureOpen: () => this.ensureOpen(),
        track: (taker) => {
          this.takers.add(taker);
          return () => this.takers.delete(taker);
        },
      },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const subscription of this.subscriptions) this.broker.remove(subscription);
    this.subscriptions.clear();
    for (const taker of this.takers) taker.halt();
    this.takers.clear();
    this.failInFlight();
    this.emit({ type: 'closed', location: LOCATION });
  }

  private listen(subject: string, handler: BusHandler, queue: string | undefined): BrokerSubscription {
    const subscription = new BrokerSubscription(subject, queue, handler);
    this.subscriptions.add(subscription);
    this.broker.add(subscription);
    return subscription;
  }

  private drop(subscription: BrokerSubscription): void {
    this.subscriptions.delete(subscription);
    this.broker.remove(subscription);
  }

  protected isClosed(): boolean {
    return this.closed;
  }
}

/** A new connection to `broker`, by default the process-wide one (the embedded default transport). */
export function connectInProcess(broker: InProcessBroker = sharedBroker()): Bus {
  return new InProcessBus(broker);
}
