/**
 * The work-queue conformance suite: what both queues (in-process, JetStream) must do, run by each backend's test file
 * with a harness that connects to one broker. Competing takers, redelivery after a silent worker, working(), nak and
 * term, giving up after maxDeliver, deduplication, takers, limits and bad input, stop(). Short ack waits keep it fast.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Bus } from '../../src/transport/bus.js';
import { type BusErrorCode, isBusError } from '../../src/transport/bus-errors.js';
import type { ExhaustedJob, Job, WorkQueue, WorkQueueOptions } from '../../src/transport/work-queue.js';

export interface WorkQueueHarness {
  /** A new connection to the suite's broker; every connection made here reaches the same broker. */
  connect(): Promise<Bus>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);
const text = (data: Uint8Array): string => decoder.decode(data);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A queue name no other test uses. */
const uniqueName = (): string => `wq-${randomUUID().replace(/-/g, '').slice(0, 12)}`;

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

async function rejectsWith(promise: Promise<unknown>, code: BusErrorCode, message?: RegExp): Promise<void> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected a ${code} error, but it succeeded`),
    (error: unknown) => {
      caught = error;
    },
  );
  assert.ok(isBusError(caught), `expected a BusError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  if (message) assert.match(caught.message, message);
}

/** A promise and its resolver, to hold a handler until the test lets it go. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

const FAST: WorkQueueOptions = { ackWaitMs: 400, maxDeliver: 5 };

export function workQueueConformance(name: string, harness: WorkQueueHarness): void {
  describe(`${name}: work-queue conformance`, () => {
    /** Runs `body` with `count` queues named alike on fresh connections, closed afterwards whatever happens. */
    async function withQueues(
      count: number,
      options: WorkQueueOptions,
      body: (...queues: WorkQueue[]) => Promise<void>,
    ): Promise<void> {
      const buses: Bus[] = [];
      const queueName = uniqueName();
      try {
        const queues: WorkQueue[] = [];
        for (let i = 0; i < count; i++) {
          const bus = await harness.connect();
          buses.push(bus);
          queues.push(await bus.workQueue(queueName, options));
        }
        await body(...queues);
      } finally {
        await Promise.all(buses.map((bus) => bus.close()));
      }
    }

    test('a job reaches a taker on another connection with its id, sequence, bytes and headers; ack removes it', () =>
      withQueues(2, FAST, async (producer, worker) => {
        assert.equal(producer.name, worker.name);
        const got: Job[] = [];
        await worker.take(
          'writer',
          async (job) => {
            await job.ack();
            got.push(job);
          },
          { concurrency: 1 },
        );
        const headers = { 'X-Workflow': 'wf-1', lower: 'v' };
        const sent = Buffer.from('{"step":"draft"}');
        const { seq, duplicate } = await producer.enqueue('writer', sent, { id: 'wf-1/draft', headers });
        sent.fill(0);
        assert.equal(duplicate, false);
        assert.ok(seq >= 1);
        await waitFor(() => got.length === 1, 'the job');
        const [job] = got as [Job];
        assert.deepEqual(
          { topic: job.topic, id: job.id, seq: job.seq, deliveryCount: job.deliveryCount, headers: job.headers },
          { topic: 'writer', id: 'wf-1/draft', seq, deliveryCount: 1, headers },
        );
        assert.equal(text(job.data), '{"step":"draft"}', 'the bytes as enqueued, not changed after');
        assert.equal(Object.getPrototypeOf(job.data), Uint8Array.prototype);
        assert.equal(await producer.pending(seq), false, 'acknowledged: gone from the queue once ack() resolved');
      }));

    test('competing takers on several connections share the jobs; each acknowledged job is handled once', () =>
      withQueues(3, FAST, async (producer, a, b) => {
        const handled = new Map<string, string[]>();
        const handler =
          (who: string) =>
          async (job: Job): Promise<void> => {
            handled.set(job.id, [...(handled.get(job.id) ?? []), who]);
            await sleep(5);
            await job.ack();
          };
        await a.take('researcher', handler('a'), { concurrency: 2 });
        await b.take('researcher', handler('b'), { concurrency: 2 });
        const total = 40;
        const sequences = await Promise.all(
          Array.from({ length: total }, (_, i) => producer.enqueue('researcher', bytes(String(i)), { id: `job-${i}` })),
        );
        assert.equal(new Set(sequences.map((s) => s.seq)).size, total, 'one sequence per job');
        await waitFor(() => handled.size === total, `${total} jobs handled`);
        await sleep(FAST.ackWaitMs + 200);
        for (const [id, takers] of handled) assert.equal(takers.length, 1, `${id} was handled by ${takers}`);
        const byTaker = [...handled.values()].flat();
        assert.ok(
          byTaker.includes('a') && byTaker.includes('b'),
          `both takers got jobs (a: ${byTaker.filter((t) => t === 'a').length}, b: ${byTaker.filter((t) => t === 'b').length})`,
        );
        for (const { seq } of sequences) assert.equal(await producer.pending(seq), false);
      }));

    test('a taker holds no more jobs than its concurrency: the others go to the idle taker', () =>
      withQueues(3, { ackWaitMs: 5_000, maxDeliver: 5 }, async (producer, busy, idle) => {
        const held = gate();
        const busyGot: string[] = [];
        const idleGot: string[] = [];
        const busyTaker = await busy.take(
          'coder',
          async (job) => {
            busyGot.push(job.id);
            await held.wait;
            await job.ack();
          },
          { concurrency: 1 },
        );
        await producer.enqueue('coder', bytes('first'), { id: 'first' });
        await waitFor(() => busyGot.length === 1, 'the busy taker to hold the first job');
        await idle.take(
          'coder',
          async (job) => {
            await job.ack();
            idleGot.push(job.id);
          },
          { concurrency: 1 },
        );
        for (const id of ['second', 'third', 'fourth']) await producer.enqueue('coder', bytes(id), { id });
        await waitFor(() => idleGot.length === 3, 'the idle taker to run the three other jobs');
        assert.deepEqual(busyGot, ['first']);
        held.open();
        await busyTaker.stop();
      }));

    test('jobs enqueued before any taker wait in the queue and are taken once one comes', () =>
      withQueues(2, FAST, async (producer, worker) => {
        const enqueued = [];
        for (let i = 0; i < 3; i++)
          enqueued.push(await producer.enqueue('late', bytes(String(i)), { id: `early-${i}` }));
        for (const { seq } of enqueued) assert.equal(await producer.pending(seq), true);
        const got: string[] = [];
        await worker.take(
          'late',
          async (job) => {
            await job.ack();
            got.push(text(job.data));
          },
          { concurrency: 1 },
        );
        await waitFor(() => got.length === 3, 'the three early jobs');
        assert.deepEqual(got, ['0', '1', '2'], 'in the order they were enqueued');
      }));

    test('a taker that stops heart-beating has its job delivered again to another taker after ackWaitMs', () =>
      withQueues(3, FAST, async (producer, silent, rescuer) => {
        const stuck = gate();
        const silentGot: Job[] = [];
        await silent.take(
          'analyst',
          async (job) => {
            silentGot.push(job);
            await stuck.wait;
          },
          { concurrency: 1 },
        );
        const { seq } = await producer.enqueue('analyst', bytes('work'), { id: 'stuck-job' });
        await waitFor(() => silentGot.length === 1, 'the first delivery');
        const firstAt = Date.now();
        const rescued: Array<{ job: Job; at: number }> = [];
        await rescuer.take(
          'analyst',
          async (job) => {
            const at = Date.now();
            await job.ack();
            rescued.push({ job, at });
          },
          { concurrency: 1 },
        );
        await waitFor(() => rescued.length === 1, 'the redelivery', 5_000);
        const [{ job, at }] = rescued as [{ job: Job; at: number }];
        assert.equal(job.seq, seq);
        assert.equal(job.id, 'stuck-job');
        assert.equal(job.deliveryCount, 2);
        assert.ok(at - firstAt >= FAST.ackWaitMs - 100, `redelivered after the ack wait (${at - firstAt} ms)`);
        assert.equal(await producer.pending(seq), false);
        // The first worker's late ack is harmless: the job is done already.
        stuck.open();
        await (silentGot[0] as Job).ack();
      }));

    test('working() keeps a long job from being delivered again; it is handled once', () =>
      withQueues(3, FAST, async (producer, worker, other) => {
        const deliveries: string[] = [];
        const long = async (job: Job): Promise<void> => {
          deliveries.push(`worker:${job.deliveryCount}`);
          for (let i = 0; i < 8; i++) {
            await sleep(FAST.ackWaitMs / 3);
            job.working();
          }
          await job.ack();
        };
        await worker.take('slow', long, { concurrency: 1 });
        const { seq } = await producer.enqueue('slow', bytes('long'), { id: 'long-job' });
        await waitFor(() => deliveries.length === 1, 'the delivery');
        await other.take(
          'slow',
          async (job) => {
            await job.ack();
            deliveries.push(`other:${job.deliveryCount}`);
          },
          { concurrency: 1 },
        );
        await waitFor(async () => !(await producer.pending(seq)), 'the long job to finish', 8_000);
        await sleep(FAST.ackWaitMs + 100);
        assert.deepEqual(deliveries, ['worker:1'], 'ran 2.7 ack waits long, delivered once');
      }));

    test('nak(delay) hands a job back: delivered again after the delay; a plain nak at once', () =>
      withQueues(2, FAST, async (producer, worker) => {
        const seen: Array<{ count: number; at: number }> = [];
        await worker.take(
          'retry',
          async (job) => {
            seen.push({ count: job.deliveryCount, at: Date.now() });
            if (job.deliveryCount === 1) job.nak(300);
            else if (job.deliveryCount === 2) job.nak();
            else await job.ack();
            job.nak(); // after the delivery ended: does nothing
          },
          { concurrency: 1 },
        );
        const { seq } = await producer.enqueue('retry', bytes('x'), { id: 'nak-job' });
        await waitFor(() => seen.length === 3, 'three deliveries');
        const [first, second, third] = seen as [(typeof seen)[0], (typeof seen)[0], (typeof seen)[0]];
        assert.deepEqual(
          seen.map((s) => s.count),
          [1, 2, 3],
        );
        assert.ok(second.at - first.at >= 250, `the nak's delay was kept (${second.at - first.at} ms)`);
        assert.ok(third.at - second.at < FAST.ackWaitMs, `a plain nak redelivers at once (${third.at - second.at} ms)`);
        await waitFor(async () => !(await producer.pending(seq)), 'the ack');
        await sleep(FAST.ackWaitMs + 100);
        assert.equal(seen.length, 3);
      }));

    test('term() gives a job up for good: it leaves the queue, is not delivered again, and is not reported exhausted', () =>
      withQueues(2, FAST, async (producer, worker) => {
        const exhausted: ExhaustedJob[] = [];
        producer.onExhausted((job) => exhausted.push(job));
        const seen: number[] = [];
        await worker.take(
          'doomed',
          async (job) => {
            seen.push(job.deliveryCount);
            job.term();
            await job.ack(); // after term: does nothing
          },
          { concurrency: 1 },
        );
        const { seq } = await producer.enqueue('doomed', bytes('x'), { id: 'term-job' });
        await waitFor(async () => !(await producer.pending(seq)), 'the job to leave the queue');
        await sleep(FAST.ackWaitMs + 200);
        assert.deepEqual(seen, [1]);
        assert.deepEqual(exhausted, []);
      }));

    test('after maxDeliver deliveries without an ack the job is given up: reported once to every listener, gone', () =>
      withQueues(3, { ackWaitMs: 300, maxDeliver: 3 }, async (producer, worker, watcher) => {
        const reported: ExhaustedJob[] = [];
        const watched: ExhaustedJob[] = [];
        const unheard: ExhaustedJob[] = [];
        producer.onExhausted((job) => reported.push(job));
        watcher.onExhausted((job) => watched.push(job));
        const stopListening = watcher.onExhausted((job) => unheard.push(job));
        stopListening();
        const counts: number[] = [];
        await worker.take(
          'flaky',
          async (job) => {
            counts.push(job.deliveryCount);
            // The first delivery fails fast (nak), the others as a dead worker would: no word at all.
            if (job.deliveryCount === 1) job.nak();
          },
          { concurrency: 3 },
        );
        const { seq } = await producer.enqueue('flaky', bytes('x'), { id: 'flaky-job' });
        const kept = await producer.enqueue('flaky', bytes('y'), { id: 'other-job' });
        await waitFor(() => reported.length === 2 && watched.length === 2, 'both jobs given up', 8_000);
        const bySeq = (a: ExhaustedJob, b: ExhaustedJob): number => a.seq - b.seq;
        assert.deepEqual(reported.sort(bySeq), [
          { topic: 'flaky', seq, deliveries: 3 },
          { topic: 'flaky', seq: kept.seq, deliveries: 3 },
        ]);
        assert.deepEqual(watched.sort(bySeq), reported);
        assert.deepEqual(unheard, [], 'an unsubscribed listener hears nothing');
        assert.equal(await producer.pending(seq), false);
        assert.equal(await producer.pending(kept.seq), false);
        await sleep(500);
        assert.equal(counts.length, 6, `three deliveries per job, no more (${counts})`);
        assert.equal(reported.length, 2, 'reported once each');
      }));

    test('a job given up while nobody listens still leaves the queue', () =>
      withQueues(2, { ackWaitMs: 300, maxDeliver: 1 }, async (producer, worker) => {
        await worker.take('ignored', async () => undefined, { concurrency: 1 });
        const { seq } = await producer.enqueue('ignored', bytes('x'), { id: 'unheard' });
        await waitFor(async () => !(await producer.pending(seq)), 'the job to be given up', 5_000);
      }));

    test('an id enqueued again within the duplicate window adds nothing: the first job’s sequence, duplicate', () =>
      withQueues(2, FAST, async (producer, worker) => {
        const first = await producer.enqueue('dedupe', bytes('one'), { id: 'wf-9/step-a' });
        const again = await producer.enqueue('dedupe', bytes('two'), { id: 'wf-9/step-a' });
        const other = await producer.enqueue('dedupe', bytes('three'), { id: 'wf-9/step-b' });
        assert.deepEqual(again, { seq: first.seq, duplicate: true });
        assert.equal(other.duplicate, false);
        assert.notEqual(other.seq, first.seq);
        const got: string[] = [];
        await worker.take(
          'dedupe',
          async (job) => {
            await job.ack();
            got.push(text(job.data));
          },
          { concurrency: 1 },
        );
        await waitFor(() => got.length === 2, 'two jobs');
        assert.deepEqual(got, ['one', 'three']);
        // Done and gone, the id is still remembered: the step is not run twice.
        assert.deepEqual(await producer.enqueue('dedupe', bytes('four'), { id: 'wf-9/step-a' }), {
          seq: first.seq,
          duplicate: true,
        });
        await sleep(100);
        assert.deepEqual(got, ['one', 'three']);
      }));

    test('hasTakers: false until a taker of the topic comes (on any connection), and stays true after it stops', () =>
      withQueues(2, FAST, async (producer, worker) => {
        assert.equal(await producer.hasTakers('planner'), false);
        const taker = await worker.take('planner', async (job) => job.ack(), { concurrency: 1 });
        assert.equal(taker.topic, 'planner');
        assert.equal(await producer.hasTakers('planner'), true);
        assert.equal(await producer.hasTakers('planner.other'), false);
        await taker.stop();
        assert.equal(await producer.hasTakers('planner'), true, 'durable: its jobs wait for the next taker');
      }));

    test('topics with dots, spaces and other characters are distinct topics, never mixed up', () =>
      withQueues(2, FAST, async (producer, worker) => {
        const topics = ['researcher.web', 'researcher web', 'researcher_2eweb', 'researcher', 'rédacteur/ü', 'a-b'];
        const got = new Map<string, string[]>();
        for (const topic of topics) {
          await worker.take(
            topic,
            async (job) => {
              await job.ack();
              got.set(topic, [...(got.get(topic) ?? []), `${job.topic}:${text(job.data)}`]);
            },
            { concurrency: 1 },
          );
        }
        for (const topic of topics) await producer.enqueue(topic, bytes(topic), { id: `for ${topic}` });
        await waitFor(() => got.size === topics.length, 'a job per topic');
        await sleep(100);
        for (const topic of topics) assert.deepEqual(got.get(topic), [`${topic}:${topic}`]);
      }));

    test('stop() waits for the handlers of jobs taken; the stopped taker takes nothing more', () =>
      withQueues(3, FAST, async (producer, worker, later) => {
        const events: string[] = [];
        const taker = await worker.take(
          'stopper',
          async (job) => {
            events.push(`start ${job.id}`);
            await sleep(300);
            await job.ack();
            events.push(`end ${job.id}`);
          },
          { concurrency: 1 },
        );
        await producer.enqueue('stopper', bytes('x'), { id: 'running' });
        await waitFor(() => events.length === 1, 'the handler to start');
        await taker.stop();
        events.push('stopped');
        await taker.stop();
        const { seq } = await producer.enqueue('stopper', bytes('y'), { id: 'after-stop' });
        await sleep(200);
        assert.deepEqual(events, ['start running', 'end running', 'stopped']);
        assert.equal(await producer.pending(seq), true, 'nobody took the job enqueued after stop()');
        await later.take(
          'stopper',
          async (job) => {
            await job.ack();
            events.push(`later ${job.id}`);
          },
          { concurrency: 1 },
        );
        await waitFor(() => events.includes('later after-stop'), 'the next taker to get it');
      }));

    test('a job over the bus limit is refused with payload_too_large and not enqueued', () =>
      withQueues(2, FAST, async (producer, worker) => {
        const bus = await harness.connect();
        try {
          const limit = bus.maxPayload;
          await rejectsWith(
            producer.enqueue('big', new Uint8Array(limit), { id: 'too-big' }),
            'payload_too_large',
            /over the \d+-byte limit \(max_payload\)/,
          );
          const got: string[] = [];
          await worker.take(
            'big',
            async (job) => {
              await job.ack();
              got.push(job.id);
            },
            { concurrency: 1 },
          );
          const { seq } = await producer.enqueue('big', new Uint8Array(limit - 1024), { id: 'fits' });
          await waitFor(() => got.length === 1, 'the job that fits');
          assert.deepEqual(got, ['fits']);
          assert.equal(seq, 1, 'the refused job took no sequence');
        } finally {
          await bus.close();
        }
      }));

    test('bad input fails at once with what to do: names, topics, ids, reserved headers, options', async () => {
      const bus = await harness.connect();
      try {
        await rejectsWith(bus.workQueue('has.dot', FAST), 'invalid_subject', /letters, digits/);
        await assert.rejects(bus.workQueue(uniqueName(), { ackWaitMs: 0, maxDeliver: 1 }), /ackWaitMs must be/);
        await assert.rejects(bus.workQueue(uniqueName(), { ackWaitMs: 100, maxDeliver: 1.5 }), /maxDeliver must be/);
        const queue = await bus.workQueue(uniqueName(), FAST);
        await rejectsWith(queue.enqueue('', bytes('x'), { id: 'a' }), 'invalid_subject', /empty/);
        await rejectsWith(queue.enqueue('x'.repeat(200), bytes('x'), { id: 'a' }), 'invalid_subject', /too long/);
        await assert.rejects(queue.enqueue('t', bytes('x'), { id: '' }), /id must be a non-empty string/);
        await assert.rejects(
          queue.enqueue('t', bytes('x'), { id: 'a', headers: { 'Nats-Expected-Stream': 'x' } }),
          /header Nats-Expected-Stream is reserved/,
        );
        await assert.rejects(
          queue.take('t', async () => undefined, { concurrency: 0 }),
          /concurrency must be/,
        );
        await rejectsWith(
          queue.take('', async () => undefined, { concurrency: 1 }),
          'invalid_subject',
        );
      } finally {
        await bus.close();
      }
    });

    test('a closed bus: its queue refuses with closed, and its takers take nothing more', async () => {
      const bus = await harness.connect();
      const other = await harness.connect();
      try {
        const queueName = uniqueName();
        const queue = await bus.workQueue(queueName, FAST);
        const producer = await other.workQueue(queueName, FAST);
        const got: string[] = [];
        await queue.take(
          'closing',
          async (job) => {
            await job.ack();
            got.push(job.id);
          },
          { concurrency: 1 },
        );
        await producer.enqueue('closing', bytes('x'), { id: 'before' });
        await waitFor(() => got.length === 1, 'the job before closing');
        await bus.close();
        await rejectsWith(queue.enqueue('closing', bytes('x'), { id: 'after' }), 'closed');
        await rejectsWith(queue.pending(1), 'closed');
        const { seq } = await producer.enqueue('closing', bytes('y'), { id: 'after-close' });
        await sleep(300);
        assert.deepEqual(got, ['before']);
        assert.equal(await producer.pending(seq), true);
      } finally {
        await Promise.all([bus.close(), other.close()]);
      }
    });
  });
}
