// The caller's watch for death notices (`mesh.death.{name}`) is one subscription per agent that outlives a call:
// back-to-back calls to one agent subscribe once, not twice per call (a SUB and an UNSUB on NATS each time), and a
// death notice still fails the call in flight after the earlier calls ended.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { Bus } from '../src/transport/bus.js';
import { connectInProcess, InProcessBroker } from '../src/transport/index.js';
import { Caller } from '../src/transport/oam/caller.js';
import { defineFunctionAgent } from '../src/transport/oam/function-agent.js';
import { isMeshError } from '../src/transport/oam/mesh-error.js';
import { serveAgent } from '../src/transport/oam/provider.js';

/** The bus, with every subscription to a death subject recorded. */
function countingDeathSubscriptions(bus: Bus, subjects: string[]): Bus {
  return new Proxy(bus, {
    get(target, property) {
      if (property === 'subscribe') {
        return (...args: Parameters<Bus['subscribe']>) => {
          if (args[0].startsWith('mesh.death.')) subjects.push(args[0]);
          return target.subscribe(...args);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

test('back-to-back calls to one agent subscribe to its death notices once, and a notice still fails a later call', async () => {
  const broker = new InProcessBroker();
  const providerBus = connectInProcess(broker);
  const callerBus = connectInProcess(broker);
  const hold = { on: false };
  const agent = defineFunctionAgent(
    {
      name: 'math.echo',
      description: 'Returns its input; holds it while told to.',
      input: z.object({ n: z.number() }),
      output: z.object({ n: z.number() }),
    },
    (input) => (hold.on ? new Promise<never>(() => undefined) : input),
  );
  const served = serveAgent(providerBus, agent, { instanceId: 'a'.repeat(32) });
  const subscribed: string[] = [];
  try {
    const caller = new Caller(countingDeathSubscriptions(callerBus, subscribed));
    for (let n = 0; n < 5; n++) assert.deepEqual(await caller.call('math.echo', { n }), { n });
    assert.deepEqual(subscribed, ['mesh.death.math.echo']);

    hold.on = true;
    const call = caller.call('math.echo', { n: 9 }, { timeoutMs: 5_000 });
    await delay(20);
    providerBus.publish(
      'mesh.death.math.echo',
      new TextEncoder().encode(JSON.stringify({ agent: 'math.echo', reason: 'disconnect' })),
    );
    await assert.rejects(call, (err) => isMeshError(err) && err.code === 'agent_died');
    assert.equal(subscribed.length, 1);
  } finally {
    hold.on = false;
    await served.stop();
    await Promise.all([providerBus.close(), callerBus.close()]);
  }
});
