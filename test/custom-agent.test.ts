// CustomAgent on both transports (its own in-process broker, and a real nats-server): served under its role (kind
// `custom`, capabilities as tags) and called from another Mesh; notifications; setup, run(signal) and teardown in
// the mesh's life; a workflow step answered by executeTask with an envelope (output = what the agent returned).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CustomAgent, isMeshError, Mesh, type PeerContext } from '../src/index.js';
import { type MeshTransport, meshTransports } from './helpers/mesh-transports.js';
import { tempDir } from './helpers/temp.js';

const config = (extra: Record<string, string | number> = {}) => ({
  LOG_DIRECTORY: tempDir('custom-agent'),
  ...extra,
});

const notified: unknown[] = [];
const lifecycle: string[] = [];

class Echo extends CustomAgent {
  static override role = 'echo';
  static override capabilities = ['echoing', 'text'];
  static override description = 'Answers with what it was sent.';
  override async onPeerRequest(message: unknown, ctx: PeerContext) {
    if ((message as { task?: string })?.task === 'boom') throw new Error('the echo broke');
    return { echoed: message, session: ctx.session.id };
  }
  override async onPeerNotify(message: unknown, ctx: PeerContext) {
    notified.push({ message, metadata: ctx.session.metadata });
  }
}

class Ticker extends CustomAgent {
  static override role = 'ticker';
  static override description = 'Counts while the mesh runs.';
  ticks = 0;
  override async setup() {
    lifecycle.push('setup');
  }
  override async run(signal: AbortSignal) {
    lifecycle.push('run');
    while (!signal.aborted) {
      this.ticks += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    lifecycle.push('run ended');
  }
  override async teardown() {
    lifecycle.push('teardown');
  }
  override async onPeerRequest() {
    return { ticks: this.ticks };
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const { name, skip, setUp } of meshTransports(config)) {
  describe(`CustomAgent (${name})`, { skip }, () => {
    let transport: MeshTransport;

    async function pair(): Promise<{ provider: Mesh; caller: Mesh; stop(): Promise<void> }> {
      transport = await setUp();
      const provider = new Mesh(transport.meshOptions()).add(Echo).add(Ticker);
      await provider.start();
      const caller = new Mesh(transport.meshOptions());
      caller.agent({ name: 'local.noop', description: 'Keeps the caller a mesh with an agent.' }, () => undefined);
      await caller.start();
      return {
        provider,
        caller,
        async stop() {
          await caller.stop();
          await provider.stop();
          await transport.close();
        },
      };
    }

    test('served under its role from another Mesh: kind custom, capabilities as tags; the return value is the reply, a throw is handler_error', async () => {
      const { caller, stop } = await pair();
      try {
        const reply = (await caller.call('echo', { hello: 'world' })) as { echoed: unknown; session: string };
        assert.deepEqual(reply.echoed, { hello: 'world' });
        assert.equal(typeof reply.session, 'string');
        assert.deepEqual(
          (await caller.catalog({ tags: ['echoing'] })).map((entry) => [entry.name, entry.tags]),
          [['echo', ['echoing', 'text']]],
        );
        const failed = await caller.call('echo', { task: 'boom' }).catch((err: unknown) => err);
        assert.ok(isMeshError(failed, 'handler_error'), String(failed));
        assert.match(failed.message, /the echo broke/);
      } finally {
        await stop();
      }
    });

    test('setup before it serves, run(signal) while the mesh runs, aborted on stop, then teardown', async () => {
      lifecycle.length = 0;
      const { caller, stop } = await pair();
      try {
        assert.deepEqual(lifecycle.slice(0, 2), ['setup', 'run']);
        await waitFor(async () => ((await caller.call('ticker', {})) as { ticks: number }).ticks > 2, 'ticks');
      } finally {
        await stop();
      }
      assert.deepEqual(lifecycle, ['setup', 'run', 'run ended', 'teardown']);
    });

    test('a workflow step on a CustomAgent runs executeTask: the envelope output is what the agent returned, no code', async () => {
      const { caller, stop } = await pair();
      try {
        const [step] = await caller.workflow('wf-custom', [
          { id: 'say', agent: 'echoing', task: 'repeat', context: { n: 1 } },
        ]);
        assert.ok(step);
        assert.equal(step.status, 'success', step.error ?? '');
        const echoed = (step.output as { echoed: { task: string; context: { n: number; stepId: string } } }).echoed;
        assert.equal(echoed.task, 'repeat');
        assert.equal(echoed.context.n, 1);
        assert.equal(echoed.context.stepId, 'say');
        assert.equal(step?.code, null);
        assert.equal(step?.role, 'echo');
        const [broken] = await caller.workflow('wf-custom-broken', [{ id: 'b', agent: 'echo', task: 'boom' }]);
        assert.equal(broken?.status, 'failure');
        assert.match(broken?.error ?? '', /the echo broke/);
      } finally {
        await stop();
      }
    });

    test('notify runs onPeerNotify with the session metadata; nothing is answered', async () => {
      notified.length = 0;
      class Sender extends CustomAgent {
        static override role = 'sender';
        static override description = 'Sends notifications.';
        override async run() {
          await this.peers.notify('echo', { note: 1 }, { session: { id: 's-n', metadata: { user: 'ada' } } });
        }
      }
      transport = await setUp();
      const provider = new Mesh(transport.meshOptions()).add(Echo);
      await provider.start();
      const sender = new Mesh(transport.meshOptions()).add(Sender);
      await sender.start();
      try {
        await waitFor(() => notified.length === 1, 'the notification');
        assert.deepEqual(notified, [{ message: { note: 1 }, metadata: { user: 'ada' } }]);
      } finally {
        await sender.stop();
        await provider.stop();
        await transport.close();
      }
    });
  });
}

test('executeTask in the process: success envelope with the output; a throw and a non-JSON result are failure envelopes, a throw after the signal aborted a cancelled one', async () => {
  const echo = new Echo();
  const done = await echo.executeTask({ task: 'hi', context: { a: 1 } });
  assert.equal(done.status, 'success');
  assert.deepEqual((done.output as { echoed: unknown }).echoed, { task: 'hi', context: { a: 1 } });
  assert.equal(done.code, null);
  const broken = await echo.executeTask({ task: 'boom' });
  assert.equal(broken.status, 'failure');
  assert.equal(broken.errorCategory, 'runtime');
  // A throw once its signal aborted is the stop's doing, not the agent's: cancelled (another node may run the step).
  const stopped = await echo.executeTask({ task: 'boom', signal: AbortSignal.abort() });
  assert.equal(stopped.errorCategory, 'cancelled');
  assert.match(stopped.error ?? '', /Agent "echo" was stopped during the task: the echo broke/);
  class Odd extends CustomAgent {
    static override role = 'odd';
    override async onPeerRequest() {
      return { when: () => 1 };
    }
  }
  const odd = await new Odd().executeTask({ task: 'x' });
  assert.equal(odd.status, 'failure');
  assert.match(odd.error ?? '', /not JSON data: output\.when/);
});

test('a CustomAgent class without a valid role is refused at mesh.add, naming the class', () => {
  class Nameless extends CustomAgent {}
  assert.throws(() => new Mesh().add(Nameless), /CustomAgent class Nameless: static role/);
});
