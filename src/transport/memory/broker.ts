/**
 * The in-process broker: what nats-server is to NATS clients, inside one process. It routes messages between the
 * subscriptions of every in-process bus connected to it and keeps their key-value buckets, object stores and work queues. One
 * process-wide broker is shared by default (two `Mesh`es in one process find each other); tests make their own.
 */
import type { BusHandler, BusHeaders, BusMessage } from '../bus.js';
import { runHandler } from '../deliver.js';
import type { KvBucketState } from './kv.js';
import { subjectMatches } from './match.js';
import type { StoredObject } from './objects.js';
import type { WorkQueueState } from './work-queue.js';

/** nats-server's default `max_payload`: 1 MiB. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** One subscription: messages wait in `pending` and are handed over in order, never inside `publish()`. */
export class BrokerSubscription {
  private readonly pending: BusMessage[] = [];
  private scheduled = false;
  closed = false;

  constructor(
    readonly subject: string,
    readonly queue: string | undefined,
    private readonly handler: BusHandler,
  ) {}

  deliver(message: BusMessage): void {
    this.pending.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0);
    for (const message of batch) {
      if (this.closed) return;
      runHandler(this.handler, message);
    }
  }
}

export interface RoutedMessage {
  subject: string;
  reply?: string;
  headers?: BusHeaders;
  data: Uint8Array;
}

export class InProcessBroker {
  readonly maxPayload: number;
  private readonly subscriptions = new Set<BrokerSubscription>();
  /** Next member per queue group, so a group's messages are spread evenly over its members. */
  private readonly groupTurns = new Map<string, number>();
  readonly kvBuckets = new Map<string, KvBucketState>();
  readonly objectBuckets = new Map<string, Map<string, StoredObject>>();
  readonly workQueues = new Map<string, WorkQueueState>();

  constructor(options: { maxPayload?: number } = {}) {
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  }

  add(subscription: BrokerSubscription): void {
    this.subscriptions.add(subscription);
  }

  remove(subscription: BrokerSubscription): void {
    subscription.closed = true;
    this.subscriptions.delete(subscription);
  }

  /**
   * Hands a message to every plain subscriber of its subject and to one member of each queue group; returns how
   * many subscriptions got it (0: nobody listens, a request's `no_responders`).
   */
  route(message: RoutedMessage): number {
    const groups = new Map<string, BrokerSubscription[]>();
    let receivers = 0;
    for (const subscription of this.subscriptions) {
      if (!subjectMatches(subscription.subject, message.subject)) continue;
      if (subscription.queue === undefined) {
        subscription.deliver(copyOf(message));
        receivers++;
      } else {
        const members = groups.get(subscription.queue) ?? [];
        members.push(subscription);
        groups.set(subscription.queue, members);
      }
    }
    for (const [queue, members] of groups) {
      const turn = this.groupTurns.get(queue) ?? 0;
      this.groupTurns.set(queue, turn + 1);
      members[turn % members.length]?.deliver(copyOf(message));
      receivers++;
    }
    return receivers;
  }
}

/** Each receiver gets its own bytes (a plain Uint8Array, whatever was sent) and headers, as each NATS client decodes its own copy. */
function copyOf(message: RoutedMessage): BusMessage {
  return {
    subject: message.subject,
    ...(message.reply === undefined ? {} : { reply: message.reply }),
    headers: { ...message.headers },
    data: new Uint8Array(message.data),
  };
}

const SHARED = Symbol.for('automesh.transport.in-process-broker');

/**
 * The process-wide broker (the embedded default transport). Kept on `globalThis` under a registry symbol so two
 * copies of this module in one process (a bundled CLI and a library import) still share it.
 */
export function sharedBroker(): InProcessBroker {
  const holder = globalThis as typeof globalThis & { [SHARED]?: InProcessBroker };
  holder[SHARED] ??= new InProcessBroker();
  return holder[SHARED];
}
