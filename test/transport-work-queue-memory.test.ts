// The in-process work queue passes the work-queue conformance suite on an isolated broker; queues live on the broker,
// so connections to another broker never see them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectInProcess, InProcessBroker } from '../src/transport/memory/index.js';
import { workQueueConformance } from './transport/work-queue-conformance.js';

const broker = new InProcessBroker();
workQueueConformance('in-process', { connect: async () => connectInProcess(broker) });

test('a queue is the broker’s: another broker’s queue of the same name is another queue', async () => {
  const here = connectInProcess(new InProcessBroker());
  const there = connectInProcess(new InProcessBroker());
  try {
    const options = { ackWaitMs: 1_000, maxDeliver: 1 };
    const { seq } = await (await here.workQueue('steps', options)).enqueue('role', new Uint8Array([1]), { id: 'x' });
    assert.equal(await (await here.workQueue('steps', options)).pending(seq), true);
    assert.equal(await (await there.workQueue('steps', options)).pending(seq), false);
  } finally {
    await Promise.all([here.close(), there.close()]);
  }
});
