// The in-process bus passes the bus conformance suite on an isolated broker; the process-wide broker is shared by
// every connection that does not bring its own, so two meshes in one process find each other.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectInProcess, InProcessBroker } from '../src/transport/memory/index.js';
import { busConformance, throwingHandlerTest } from './transport/bus-conformance.js';

const broker = new InProcessBroker();
busConformance('in-process bus', { kind: 'in-process', connect: async () => connectInProcess(broker) });
throwingHandlerTest(() => ({}));

test('connections without a broker of their own share the process-wide one; an isolated broker sees none of it', async () => {
  const first = connectInProcess();
  const second = connectInProcess();
  const isolated = connectInProcess(new InProcessBroker());
  try {
    const got: string[] = [];
    const unseen: string[] = [];
    second.subscribe('shared.hello', (message) => got.push(new TextDecoder().decode(message.data)));
    isolated.subscribe('shared.hello', () => unseen.push('leaked'));
    first.publish('shared.hello', new TextEncoder().encode('hi'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(got, ['hi']);
    assert.deepEqual(unseen, []);
    await (await first.kv('shared-bucket')).put('k', new TextEncoder().encode('v'));
    assert.ok(await (await second.kv('shared-bucket')).get('k'));
    assert.equal(await (await isolated.kv('shared-bucket')).get('k'), null);
  } finally {
    await Promise.all([first.close(), second.close(), isolated.close()]);
  }
});
