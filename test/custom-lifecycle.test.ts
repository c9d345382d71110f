// The CustomAgents' lifecycle when something fails (custom-lifecycle.ts and the mesh around it), on the in-process
// transport: a setup() that throws tears down the agents set up before it and names itself in start()'s error; a
// start that fails while serving tears down every agent set up; a teardown that also fails is named too; a run()
// loop that throws is a mesh warning, and the mesh and its other agents go on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { CustomAgent, createMemoryStorage, isMeshError, Mesh, type MeshWarning } from '../src/index.js';
import { connectInProcess, InProcessBroker } from '../src/transport/index.js';
import { tempDir } from './helpers/temp.js';

/** What happened, in order: `setup a`, `teardown a`, ... */
const events: string[] = [];

function agentClass(role: string, fail: { setup?: string; teardown?: string } = {}) {
  return class extends CustomAgent {
    static override role = role;
    static override description = `Agent ${role} of the lifecycle test.`;
    override async setup() {
      events.push(`setup ${role}`);
      if (fail.setup) throw new Error(fail.setup);
    }
    override async teardown() {
      events.push(`teardown ${role}`);
      if (fail.teardown) throw new Error(fail.teardown);
    }
    override async onPeerRequest() {
      return { role };
    }
  };
}

function meshOn(broker: InProcessBroker): Mesh {
  return new Mesh({
    bus: connectInProcess(broker),
    storage: createMemoryStorage(),
    config: { LOG_DIRECTORY: tempDir('custom-lifecycle') },
  });
}

test('a setup() that throws: the agents set up before it are torn down (last first), the error names the agent and why, and start() can run again', async () => {
  events.length = 0;
  const mesh = meshOn(new InProcessBroker())
    .add(agentClass('first'))
    .add(agentClass('second'))
    .add(agentClass('broken', { setup: 'the database is not reachable' }))
    .add(agentClass('never'));
  const failed = await mesh.start().then(
    () => null,
    (err: unknown) => err as Error,
  );
  assert.ok(failed, 'start() should have failed');
  assert.match(failed.message, /the setup\(\) of agent "broken" threw: the database is not reachable/);
  assert.match(failed.message, /torn down: "first", "second"/);
  assert.equal((failed.cause as Error).message, 'the database is not reachable');
  assert.deepEqual(events, ['setup first', 'setup second', 'setup broken', 'teardown second', 'teardown first']);
  await assert.rejects(mesh.call('first', {}), /not started|start\(\)/);
  // Nothing of the failed start is left behind: the same mesh starts again (and fails the same way, cleanly).
  events.length = 0;
  await assert.rejects(mesh.start(), /"broken" threw/);
  assert.deepEqual(events, ['setup first', 'setup second', 'setup broken', 'teardown second', 'teardown first']);
});

test('a teardown that fails while undoing a failed start is named in the error too', async () => {
  events.length = 0;
  const mesh = meshOn(new InProcessBroker())
    .add(agentClass('leaky', { teardown: 'the file is locked' }))
    .add(agentClass('broken', { setup: 'no config' }));
  await assert.rejects(
    mesh.start(),
    /the setup\(\) of agent "broken" threw: no config\..*But the teardown\(\) of agent "leaky" threw: the file is locked/s,
  );
  assert.deepEqual(events, ['setup leaky', 'setup broken', 'teardown leaky']);
});

test('serving fails after every setup ran (an agent name served elsewhere with other schemas): every agent set up is torn down, the serving error is thrown', async () => {
  const broker = new InProcessBroker();
  const other = meshOn(broker);
  other.agent({ name: 'shared.name', description: 'Takes text.', input: z.object({ text: z.string() }) }, () => 1);
  await other.start();
  events.length = 0;
  const mesh = meshOn(broker).add(agentClass('one')).add(agentClass('two'));
  mesh.agent({ name: 'shared.name', description: 'Takes a number.', input: z.object({ n: z.number() }) }, () => 2);
  try {
    const failed = await mesh.start().then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(isMeshError(failed, 'invalid_definition'), String(failed));
    assert.match(failed.message, /Agent "shared.name" is already served on the mesh with other schemas/);
    assert.deepEqual(events, ['setup one', 'setup two', 'teardown two', 'teardown one']);
    // The failed mesh serves nothing: its agents are not on the mesh.
    const names = (await other.catalog()).map((entry) => entry.name);
    assert.deepEqual(names, ['shared.name']);
  } finally {
    await other.stop();
  }
});

test('a run() loop that throws is a mesh warning naming the agent; the mesh keeps serving it, and the other agents loops and requests go on', async () => {
  let ticks = 0;
  class Crashing extends CustomAgent {
    static override role = 'crashing';
    override async run() {
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw new Error('the poller lost its cursor');
    }
    override async onPeerRequest() {
      return 'still here';
    }
  }
  class Steady extends CustomAgent {
    static override role = 'steady';
    override async run(signal: AbortSignal) {
      while (!signal.aborted) {
        ticks += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    override async onPeerRequest() {
      return { ticks };
    }
  }
  const mesh = meshOn(new InProcessBroker()).add(Crashing).add(Steady);
  const warnings: MeshWarning[] = [];
  mesh.on('warning', (warning) => warnings.push(warning as MeshWarning));
  await mesh.start();
  try {
    const until = Date.now() + 5_000;
    while (warnings.length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(warnings, [
      { kind: 'mesh', message: 'The run() loop of agent "crashing" failed: the poller lost its cursor' },
    ]);
    assert.equal(await mesh.call('crashing', {}), 'still here');
    const before = ticks;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { ticks: now } = (await mesh.call('steady', {})) as { ticks: number };
    assert.ok(now > before, `the other agent's loop goes on (${before} -> ${now})`);
  } finally {
    await mesh.stop();
  }
});
