/**
 * What both work-queue backends check and do the same way: queue and take options, topics (any non-empty string,
 * encoded into one subject token, so a role with dots or spaces is still one topic), the checks of a job before it is
 * enqueued (id, headers, size), and how a handler runs (a rejecting handler is a bug: its job is handed back at once
 * and its error raised again, never swallowed).
 */
import type { BusHeaders } from './bus.js';
import { BusError, isBusError } from './bus-errors.js';
import { assertBucketName, assertHeaders, assertPayloadSize } from './names.js';
import type { EnqueueOptions, Job, JobHandler, TakeOptions, WorkQueueOptions } from './work-queue.js';

/** How long an enqueue id is remembered for deduplication (JetStream's default `duplicate_window`). */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/** The header that carries a job's id (JetStream's deduplication header). */
export const JOB_ID_HEADER = 'Nats-Msg-Id';

/** Longest encoded topic: it names a durable consumer, which the server keeps as a directory. */
const MAX_TOPIC_TOKEN = 128;

function positiveInteger(value: unknown, what: string, hint: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${what} must be a whole number of at least 1, got ${String(value)}; ${hint}.`);
  }
}

export function assertWorkQueueOptions(name: string, options: WorkQueueOptions): void {
  assertBucketName(name);
  positiveInteger(options?.ackWaitMs, `Work queue ${name}: ackWaitMs`, 'it is how long a job may go unacknowledged');
  positiveInteger(options?.maxDeliver, `Work queue ${name}: maxDeliver`, 'it is how many deliveries a job gets');
}

export function assertTakeOptions(topic: string, options: TakeOptions): void {
  positiveInteger(
    options?.concurrency,
    `take(${JSON.stringify(topic)}): concurrency`,
    'it is how many jobs run at once',
  );
}

const PLAIN = /[A-Za-z0-9-]/;

/**
 * The topic as one subject token and durable-consumer name: letters, digits and `-` as they are, every other
 * character as `_` and its UTF-8 bytes in hex (`researcher.web` → `researcher_2eweb`). `_` is always an escape, so
 * two topics never share a token.
 */
export function topicToken(topic: string): string {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new BusError('invalid_subject', `Topic ${JSON.stringify(topic)} is not valid: it is empty; name a role.`);
  }
  let token = '';
  for (const char of topic) {
    if (PLAIN.test(char)) token += char;
    else for (const byte of Buffer.from(char, 'utf8')) token += `_${byte.toString(16).padStart(2, '0')}`;
  }
  if (token.length > MAX_TOPIC_TOKEN) {
    throw new BusError(
      'invalid_subject',
      `Topic ${JSON.stringify(topic.slice(0, 40))}… is too long (${token.length} characters encoded, at most ${MAX_TOPIC_TOKEN}); use a shorter role name.`,
    );
  }
  return token;
}

/** The subject a job of `topic` is stored under in queue `queue`: `$WQ.<queue>.jobs.<token>`. */
export function jobSubject(queue: string, topic: string): string {
  return `$WQ.${queue}.jobs.${topicToken(topic)}`;
}

/**
 * Checks a job before it goes anywhere and returns the headers it is sent with (the caller's and its id). Refuses
 * an empty id, headers JetStream would read as its own (`Nats-*`), and a job over `maxPayload` with its headers.
 */
export function checkJob(
  queue: string,
  topic: string,
  data: Uint8Array,
  options: EnqueueOptions,
  maxPayload: number,
  location: string,
): BusHeaders {
  const subject = jobSubject(queue, topic);
  const id = options?.id;
  if (typeof id !== 'string' || id.length === 0 || /[\r\n]/.test(id)) {
    throw new TypeError(
      `enqueue to ${queue}/${topic}: id must be a non-empty string without line breaks (it deduplicates the job), got ${JSON.stringify(id)}.`,
    );
  }
  assertHeaders(options.headers);
  for (const name of Object.keys(options.headers ?? {})) {
    if (/^nats-/i.test(name)) {
      throw new TypeError(
        `enqueue to ${queue}/${topic}: header ${name} is reserved (JetStream reads Nats-* headers); give the id as options.id and rename the header.`,
      );
    }
  }
  const headers = { ...options.headers, [JOB_ID_HEADER]: id };
  assertPayloadSize(subject, data.length, headers, maxPayload, location);
  return headers;
}

/** The headers a worker sees: the enqueuer's, without the id header (that is `job.id`). */
export function jobHeaders(headers: BusHeaders): BusHeaders {
  const { [JOB_ID_HEADER]: _id, ...rest } = headers;
  return rest;
}

/**
 * Runs a handler on one delivery. A handler that rejects has a bug: its job is handed back for another delivery at
 * once (`nak`, a no-op when the handler had ended the delivery already) and the error is raised again outside the
 * queue, as an uncaught exception, as the bus does with a throwing subscription handler.
 */
export async function runJobHandler(handler: JobHandler, job: Job): Promise<void> {
  try {
    await handler(job);
  } catch (error) {
    raise(error);
    try {
      job.nak();
    } catch (nakError) {
      // A closed bus: the job goes to another worker after ackWaitMs all the same. Anything else is raised too.
      if (!isBusError(nakError, 'closed')) raise(nakError);
    }
  }
}

function raise(error: unknown): void {
  process.nextTick(() => {
    throw error;
  });
}
