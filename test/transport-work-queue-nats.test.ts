// The JetStream work queue passes the work-queue conformance suite against a real nats-server (started here,
// JetStream on, loopback), and keeps its jobs through what only a server and real processes show.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import type { Bus } from '../src/transport/bus.js';
import { connectNats } from '../src/transport/nats/index.js';
import type { ExhaustedJob, WorkQueueOptions } from '../src/transport/work-queue.js';
import { type StartedScript, startScript } from './helpers/run-script.js';
import { gate, waitFor, workQueueConformance } from './transport/work-queue-conformance.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const skip = natsServerAvailable() ? false : NATS_MISSING;

describe('JetStream work queue', { skip }, () => {
  let server: NatsServer;
  before(async () => {
    server = await startNatsServer();
  });
  after(() => server?.stop());

  workQueueConformance('JetStream', {
    connect: () =>
      connectNats({
        settings: { NATS_URL: server.url },
        name: 'automesh-wq-test',
        connectTimeoutMs: 3_000,
        reconnectWaitMs: 100,
      }),
  });
});

const worker = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'work-queue-worker.ts');

interface WorkerSettings {
  queue: string;
  topic: string;
  ackWaitMs: number;
  maxDeliver: number;
}

type Worker = StartedScript & { events(): Array<Record<string, unknown>> };

/** A worker process on `server` that holds every job it gets (heart-beating), once it takes jobs. */
async function startWorker(server: NatsServer, settings: WorkerSettings): Promise<Worker> {
  const started = startScript(worker, {
    env: {
      ...process.env,
      NATS_URL: server.url,
      QUEUE: settings.queue,
      TOPIC: settings.topic,
      ACK_WAIT_MS: String(settings.ackWaitMs),
      MAX_DELIVER: String(settings.maxDeliver),
    },
  });
  const events = (): Array<Record<string, unknown>> =>
    started
      .out()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const exited = started.exited.then((code) => {
    if (!started.child.killed) throw new Error(`the worker exited (${code}): ${started.err()}`);
    return code;
  });
  await Promise.race([
    waitFor(() => events().some((e) => e.event === 'ready'), 'the worker to take jobs', 20_000),
    exited,
  ]);
  return { ...started, events };
}

/** Connections to the server `current()` gives, each closed after its test. */
function useConnections(current: () => NatsServer): () => Promise<Bus> {
  const buses: Bus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });
  return async () => {
    const bus = await connectNats({
      settings: { NATS_URL: current().url },
      name: 'automesh-wq-test',
      connectTimeoutMs: 3_000,
      reconnectWaitMs: 100,
    });
    buses.push(bus);
    return bus;
  };
}

const MID_JOB: WorkerSettings = { queue: 'killed', topic: 'researcher.web', ackWaitMs: 500, maxDeliver: 5 };
const LAST_DELIVERY: WorkerSettings = { queue: 'last', topic: 'coder', ackWaitMs: 400, maxDeliver: 1 };

describe('JetStream work queue: worker processes SIGKILLed', { skip }, () => {
  let server: NatsServer;
  let midJob: Worker | undefined;
  let lastDelivery: Worker | undefined;
  // Both victims start at once: starting a process is most of these tests' time.
  before(async () => {
    server = await startNatsServer();
    [midJob, lastDelivery] = await Promise.all([startWorker(server, MID_JOB), startWorker(server, LAST_DELIVERY)]);
  });
  after(async () => {
    for (const victim of [midJob, lastDelivery]) {
      if (!victim) continue;
      if (victim.child.exitCode === null && victim.child.signalCode === null) victim.child.kill('SIGKILL');
      await victim.exited;
    }
    await server?.stop();
  });
  const connect = useConnections(() => server);

  test('a worker process SIGKILLed mid-job: its job goes to a worker in another process after the ack wait', async () => {
    const options = MID_JOB;
    const producer = await (await connect()).workQueue('killed', options);
    const killed = midJob as Worker;
    const { seq } = await producer.enqueue('researcher.web', bytes('long step'), { id: 'wf-1/research' });
    await waitFor(() => killed.events().some((e) => e.event === 'got'), 'the victim to take the job');
    const rescued: Array<{ deliveryCount: number; at: number }> = [];
    await (await (await connect()).workQueue('killed', options)).take(
      'researcher.web',
      async (job) => {
        await job.ack();
        rescued.push({ deliveryCount: job.deliveryCount, at: Date.now() });
      },
      { concurrency: 1 },
    );
    // Alive and heart-beating, the victim keeps its job well past the ack wait.
    await sleep(3 * options.ackWaitMs);
    assert.equal(rescued.length, 0, 'not redelivered while its worker lives');
    const killedAt = Date.now();
    killed.child.kill('SIGKILL');
    await waitFor(() => rescued.length === 1, 'the job to reach the other process', 5_000);
    assert.equal(rescued[0]?.deliveryCount, 2);
    const delay = (rescued[0]?.at ?? 0) - killedAt;
    assert.ok(delay < options.ackWaitMs + 1_000, `redelivered ${delay} ms after the kill`);
    assert.equal(await producer.pending(seq), false);
    assert.deepEqual(
      killed.events().filter((e) => e.event === 'got'),
      [{ event: 'got', id: 'wf-1/research', seq, deliveryCount: 1 }],
    );
  });

  test('the worker of a job’s last delivery SIGKILLed: the job is still given up, reported and gone', async () => {
    const options = LAST_DELIVERY;
    const producer = await (await connect()).workQueue('last', options);
    const exhausted: ExhaustedJob[] = [];
    producer.onExhausted((job) => exhausted.push(job));
    const killed = lastDelivery as Worker;
    const { seq } = await producer.enqueue('coder', bytes('x'), { id: 'wf-2/code' });
    await waitFor(() => killed.events().some((e) => e.event === 'got'), 'the victim to take the job');
    const ran: number[] = [];
    await (await (await connect()).workQueue('last', options)).take(
      'coder',
      async (job) => {
        ran.push(job.deliveryCount);
        await job.ack();
      },
      { concurrency: 1 },
    );
    killed.child.kill('SIGKILL');
    await waitFor(() => exhausted.length === 1, 'the job to be given up', 5_000);
    assert.deepEqual(exhausted, [{ topic: 'coder', seq, deliveries: 1 }]);
    assert.equal(await producer.pending(seq), false);
    assert.deepEqual(ran, [], 'a delivery past the last one is not run');
  });
});

describe('JetStream work queue: nats-server restarts', { skip }, () => {
  let server: NatsServer;
  beforeEach(async () => {
    server = await startNatsServer();
  });
  afterEach(() => server?.stop());
  const connect = useConnections(() => server);

  /** A queue on two connections, and a server restart that resolves once both are back. */
  async function producerAndWorker(name: string, options: WorkQueueOptions) {
    const buses = [await connect(), await connect()] as const;
    let reconnected = 0;
    for (const bus of buses) bus.onConnection((event) => event.type === 'reconnected' && reconnected++);
    return {
      producer: await buses[0].workQueue(name, options),
      worker: await buses[1].workQueue(name, options),
      restart: async (restartOptions: { loseStore?: boolean } = {}) => {
        await server.restart(restartOptions);
        await waitFor(() => reconnected === 2, 'both connections back', 10_000);
      },
    };
  }

  test('a nats-server restart mid-run: jobs enqueued before it are taken after it, by the takers already running', async () => {
    const options = { ackWaitMs: 2_000, maxDeliver: 5 };
    const { producer, worker, restart } = await producerAndWorker('restart', options);
    const handled: string[] = [];
    const held = gate();
    await worker.take(
      'writer',
      async (job) => {
        if (job.id === 'held') await held.wait;
        await job.ack();
        handled.push(`${job.id}#${job.deliveryCount}`);
      },
      { concurrency: 2 },
    );
    const first = await producer.enqueue('writer', bytes('1'), { id: 'first' });
    await waitFor(() => handled.includes('first#1'), 'the first job');
    const inFlight = await producer.enqueue('writer', bytes('2'), { id: 'held' });
    // Waiting for a taker that comes only after the restart.
    const waiting = await Promise.all(
      ['a', 'b', 'c'].map((id) => producer.enqueue('reviewer', bytes(id), { id: `review-${id}` })),
    );
    await sleep(100);
    await restart();
    held.open();
    const reviewed: string[] = [];
    await worker.take(
      'reviewer',
      async (job) => {
        await job.ack();
        reviewed.push(job.id);
      },
      { concurrency: 1 },
    );
    const later = await producer.enqueue('writer', bytes('3'), { id: 'after-restart' });
    await waitFor(() => reviewed.length === 3, 'the jobs enqueued before the restart', 10_000);
    assert.deepEqual(reviewed, ['review-a', 'review-b', 'review-c']);
    await waitFor(() => handled.some((h) => h.startsWith('after-restart#')), 'a job enqueued after it', 10_000);
    await waitFor(() => handled.some((h) => h.startsWith('held#')), 'the job held across the restart', 10_000);
    for (const { seq } of [first, inFlight, later, ...waiting]) {
      await waitFor(async () => !(await producer.pending(seq)), `job ${seq} to leave the queue`, 5_000);
    }
  });

  test('a server that lost its store: the queue is made again, and the takers already running take new jobs', async () => {
    const options = { ackWaitMs: 1_000, maxDeliver: 5 };
    const { producer, worker, restart } = await producerAndWorker('lost', options);
    const handled: string[] = [];
    await worker.take(
      'analyst',
      async (job) => {
        await job.ack();
        handled.push(job.id);
      },
      { concurrency: 1 },
    );
    await producer.enqueue('analyst', bytes('1'), { id: 'before' });
    await waitFor(() => handled.length === 1, 'the job before');
    await restart({ loseStore: true });
    const { seq } = await producer.enqueue('analyst', bytes('2'), { id: 'after-loss' });
    await waitFor(() => handled.includes('after-loss'), 'the job after the loss', 10_000);
    assert.equal(await producer.pending(seq), false);
    assert.equal(await producer.hasTakers('analyst'), true);
  });
});
