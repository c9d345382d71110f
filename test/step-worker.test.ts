// The node side of distributed workflows (src/mesh/distributed/step-worker.ts), on the in-process bus: what a
// second delivery of a step does while this node still runs the first (heartbeats lost while the broker restarted),
// and a result recorded after the broker came back rather than the step run again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AutoAgent } from '../src/agent/auto-agent.js';
import type { Envelope } from '../src/agent/envelope.js';
import { encodeJson, resultKey, STEPS_BUCKET, stepJob } from '../src/mesh/distributed/step-job.js';
import { StepWorker } from '../src/mesh/distributed/step-worker.js';
import type { KvBucket } from '../src/transport/bus.js';
import { BusError } from '../src/transport/bus-errors.js';
import { connectInProcess, InProcessBroker } from '../src/transport/memory/index.js';
import type { Job, JobHandler, WorkQueue } from '../src/transport/work-queue.js';

/** An agent whose steps take `ms` and are counted. */
function slowAgent(ms: number): { agent: AutoAgent; runs: () => number } {
  let runs = 0;
  const agent = {
    role: 'researcher',
    async executeStep(input: { stepId: string }): Promise<Envelope> {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { status: 'success', output: 'found', stepId: input.stepId } as unknown as Envelope;
    },
  } as unknown as AutoAgent;
  return { agent, runs: () => runs };
}

/** A queue that hands its handler to the test, which delivers jobs itself. */
function handQueue(): { queue: WorkQueue; handler: () => JobHandler } {
  let taken: JobHandler | null = null;
  const queue = {
    name: 'steps',
    take: async (_topic: string, handler: JobHandler) => {
      taken = handler;
      return { topic: 'researcher', stop: async () => undefined };
    },
  } as unknown as WorkQueue;
  return { queue, handler: () => taken as unknown as JobHandler };
}

type Ending = 'ack' | 'nak' | 'term' | null;

function delivery(data: Uint8Array, count: number): { job: Job; ending: () => Ending } {
  let ending: Ending = null;
  const job: Job = {
    topic: 'researcher',
    id: 'job-1',
    seq: 1,
    data,
    headers: new Map() as never,
    deliveryCount: count,
    ack: async () => {
      ending ??= 'ack';
    },
    nak: () => {
      ending ??= 'nak';
    },
    term: () => {
      ending ??= 'term';
    },
    working: () => undefined,
  };
  return { job, ending: () => ending };
}

const warnings: string[] = [];

async function startWorker(agent: AutoAgent, steps: KvBucket, queue: WorkQueue) {
  const bus = connectInProcess(new InProcessBroker());
  const worker = await StepWorker.start({
    queue,
    bus,
    steps,
    agents: new Map([['researcher', agent]]),
    node: 'node-1',
    instanceId: 'instance-1',
    ackWaitMs: 1_000,
    concurrency: 4,
    onWarning: (message) => warnings.push(message),
  });
  return { worker, bus };
}

const DISPATCH = 'a1b2c3d4e5f60718293a4b5c';

const job = stepJob(
  {
    workflowId: 'wf',
    stepId: 'one',
    role: 'researcher',
    task: 'Research tides',
    context: {},
    dependencies: [],
  } as never,
  DISPATCH,
);

test('a second delivery while this node still runs the step waits for it: the step runs once, both deliveries acknowledged', async () => {
  const bus = connectInProcess(new InProcessBroker());
  const steps = await bus.kv(STEPS_BUCKET);
  const { agent, runs } = slowAgent(300);
  const { queue, handler } = handQueue();
  const { worker } = await startWorker(agent, steps, queue);
  try {
    const first = delivery(encodeJson(job), 1);
    const second = delivery(encodeJson(job), 2);
    const running = handler()(first.job);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([running, handler()(second.job)]);
    assert.deepEqual(warnings, []);
    assert.equal(runs(), 1, 'the model is paid once');
    assert.deepEqual([first.ending(), second.ending()], ['ack', 'ack']);
    assert.ok(await steps.get(resultKey(DISPATCH)), 'the result is recorded');
  } finally {
    await worker.stop();
    await bus.close();
  }
});

test('a result that cannot be recorded while the broker is away is recorded once it is back, not run again', async () => {
  const bus = connectInProcess(new InProcessBroker());
  const real = await bus.kv(STEPS_BUCKET);
  let refusals = 2;
  // The bucket refuses the first two writes as a broker restarting does.
  const steps = new Proxy(real, {
    get(target, key, receiver) {
      if (key === 'put')
        return async (...args: Parameters<KvBucket['put']>) => {
          if (refusals-- > 0) throw new BusError('connection_failed', 'the broker is restarting');
          return target.put(...args);
        };
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const { agent, runs } = slowAgent(10);
  const { queue, handler } = handQueue();
  const { worker } = await startWorker(agent, steps, queue);
  try {
    const only = delivery(encodeJson(job), 1);
    await handler()(only.job);
    assert.equal(runs(), 1);
    assert.equal(only.ending(), 'ack', 'acknowledged once recorded');
    assert.ok(await real.get(resultKey(DISPATCH)));
  } finally {
    await worker.stop();
    await bus.close();
  }
});
