/**
 * The work-queue contract: durable jobs taken by competing workers, at least once (JetStream's work-queue stream
 * with one durable pull consumer per topic, in NATS's terms). Distributed workflows dispatch their steps through
 * it: a job stays in the queue until a worker acknowledges it, a worker that dies (stops sending `working()`) has
 * its job delivered again to another worker after `ackWaitMs`, and a job delivered `maxDeliver` times without an
 * acknowledgement is given up and reported through `onExhausted`. Two backends implement it, and one suite
 * (`test/transport/work-queue-conformance.ts`) checks both: the in-process queue (`memory/work-queue.ts`) and
 * JetStream (`nats/work-queue.ts`).
 */
import type { BusHeaders } from './bus.js';

export interface WorkQueueOptions {
  /** How long a delivered job may go without `ack()` or `working()` before it is delivered again. */
  ackWaitMs: number;
  /** Deliveries before a job is given up (then `onExhausted` fires and the job leaves the queue). */
  maxDeliver: number;
}

export interface EnqueueOptions {
  /**
   * Deduplication id (JetStream's `Nats-Msg-Id`): a second enqueue with the same id within the queue's duplicate
   * window adds nothing and resolves with the first job's sequence and `duplicate: true`.
   */
  id: string;
  headers?: BusHeaders;
}

export interface Enqueued {
  /** The job's sequence in the queue: what {@link WorkQueue.pending} takes. */
  seq: number;
  duplicate: boolean;
}

/** One delivery of a job to a worker. Exactly one of `ack`, `nak` or `term` ends it; later calls do nothing. */
export interface Job {
  readonly topic: string;
  readonly id: string;
  readonly seq: number;
  readonly data: Uint8Array;
  readonly headers: BusHeaders;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  /** Done: the job leaves the queue. */
  ack(): Promise<void>;
  /** Not done here: deliver it again (to any worker) after `delayMs` (default at once). */
  nak(delayMs?: number): void;
  /** Give it up for good: the job leaves the queue and is not delivered again. */
  term(): void;
  /** Still working: resets the ack timer, so a long job is not mistaken for a dead worker's. */
  working(): void;
}

/** A worker's handler: resolve when done with the job (having called `ack`, `nak` or `term`). */
export type JobHandler = (job: Job) => Promise<void>;

export interface TakeOptions {
  /** Jobs this worker holds at once. */
  concurrency: number;
}

/** A worker taking jobs of one topic. */
export interface JobTaker {
  readonly topic: string;
  /** Takes no more jobs; resolves once the handlers of jobs already taken have ended. Idempotent. */
  stop(): Promise<void>;
}

/** A job given up after `maxDeliver` deliveries. */
export interface ExhaustedJob {
  topic: string;
  seq: number;
  deliveries: number;
}

export interface WorkQueue {
  readonly name: string;
  /** Adds a job for `topic` (e.g. an agent's role). Rejects with `payload_too_large` for a job over the bus limit. */
  enqueue(topic: string, data: Uint8Array, options: EnqueueOptions): Promise<Enqueued>;
  /**
   * Takes jobs of `topic`, shared with every other taker of the topic (in any process): each job goes to one of
   * them at a time. Creates the topic's durable consumer when it does not exist.
   */
  take(topic: string, handler: JobHandler, options: TakeOptions): Promise<JobTaker>;
  /** Whether a job is still in the queue (not yet acknowledged, terminated or given up). */
  pending(seq: number): Promise<boolean>;
  /** Whether any worker has ever taken jobs of `topic` here (its durable consumer exists). */
  hasTakers(topic: string): Promise<boolean>;
  /** Called for each job given up after `maxDeliver` deliveries (any worker's). Returns the unsubscribe. */
  onExhausted(listener: (job: ExhaustedJob) => void): () => void;
}
