/**
 * Work queues of the in-process broker, with the semantics of the JetStream queue (`nats/work-queue.ts`): one
 * sequence per queue, competing takers per topic (each job to one taker at a time, spread in turn), redelivery
 * `ackWaitMs` after a delivery that got no `ack`/`working`, `nak` with a delay, `term`, a job given up (removed and
 * reported) when it would be delivered a `maxDeliver + 1`-th time, ids remembered for two minutes. The queue's state
 * lives on the broker, so every bus connected to it sees the same jobs; a closed bus only stops its own takers.
 */
import type { BusHeaders } from '../bus.js';
import type {
  Enqueued,
  EnqueueOptions,
  ExhaustedJob,
  Job,
  JobHandler,
  JobTaker,
  TakeOptions,
  WorkQueue,
  WorkQueueOptions,
} from '../work-queue.js';
import {
  assertTakeOptions,
  checkJob,
  DUPLICATE_WINDOW_MS,
  jobHeaders,
  runJobHandler,
  topicToken,
} from '../work-queue-rules.js';

interface StoredJob {
  readonly seq: number;
  readonly topic: string;
  readonly id: string;
  readonly data: Uint8Array;
  readonly headers: BusHeaders;
  deliveries: number;
  /** The delivery that holds the job now (0: none; it waits in `ready` or for a nak's delay). */
  holder: number;
  /** The ack timer of the current delivery, or a nak's delay. */
  timer: NodeJS.Timeout | undefined;
}

interface TopicState {
  ackWaitMs: number;
  maxDeliver: number;
  /** Sequences waiting for a taker, redeliveries first (as the server sends them first). */
  readonly ready: number[];
  readonly takers: InProcessTaker[];
  turn: number;
  scheduled: boolean;
}

/** One queue on the broker: what a JetStream work-queue stream and its consumers hold on the server. */
export class WorkQueueState {
  sequence = 0;
  deliveries = 0;
  readonly jobs = new Map<number, StoredJob>();
  /** Ids enqueued within the duplicate window, oldest first, with the job they made. */
  readonly ids = new Map<string, { seq: number; at: number }>();
  readonly topics = new Map<string, TopicState>();
  readonly exhaustedListeners = new Set<(job: ExhaustedJob) => void>();

  constructor(readonly name: string) {}

  enqueue(topic: string, data: Uint8Array, id: string, headers: BusHeaders): Enqueued {
    this.forgetOldIds();
    const known = this.ids.get(id);
    if (known) return { seq: known.seq, duplicate: true };
    const seq = ++this.sequence;
    this.ids.set(id, { seq, at: Date.now() });
    this.jobs.set(seq, {
      seq,
      topic,
      id,
      data: new Uint8Array(data),
      headers: { ...headers },
      deliveries: 0,
      holder: 0,
      timer: undefined,
    });
    const state = this.topics.get(topic);
    if (state) {
      state.ready.push(seq);
      this.schedule(state);
    }
    return { seq, duplicate: false };
  }

  /** The topic's consumer, made by its first taker; later takers set its ack wait and deliveries, as an update. */
  consumer(topic: string, options: WorkQueueOptions): TopicState {
    let state = this.topics.get(topic);
    if (!state) {
      // A new durable consumer starts with every job of its topic already in the queue.
      const ready = [...this.jobs.values()].filter((job) => job.topic === topic).map((job) => job.seq);
      state = { ackWaitMs: 0, maxDeliver: 0, ready, takers: [], turn: 0, scheduled: false };
      this.topics.set(topic, state);
    }
    state.ackWaitMs = options.ackWaitMs;
    state.maxDeliver = options.maxDeliver;
    return state;
  }

  schedule(state: TopicState): void {
    if (state.scheduled) return;
    state.scheduled = true;
    // Never inside the call that made the job ready: a handler runs on its own turn of the event loop.
    setImmediate(() => {
      state.scheduled = false;
      this.dispatch(state);
    });
  }

  /** Hands ready jobs to takers with a free slot, in turn; a job past its last delivery is given up instead. */
  private dispatch(state: TopicState): void {
    while (state.ready.length > 0) {
      const taker = this.freeTaker(state);
      if (!taker) return;
      const seq = state.ready.shift() as number;
      const job = this.jobs.get(seq);
      // Gone (acknowledged late), or held: nothing to hand over.
      if (job === undefined || job.holder !== 0 || job.timer !== undefined) continue;
      if (job.deliveries >= state.maxDeliver) {
        this.giveUp(job);
        continue;
      }
      job.deliveries++;
      job.holder = ++this.deliveries;
      this.startAckTimer(job, state);
      taker.run(this.deliveryOf(job, job.holder, state));
    }
  }

  private freeTaker(state: TopicState): InProcessTaker | undefined {
    for (let i = 0; i < state.takers.length; i++) {
      const taker = state.takers[(state.turn + i) % state.takers.length] as InProcessTaker;
      if (taker.hasRoom()) {
        state.turn = (state.turn + i + 1) % state.takers.length;
        return taker;
      }
    }
    return undefined;
  }

  private startAckTimer(job: StoredJob, state: TopicState): void {
    clearTimeout(job.timer);
    const holder = job.holder;
    job.timer = setTimeout(() => {
      if (this.jobs.get(job.seq) !== job || job.holder !== holder) return;
      // No ack and no sign of work in time: the worker is taken for dead, and the job goes to the next one.
      job.timer = undefined;
      this.makeReady(job, state);
    }, state.ackWaitMs);
  }

  private makeReady(job: StoredJob, state: TopicState): void {
    job.holder = 0;
    state.ready.unshift(job.seq);
    this.schedule(state);
  }

  private giveUp(job: StoredJob): void {
    this.remove(job);
    const exhausted: ExhaustedJob = { topic: job.topic, seq: job.seq, deliveries: job.deliveries };
    for (const listener of [...this.exhaustedListeners]) {
      try {
        listener({ ...exhausted });
      } catch (error) {
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }

  private remove(job: StoredJob): void {
    clearTimeout(job.timer);
    job.timer = undefined;
    this.jobs.delete(job.seq);
  }

  private deliveryOf(job: StoredJob, holder: number, state: TopicState): InProcessDelivery {
    return {
      job,
      holder,
      // A late ack of an earlier delivery still completes the job, as on the server (acks name the stream sequence).
      ack: () => {
        if (this.jobs.get(job.seq) === job) this.remove(job);
      },
      nak: (delayMs) => {
        if (this.jobs.get(job.seq) !== job || job.holder !== holder) return;
        clearTimeout(job.timer);
        job.timer = undefined;
        if (delayMs > 0) {
          job.holder = 0;
          job.timer = setTimeout(() => {
            job.timer = undefined;
            if (this.jobs.get(job.seq) === job) this.makeReady(job, state);
          }, delayMs);
        } else {
          this.makeReady(job, state);
        }
      },
      term: () => {
        if (this.jobs.get(job.seq) === job) this.remove(job);
      },
      working: () => {
        if (this.jobs.get(job.seq) === job && job.holder === holder) this.startAckTimer(job, state);
      },
    };
  }

  private forgetOldIds(): void {
    const oldest = Date.now() - DUPLICATE_WINDOW_MS;
    for (const [id, entry] of this.ids) {
      if (entry.at > oldest) return;
      this.ids.delete(id);
    }
  }
}

/** What a delivery may do to its job on the broker. */
interface InProcessDelivery {
  readonly job: StoredJob;
  readonly holder: number;
  ack(): void;
  nak(delayMs: number): void;
  term(): void;
  working(): void;
}

/** One delivery as the worker sees it: the first of ack, nak, term ends it; every call checks the bus is open. */
class InProcessJob implements Job {
  readonly topic: string;
  readonly id: string;
  readonly seq: number;
  readonly data: Uint8Array;
  readonly headers: BusHeaders;
  readonly deliveryCount: number;
  private ended = false;

  constructor(
    private readonly delivery: InProcessDelivery,
    private readonly ensureOpen: () => void,
  ) {
    const { job } = delivery;
    this.topic = job.topic;
    this.id = job.id;
    this.seq = job.seq;
    this.data = new Uint8Array(job.data);
    this.headers = jobHeaders(job.headers);
    this.deliveryCount = job.deliveries;
  }

  async ack(): Promise<void> {
    this.end(() => this.delivery.ack());
  }

  nak(delayMs = 0): void {
    this.end(() => this.delivery.nak(delayMs));
  }

  term(): void {
    this.end(() => this.delivery.term());
  }

  working(): void {
    if (this.ended) return;
    this.ensureOpen();
    this.delivery.working();
  }

  private end(action: () => void): void {
    if (this.ended) return;
    this.ensureOpen();
    this.ended = true;
    action();
  }
}

class InProcessTaker implements JobTaker {
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    readonly topic: string,
    private readonly state: TopicState,
    private readonly queue: WorkQueueState,
    private readonly handler: JobHandler,
    private readonly concurrency: number,
    private readonly ensureOpen: () => void,
  ) {}

  hasRoom(): boolean {
    return !this.stopped && this.running.size < this.concurrency;
  }

  run(delivery: InProcessDelivery): void {
    const run = runJobHandler(this.handler, new InProcessJob(delivery, this.ensureOpen)).finally(() => {
      this.running.delete(run);
      // A freed slot may take the next job.
      this.queue.schedule(this.state);
    });
    this.running.add(run);
  }

  /** Takes no more jobs (also when its bus closes); jobs it holds are delivered again after their ack wait. */
  halt(): void {
    this.stopped = true;
    const index = this.state.takers.indexOf(this);
    if (index >= 0) this.state.takers.splice(index, 1);
  }

  async stop(): Promise<void> {
    this.halt();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

/** What the queue needs from the bus it was opened on. */
export interface InProcessConnection {
  readonly location: string;
  readonly maxPayload: number;
  ensureOpen(): void;
  /** Registers a taker to halt when the bus closes; returns the unregister. */
  track(taker: { halt(): void }): () => void;
}

/** A queue as one connection sees it. */
export class InProcessWorkQueue implements WorkQueue {
  constructor(
    private readonly state: WorkQueueState,
    private readonly options: WorkQueueOptions,
    private readonly connection: InProcessConnection,
  ) {}

  get name(): string {
    return this.state.name;
  }

  async enqueue(topic: string, data: Uint8Array, options: EnqueueOptions): Promise<Enqueued> {
    this.connection.ensureOpen();
    const headers = checkJob(this.name, topic, data, options, this.connection.maxPayload, this.connection.location);
    return this.state.enqueue(topic, data, options.id, headers);
  }

  async take(topic: string, handler: JobHandler, options: TakeOptions): Promise<JobTaker> {
    this.connection.ensureOpen();
    topicToken(topic);
    assertTakeOptions(topic, options);
    if (typeof handler !== 'function')
      throw new TypeError(`take(${JSON.stringify(topic)}): handler must be a function.`);
    const consumer = this.state.consumer(topic, this.options);
    const taker = new InProcessTaker(topic, consumer, this.state, handler, options.concurrency, () =>
      this.connection.ensureOpen(),
    );
    const untrack = this.connection.track(taker);
    consumer.takers.push(taker);
    this.state.schedule(consumer);
    return {
      topic,
      stop: async () => {
        untrack();
        await taker.stop();
      },
    };
  }

  async pending(seq: number): Promise<boolean> {
    this.connection.ensureOpen();
    return this.state.jobs.has(seq);
  }

  async hasTakers(topic: string): Promise<boolean> {
    this.connection.ensureOpen();
    topicToken(topic);
    return this.state.topics.has(topic);
  }

  onExhausted(listener: (job: ExhaustedJob) => void): () => void {
    this.connection.ensureOpen();
    const own = (job: ExhaustedJob): void => listener(job);
    this.state.exhaustedListeners.add(own);
    const untrack = this.connection.track({ halt: () => this.state.exhaustedListeners.delete(own) });
    return () => {
      untrack();
      this.state.exhaustedListeners.delete(own);
    };
  }
}
