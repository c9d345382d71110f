/**
 * The work queue on JetStream: one stream per queue (`WQ_<name>`, work-queue retention, file storage, subjects
 * `$WQ.<name>.jobs.<topic token>`, a two-minute duplicate window for `Nats-Msg-Id`) and one durable pull consumer per
 * topic (explicit acks, `ack_wait` = `ackWaitMs`), shared by every taker of the topic in any process.
 *
 * Each taker slot keeps one pull request for one job waiting at the server and sends the next only when its handler
 * is done, so a busy worker never holds a job an idle one could run, and a job reaches an idle worker as soon as the
 * server stores it. (One `consume()` for a taker of concurrency N asks for more as it hands jobs over, not as
 * handlers finish, so jobs would wait in its buffer behind N running handlers, their ack wait running out there.)
 *
 * Giving up: the server keeps a message that reached the consumer's `max_deliver` in a work-queue stream for ever,
 * and its advisory is lost when nobody listens at that moment. So the consumer delivers without limit and the
 * takers enforce `maxDeliver`: the delivery after the last one (which the server makes once that one's ack wait ran
 * out or it was nak'ed, also when its worker was SIGKILLed) is not run but deleted from the stream and reported on
 * `$WQ.<name>.exhausted`, which `onExhausted` listens to. A taker killed before it deleted it leaves the message to
 * be delivered once more to another, so a given-up job always leaves the stream while any taker of its topic runs.
 */
import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { type NatsConnection, nanos, type Subscription } from '@nats-io/transport-node';
import type { BusHeaders } from '../bus.js';
import { BusError, isBusError } from '../bus-errors.js';
import { busClosed } from '../failures.js';
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
  JOB_ID_HEADER,
  jobHeaders,
  jobSubject,
  runJobHandler,
  topicToken,
} from '../work-queue-rules.js';
import { plainBytes } from './bytes.js';
import { type ErrorContext, isApiError, operationError } from './errors.js';
import { fromNatsHeaders, toNatsHeaders } from './headers.js';

const CONSUMER_NOT_FOUND = 10014;
const NO_MESSAGE_FOUND = 10057;
const STREAM_NAME_IN_USE = 10058;
const STREAM_NOT_FOUND = 10059;

/** How long one pull request waits at the server before it is renewed (the client's default). */
const PULL_EXPIRES_MS = 30_000;
/** Pauses between attempts after a failed pull (a server restarting, a consumer being made again). */
const RETRY_MS = [50, 100, 250, 500, 1_000, 2_000];
/** Failed pulls in a row after which a taker says so on stderr (a restart takes a few). */
const WARN_AFTER_FAILURES = 5;

/** What the queue needs from the NATS bus it was opened on. */
export interface NatsQueueConnection {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly js: JetStreamClient;
  readonly context: ErrorContext;
  readonly maxPayload: number;
  ensureOpen(): void;
  isClosed(): boolean;
}

/** Opens queue `name`, creating its stream when there is none (an existing stream is used as it is). */
export async function openWorkQueue(
  connection: NatsQueueConnection,
  name: string,
  options: WorkQueueOptions,
): Promise<WorkQueue> {
  const queue = new NatsWorkQueue(connection, name, { ackWaitMs: options.ackWaitMs, maxDeliver: options.maxDeliver });
  await queue.ensureStream();
  return queue;
}

class NatsWorkQueue implements WorkQueue {
  readonly stream: string;
  private allowDirect = true;
  private readonly exhaustedListeners = new Set<(job: ExhaustedJob) => void>();
  private notices: Subscription | null = null;

  constructor(
    readonly connection: NatsQueueConnection,
    readonly name: string,
    readonly options: WorkQueueOptions,
  ) {
    this.stream = `WQ_${name}`;
  }

  get noticeSubject(): string {
    return `$WQ.${this.name}.exhausted`;
  }

  async ensureStream(): Promise<void> {
    const { jsm } = this.connection;
    try {
      this.allowDirect = (await jsm.streams.info(this.stream)).config.allow_direct ?? false;
      return;
    } catch (error) {
      if (!isApiError(error, STREAM_NOT_FOUND)) throw error;
    }
    try {
      await jsm.streams.add({
        name: this.stream,
        subjects: [`$WQ.${this.name}.jobs.*`],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        max_msg_size: -1,
        allow_direct: true,
        num_replicas: 1,
      });
      this.allowDirect = true;
    } catch (error) {
      // Made by another process in between, maybe with another config: theirs is used as it is.
      if (!isApiError(error, STREAM_NAME_IN_USE)) throw error;
      this.allowDirect = (await jsm.streams.info(this.stream)).config.allow_direct ?? false;
    }
  }

  /** The topic's durable consumer, made when missing; an existing one gets this queue's ack wait. */
  async ensureConsumer(token: string): Promise<Consumer> {
    const { jsm, js } = this.connection;
    const ackWait = nanos(this.options.ackWaitMs);
    try {
      const info = await jsm.consumers.info(this.stream, token);
      if (info.config.ack_wait !== ackWait) await jsm.consumers.update(this.stream, token, { ack_wait: ackWait });
    } catch (error) {
      if (isApiError(error, STREAM_NOT_FOUND)) await this.ensureStream();
      else if (!isApiError(error, CONSUMER_NOT_FOUND)) throw error;
      await jsm.consumers.add(this.stream, {
        durable_name: token,
        filter_subject: `$WQ.${this.name}.jobs.${token}`,
        ack_policy: AckPolicy.Explicit,
        ack_wait: ackWait,
        // Unlimited: the takers enforce maxDeliver (see the top of this file).
        max_deliver: -1,
        deliver_policy: DeliverPolicy.All,
      });
    }
    return js.consumers.get(this.stream, token);
  }

  async enqueue(topic: string, data: Uint8Array, options: EnqueueOptions): Promise<Enqueued> {
    this.connection.ensureOpen();
    const { maxPayload, context } = this.connection;
    const headers = toNatsHeaders(checkJob(this.name, topic, data, options, maxPayload, context.location));
    const subject = jobSubject(this.name, topic);
    const body = new Uint8Array(data);
    return this.run(`Enqueueing a job for ${topic} in work queue ${this.name}`, async () => {
      const publish = () => this.connection.js.publish(subject, body, headers ? { headers } : {});
      let ack: Awaited<ReturnType<typeof publish>>;
      try {
        ack = await publish();
      } catch (error) {
        // No stream takes the subject: it was deleted, or the server lost its store. Made again, then sent once more.
        if ((error as Error)?.name !== 'JetStreamNotEnabled') throw error;
        await this.ensureStream();
        ack = await publish();
      }
      return { seq: ack.seq, duplicate: ack.duplicate };
    });
  }

  async take(topic: string, handler: JobHandler, options: TakeOptions): Promise<JobTaker> {
    this.connection.ensureOpen();
    const token = topicToken(topic);
    assertTakeOptions(topic, options);
    if (typeof handler !== 'function')
      throw new TypeError(`take(${JSON.stringify(topic)}): handler must be a function.`);
    const consumer = await this.run(`Taking jobs of ${topic} from work queue ${this.name}`, () =>
      this.ensureConsumer(token),
    );
    return new NatsTaker(this, topic, token, consumer, handler, options.concurrency);
  }

  async pending(seq: number): Promise<boolean> {
    this.connection.ensureOpen();
    if (!Number.isInteger(seq) || seq < 1) {
      throw new RangeError(`pending(${String(seq)}): a job's sequence is a whole number of at least 1 (from enqueue).`);
    }
    return this.run(`Looking up job ${seq} in work queue ${this.name}`, async () => {
      try {
        return await this.stored(seq);
      } catch (error) {
        if (!isNoResponders(error)) throw error;
        // Nobody answers for the stream: it is gone (a server that lost its store), and its jobs with it.
        await this.ensureStream();
        return this.stored(seq);
      }
    });
  }

  private async stored(seq: number): Promise<boolean> {
    const { jsm } = this.connection;
    if (this.allowDirect) return (await jsm.direct.getMessage(this.stream, { seq })) !== null;
    try {
      await jsm.streams.getMessage(this.stream, { seq });
      return true;
    } catch (error) {
      if (isApiError(error, NO_MESSAGE_FOUND)) return false;
      throw error;
    }
  }

  async hasTakers(topic: string): Promise<boolean> {
    this.connection.ensureOpen();
    const token = topicToken(topic);
    return this.run(`Looking up the takers of ${topic} in work queue ${this.name}`, async () => {
      try {
        await this.connection.jsm.consumers.info(this.stream, token);
        return true;
      } catch (error) {
        if (isApiError(error, CONSUMER_NOT_FOUND, STREAM_NOT_FOUND)) return false;
        throw error;
      }
    });
  }

  onExhausted(listener: (job: ExhaustedJob) => void): () => void {
    this.connection.ensureOpen();
    this.exhaustedListeners.add(listener);
    this.notices ??= this.connection.nc.subscribe(this.noticeSubject, {
      callback: (error, message) => {
        if (error) warn(operationError(error, `Listening for given-up jobs of ${this.name}`, this.connection.context));
        else this.notify(message.data);
      },
    });
    return () => {
      this.exhaustedListeners.delete(listener);
      if (this.exhaustedListeners.size > 0 || !this.notices) return;
      if (!this.notices.isClosed() && !this.connection.nc.isClosed()) this.notices.unsubscribe();
      this.notices = null;
    };
  }

  private notify(data: Uint8Array): void {
    const job = parseNotice(data);
    if (!job) {
      warn(new Error(`A message on ${this.noticeSubject} is not a given-up job notice; it was ignored.`));
      return;
    }
    for (const listener of [...this.exhaustedListeners]) {
      try {
        listener({ ...job });
      } catch (error) {
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }

  /**
   * Gives up a job delivered past its last delivery: deletes it from the stream, then reports it. Deleting first
   * makes one report per job: a second taker finds nothing to delete (and so does one whose job an earlier, late
   * delivery acknowledged in between: done, not given up).
   */
  async giveUp(message: JsMsg, topic: string): Promise<void> {
    const what = `Giving up job ${message.seq} of ${topic} in work queue ${this.name}`;
    let deleted: boolean;
    try {
      deleted = await this.connection.jsm.streams.deleteMessage(this.stream, message.seq, false);
    } catch (error) {
      if (isApiError(error, NO_MESSAGE_FOUND)) {
        message.term();
        return;
      }
      // It stays in the queue and comes back after its ack wait, when giving up is tried again.
      warn(queueFailure(error, what, this.connection.context));
      return;
    }
    message.term();
    if (!deleted) return;
    const notice: ExhaustedJob = { topic, seq: message.seq, deliveries: message.info.deliveryCount - 1 };
    try {
      this.connection.nc.publish(this.noticeSubject, new TextEncoder().encode(JSON.stringify(notice)));
    } catch (error) {
      warn(queueFailure(error, `${what}: reporting it`, this.connection.context));
    }
  }

  run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return operation().catch((error: unknown) => {
      throw queueFailure(error, what, this.connection.context);
    });
  }
}

/** One taker: `concurrency` slots, each with one pull request of one job waiting while it is free. */
class NatsTaker implements JobTaker {
  private stopped = false;
  private readonly pulls = new Set<ConsumerMessages>();
  private readonly slots: Promise<void>[] = [];
  private stopping: Promise<void> | null = null;
  private failures = 0;
  /** Ends a pause between failed pulls early (on stop). */
  private wake = (): void => undefined;

  constructor(
    private readonly queue: NatsWorkQueue,
    readonly topic: string,
    private readonly token: string,
    private consumer: Consumer,
    private readonly handler: JobHandler,
    concurrency: number,
  ) {
    for (let i = 0; i < concurrency; i++) this.slots.push(this.slot());
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.wake();
      for (const pull of this.pulls) pull.stop();
      await Promise.all(this.slots);
    })();
    return this.stopping;
  }

  private get done(): boolean {
    return this.stopped || this.queue.connection.isClosed();
  }

  private async slot(): Promise<void> {
    while (!this.done) {
      let message: JsMsg | null;
      try {
        message = await this.next();
        this.failures = 0;
      } catch (error) {
        if (this.done) return;
        await this.recover(error);
        continue;
      }
      if (!message) continue;
      try {
        await this.handle(message);
      } catch (error) {
        // A give-up or hand-back cut by the connection closing; a handler's own errors are raised by runJobHandler.
        if (!this.queue.connection.isClosed()) {
          warn(queueFailure(error, `Job ${message.seq} of ${this.topic}`, this.queue.connection.context));
        }
      }
    }
  }

  private async next(): Promise<JsMsg | null> {
    const pull = await this.consumer.fetch({ max_messages: 1, expires: PULL_EXPIRES_MS });
    this.pulls.add(pull);
    try {
      if (this.stopped) pull.stop();
      for await (const message of pull) return message;
      return null;
    } finally {
      this.pulls.delete(pull);
    }
  }

  private async handle(message: JsMsg): Promise<void> {
    if (this.done) {
      // Taken as the taker stopped: handed back at once rather than after its ack wait.
      if (!this.queue.connection.isClosed()) message.nak();
      return;
    }
    if (message.info.deliveryCount > this.queue.options.maxDeliver) {
      await this.queue.giveUp(message, this.topic);
      return;
    }
    await runJobHandler(this.handler, new NatsJob(message, this.topic, this.queue.connection));
  }

  /** After a failed pull: makes the consumer (or the stream) again when it is gone, waits a little, says so if it goes on. */
  private async recover(error: unknown): Promise<void> {
    this.failures++;
    const what = `Taking jobs of ${this.topic} from work queue ${this.queue.name}`;
    if (this.failures >= WARN_AFTER_FAILURES && this.failures % WARN_AFTER_FAILURES === 0) {
      warn(
        queueFailure(
          error,
          `${what} (failed ${this.failures} times in a row, still trying)`,
          this.queue.connection.context,
        ),
      );
    }
    await this.pause(RETRY_MS[Math.min(this.failures - 1, RETRY_MS.length - 1)] as number);
    if (this.done || !isMissing(error)) return;
    try {
      this.consumer = await this.queue.ensureConsumer(this.token);
    } catch (ensureError) {
      if (!this.done)
        warn(queueFailure(ensureError, `${what}: making its consumer again`, this.queue.connection.context));
    }
  }

  /** Waits `ms`, or less when the taker stops. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** One delivery of a JetStream message as a job. */
class NatsJob implements Job {
  readonly id: string;
  readonly seq: number;
  readonly data: Uint8Array;
  readonly headers: BusHeaders;
  readonly deliveryCount: number;
  private ended = false;

  constructor(
    private readonly message: JsMsg,
    readonly topic: string,
    private readonly connection: NatsQueueConnection,
  ) {
    const headers = fromNatsHeaders(message.headers);
    this.id = headers[JOB_ID_HEADER] ?? '';
    this.headers = jobHeaders(headers);
    this.seq = message.seq;
    this.data = plainBytes(message.data);
    this.deliveryCount = message.info.deliveryCount;
  }

  async ack(): Promise<void> {
    if (this.ended) return;
    this.connection.ensureOpen();
    this.ended = true;
    try {
      // Acknowledged by the server before this resolves: the job has left the queue (pending() is false).
      await this.message.ackAck();
    } catch (error) {
      // Closed under the ack (the ack went nowhere): the job is delivered again after its ack wait.
      if (this.connection.isClosed()) throw busClosed(this.connection.context.location);
      throw queueFailure(error, `Acknowledging job ${this.seq} of ${this.topic}`, this.connection.context);
    }
  }

  nak(delayMs = 0): void {
    this.end('Handing back', () => this.message.nak(delayMs > 0 ? delayMs : undefined));
  }

  term(): void {
    this.end('Terminating', () => this.message.term());
  }

  working(): void {
    if (this.ended) return;
    this.connection.ensureOpen();
    this.send('Reporting progress on', () => this.message.working());
  }

  private end(what: string, action: () => void): void {
    if (this.ended) return;
    this.connection.ensureOpen();
    this.ended = true;
    this.send(what, action);
  }

  private send(what: string, action: () => void): void {
    try {
      action();
    } catch (error) {
      if (this.connection.isClosed()) throw busClosed(this.connection.context.location);
      throw queueFailure(error, `${what} job ${this.seq} of ${this.topic}`, this.connection.context);
    }
  }
}

function parseNotice(data: Uint8Array): ExhaustedJob | null {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as Partial<ExhaustedJob>;
    const { topic, seq, deliveries } = value;
    if (typeof topic !== 'string' || !Number.isInteger(seq) || !Number.isInteger(deliveries)) return null;
    return { topic, seq: seq as number, deliveries: deliveries as number };
  } catch {
    return null;
  }
}

/** A JetStream call's failure as a bus error: a request nobody answered in time is `timeout`. */
function queueFailure(error: unknown, what: string, context: ErrorContext): unknown {
  if (isBusError(error)) return error;
  if ((error as Error)?.name === 'TimeoutError') {
    return new BusError(
      'timeout',
      `${what}: JetStream at ${context.location} did not answer in time (restarting, or overloaded); retry.`,
      { cause: error },
    );
  }
  return operationError(error, what, context);
}

function isNoResponders(error: unknown): boolean {
  const err = error as { name?: string; isNoResponders?: () => boolean; cause?: { name?: string } };
  return (
    err?.name === 'NoRespondersError'
    || err?.cause?.name === 'NoRespondersError'
    || (typeof err?.isNoResponders === 'function' && err.isNoResponders())
  );
}

/** A pull that failed because the consumer or its stream is gone (deleted, or a server that lost its store). */
function isMissing(error: unknown): boolean {
  if (isApiError(error, CONSUMER_NOT_FOUND, STREAM_NOT_FOUND)) return true;
  return /consumer (not found|deleted)|stream not found/i.test(String((error as Error)?.message));
}

/** What a taker cannot tell a caller goes to stderr as a process warning, never nowhere. */
function warn(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.emitWarning(message, { code: 'AUTOMESH_WORK_QUEUE' });
}
