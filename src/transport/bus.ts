/**
 * The bus contract: what the mesh needs from a message broker, in NATS's own terms (subjects with `*`/`>`
 * wildcards, queue groups, request/reply with no-responders, headers, key-value buckets with revisions, object
 * stores). Two backends implement it: the in-process bus (`memory/`, one process, nothing to install) and NATS
 * (`nats/`). Everything OpenAgentMesh-specific (subjects, headers, catalog, errors) is written once on top of this
 * contract in `oam/`, so both transports share one behaviour, errors and catalog included, and one test suite.
 */
import type { BusError } from './bus-errors.js';
import type { WorkQueue, WorkQueueOptions } from './work-queue.js';

/** Header names are exact-case: OpenAgentMesh's Python peers look them up case-sensitively. Single-valued. */
export type BusHeaders = Record<string, string>;

/**
 * A body to send: bytes, or text that goes as its UTF-8 bytes. Text lets a JSON body go straight into the NATS frame
 * (no intermediate buffer, no second copy); what a subscriber receives is always bytes.
 */
export type BusBody = Uint8Array | string;

export interface BusMessage {
  readonly subject: string;
  /** Where an answer goes; absent for fire-and-forget publishes and stream requests. */
  readonly reply?: string;
  readonly headers: BusHeaders;
  /** The body; empty for "no payload". */
  readonly data: Uint8Array;
}

export interface PublishOptions {
  reply?: string;
  headers?: BusHeaders;
}

export interface RequestOptions {
  headers?: BusHeaders;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group (OAM: `q.{name}`). */
  queue?: string;
}

/**
 * Called once per message, in arrival order for one subscription. It must not block: a handler that has real
 * work to do starts it and returns, so one slow handler never holds up the others.
 */
export type BusHandler = (message: BusMessage) => void;

export interface BusSubscription {
  readonly subject: string;
  /** Stops delivery at once; messages already handed over are not recalled. Idempotent. */
  unsubscribe(): void;
}

export type ConnectionEvent =
  | { type: 'disconnected'; location: string }
  | { type: 'reconnected'; location: string }
  /** The connection is gone for good (closed by us, or reconnecting gave up); `error` says why when it failed. */
  | { type: 'closed'; location: string; error?: BusError };

export interface Bus {
  readonly kind: 'in-process' | 'nats';
  /** Where the bus is (`in-process`, `nats://127.0.0.1:4222`), for messages; never with credentials. */
  readonly location: string;
  /** The largest body (headers included) one message may carry; a larger one is refused with `payload_too_large`. */
  readonly maxPayload: number;

  /** Sends one message. Throws `payload_too_large`, `invalid_subject` or `closed` synchronously. */
  publish(subject: string, data: BusBody, options?: PublishOptions): void;
  /**
   * Sends a request and resolves with the first reply. Rejects with `no_responders` when nobody subscribes to the
   * subject, `timeout` after `timeoutMs`, `cancelled` when `signal` aborts.
   */
  request(subject: string, data: BusBody, options: RequestOptions): Promise<BusMessage>;
  subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): BusSubscription;
  /** Resolves once everything published so far has reached the server (in-process: at once). */
  flush(): Promise<void>;

  /** Opens a key-value bucket, creating it with `options` when it does not exist (an existing one is kept as is). */
  kv(bucket: string, options?: KvBucketOptions): Promise<KvBucket>;
  /** Opens an object store, creating it when it does not exist. */
  objectStore(bucket: string): Promise<ObjectBucket>;
  /**
   * Opens work queue `name` (letters, digits, `_`, `-`), creating it when it does not exist (`work-queue.ts`).
   * `options` are this connection's: its takers' ack wait and deliveries.
   */
  workQueue(name: string, options: WorkQueueOptions): Promise<WorkQueue>;

  /** Connection changes (a broker restart: `disconnected`, then `reconnected`). Returns the unsubscribe. */
  onConnection(listener: (event: ConnectionEvent) => void): () => void;
  /** Drains subscriptions and closes. Idempotent. */
  close(): Promise<void>;
}

export interface KvBucketOptions {
  /** Revisions kept per key (OAM's buckets: 1). */
  history?: number;
  /** Entries older than this are removed by the server; absent: kept forever (OAM's buckets). */
  ttlMs?: number;
}

export interface KvEntry {
  readonly bucket: string;
  readonly key: string;
  /** Empty for a delete or purge marker. */
  readonly value: Uint8Array;
  /** The stream sequence of this write: what `update` compares against. */
  readonly revision: number;
  readonly operation: 'PUT' | 'DEL' | 'PURGE';
  readonly created: Date;
}

export interface KvWatchOptions {
  /** A key or a pattern with `*` / `>` (default `>`: every key). */
  key?: string;
  /** Start with each matching key's current value (OAM's catalog watch: last value per subject). Default true. */
  initialValues?: boolean;
}

/** A live watch: iterate for entries as they change; `stop()` ends the iteration. */
export interface KvWatch extends AsyncIterable<KvEntry> {
  stop(): void;
}

export interface KvBucket {
  readonly name: string;
  /** The current entry, or null when the key is missing or deleted. */
  get(key: string): Promise<KvEntry | null>;
  /** Writes unconditionally; resolves with the new revision. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** Writes only when the key is missing or deleted; rejects with `kv_key_exists` otherwise. */
  create(key: string, value: Uint8Array): Promise<number>;
  /** Writes only when the key's revision is still `revision`; rejects with `kv_conflict` otherwise. */
  update(key: string, value: Uint8Array, revision: number): Promise<number>;
  /** Leaves a delete marker (`KV-Operation: DEL`), as OAM's `registry.delete`. */
  delete(key: string): Promise<void>;
  /** Keys with a current value, optionally only those starting with `prefix`. */
  keys(prefix?: string): Promise<string[]>;
  watch(options?: KvWatchOptions): Promise<KvWatch>;
}

export interface ObjectInfo {
  readonly name: string;
  readonly size: number;
  readonly modified: Date;
}

export interface ObjectBucket {
  readonly name: string;
  put(name: string, data: Uint8Array): Promise<ObjectInfo>;
  /** The object's bytes, or null when there is none. */
  get(name: string): Promise<Uint8Array | null>;
  /** True when something was deleted. */
  delete(name: string): Promise<boolean>;
  list(): Promise<ObjectInfo[]>;
}
