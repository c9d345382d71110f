// The Mesh on its network, on both transports (in-process on a broker of its own per test, and NATS on a real
// nats-server): function agents and AutoAgents served by name, called from another Mesh; the catalog and
// contracts; a workflow whose steps run on the other Mesh with their dependencies' outputs; leaving the catalog.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { z } from 'zod';
import { AutoAgent, type Envelope, Mesh } from '../src/index.js';
import { connectInProcess, InProcessBroker, isMeshError } from '../src/transport/index.js';
import { type MeshTransport, meshTransports, type TransportCase } from './helpers/mesh-transports.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer, type ReceivedRequest } from './llm-server/server.js';

let server: LlmServer;

class CalculatorAgent extends AutoAgent {
  static override role = 'calculator';
  static override capabilities = ['math'];
  static override description = 'Computes arithmetic with code.';
  static override systemPrompt = 'You are a math expert. Store the answer in `result`.';
}

function config(extra: Record<string, string | number> = {}) {
  return {
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: server.url,
    LLM_MODEL: 'qwen2.5-coder-32b-instruct',
    LLM_MAX_RETRIES: 0,
    EXECUTION_TIMEOUT: 2,
    SANDBOX_WORKERS: 1,
    LOG_DIRECTORY: tempDir('mesh-network'),
    ...extra,
  };
}

/** What the model is asked: the task line of the prompt. */
function taskOf(req: ReceivedRequest): string {
  return /Task: (.*)/.exec(req.messages.map((m) => m.content).join('\n'))?.[1] ?? '';
}

function reply(code: string) {
  return {
    kind: 'text' as const,
    text: `Here is a program for it.\n\n\`\`\`typescript\n${code}\n\`\`\`\n\nIt stores the value in \`result\`.`,
  };
}

before(async () => {
  server = await LlmServer.start();
});
after(() => server.close());
beforeEach(() => server.reset());

/** How a test's meshes meet: their own in-process broker, or the file's nats-server. */
let transport: MeshTransport;

/** Two meshes: a provider and a caller, stopped by the returned function. */
async function pair(setup: (provider: Mesh) => void): Promise<{ provider: Mesh; caller: Mesh; stop(): Promise<void> }> {
  const provider = new Mesh(transport.meshOptions());
  setup(provider);
  await provider.start();
  const caller = new Mesh(transport.meshOptions());
  caller.agent(
    { name: 'local.noop', description: 'Does nothing; keeps the caller a mesh with an agent.' },
    () => undefined,
  );
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

/** The tests below, once per transport. */
const transports = meshTransports(config);

for (const { name, skip, setUp } of transports) {
  describe(`on the ${name} transport`, { skip }, () => {
    beforeEach(async () => {
      transport = await setUp();
    });
    defineTests();
  });
}

function defineTests(): void {
  test('a function agent defined on one mesh is called from another, its input validated with the zod schema', async () => {
    const { caller, stop } = await pair((provider) => {
      provider.agent(
        {
          name: 'nlp.summarizer',
          description: 'Summarizes text to a target length.',
          input: z.object({ text: z.string(), maxLength: z.number().default(10) }),
          output: z.object({ summary: z.string() }),
        },
        async ({ text, maxLength }) => ({ summary: text.slice(0, maxLength) }),
      );
    });
    try {
      assert.deepEqual(await caller.call('nlp.summarizer', { text: 'The quick brown fox jumps' }), {
        summary: 'The quick ',
      });
      const bad = await caller.call('nlp.summarizer', { text: 42 }).catch((err: unknown) => err);
      assert.ok(isMeshError(bad, 'invalid_input'), String(bad));
      assert.equal(bad.agent, 'nlp.summarizer');
      const missing = await caller.call('nlp.nobody', {}).catch((err: unknown) => err);
      assert.ok(isMeshError(missing, 'not_found'), String(missing));
    } finally {
      await stop();
    }
  });

  test('an AutoAgent is served under its role: { task } in, the envelope out; capabilities are its tags', async () => {
    server.respond('vllm', () => reply('const result: number = 6 * 7;'));
    const { caller, stop } = await pair((provider) => provider.add(CalculatorAgent));
    try {
      const envelope = (await caller.call('calculator', { task: 'What is 6 times 7?' })) as Envelope;
      assert.equal(envelope.status, 'success');
      assert.equal(envelope.output, 42);
      assert.equal(envelope.role, 'calculator');
      const entries = await caller.catalog({ tags: ['math'] });
      assert.deepEqual(
        entries.map((e) => e.name),
        ['calculator'],
      );
      const contract = await caller.contract('calculator');
      assert.equal(contract.description, 'Computes arithmetic with code.');
      assert.deepEqual(contract.tags, ['math']);
      assert.equal(contract.shape, 'responder');
      assert.deepEqual((contract.inputSchema as { required?: string[] }).required, ['task']);
      const empty = await caller.call('calculator', { task: '' }).catch((err: unknown) => err);
      assert.ok(isMeshError(empty, 'invalid_input'), String(empty));
    } finally {
      await stop();
    }
  });

  test("a workflow step names an agent of another mesh: it runs there, with its dependency's output in its context", async () => {
    server.respond('vllm', (req) => {
      const task = taskOf(req);
      if (task.includes('Add 5'))
        return reply('const result: number = (context.base as { output: number }).output + 5;');
      return reply('const result = 37;');
    });
    const { caller, provider, stop } = await pair((p) => p.add(CalculatorAgent));
    try {
      // The caller has no AutoAgent of its own: both steps go over the mesh to the provider's calculator.
      const results = await caller.workflow('remote-flow', [
        { id: 'base', agent: 'calculator', task: 'Give 37' },
        { id: 'sum', agent: 'math', task: 'Add 5 to the base', dependsOn: ['base'] },
      ]);
      assert.deepEqual(
        results.map((r) => [r.stepId, r.status, r.output]),
        [
          ['base', 'success', 37],
          ['sum', 'success', 42],
        ],
      );
      assert.equal(results.summary.succeeded, 2);
      assert.ok(provider.started);
    } finally {
      await stop();
    }
  });

  test("a step on a remote function agent gets the step's task and context, and its answer is the step's output; a stopped agent leaves the catalog", async () => {
    const { caller, provider, stop } = await pair((p) => {
      p.agent(
        { name: 'slow.echo', description: 'Echoes after a while.', input: z.object({ task: z.string() }) },
        async ({ task }) => ({ task }),
      );
    });
    try {
      assert.deepEqual(
        (await caller.catalog({ channel: 'slow' })).map((e) => e.name),
        ['slow.echo'],
      );
      // A function agent answers with its own output, not an envelope: that output is the step's.
      const [step] = await caller.workflow('echo-flow', [{ id: 'echo', agent: 'slow.echo', task: 'hello' }]);
      assert.equal(step?.status, 'success', step?.error ?? '');
      assert.deepEqual(step?.output, { task: 'hello' });
      assert.equal(step?.code, null);
      assert.equal(step?.stepId, 'echo');
      await provider.stop();
      await waitFor(
        async () => (await caller.catalog({ channel: 'slow' })).length === 0,
        'the catalog to drop slow.echo',
      );
      const gone = await caller.call('slow.echo', { task: 'x' }).catch((err: unknown) => err);
      assert.ok(isMeshError(gone, 'not_found'), String(gone));
      // Once it has left, a workflow naming it is refused before anything runs.
      await assert.rejects(caller.workflow('echo-again', [{ agent: 'slow.echo', task: 'hello' }]), /slow\.echo/);
    } finally {
      await stop();
    }
  });
}

const summarizer = {
  name: 'nlp.summarizer',
  description: 'Summarizes text to a target length.',
  output: z.object({ summary: z.string() }),
};

describe('two meshes serving one name', () => {
  beforeEach(async () => {
    transport = await (transports[0] as TransportCase).setUp();
  });

  test('with other schemas the second is refused at start, both schemas shown; with the same, they are replicas', async () => {
    const { caller, stop } = await pair((provider) => {
      provider.agent({ ...summarizer, input: z.object({ text: z.string() }) }, async ({ text }) => ({
        summary: text.slice(0, 3),
      }));
    });
    const rival = new Mesh(transport.meshOptions());
    rival.agent({ ...summarizer, input: z.object({ words: z.array(z.string()) }) }, async ({ words }) => ({
      summary: words.join(' '),
    }));
    const replica = new Mesh(transport.meshOptions());
    replica.agent({ ...summarizer, input: z.object({ text: z.string() }) }, async ({ text }) => ({
      summary: text.slice(0, 3),
    }));
    try {
      const refused = await rival.start().catch((err: unknown) => err);
      assert.ok(isMeshError(refused, 'invalid_definition'), String(refused));
      assert.match(refused.message, /"text"/);
      assert.match(refused.message, /"words"/);
      assert.equal(rival.started, false);
      await replica.start();
      assert.deepEqual(await caller.call('nlp.summarizer', { text: 'abcdef' }), { summary: 'abc' });
      await replica.stop();
      // One replica left: the entry stays, and calls still work.
      assert.deepEqual(
        (await caller.catalog({ channel: 'nlp' })).map((e) => e.name),
        ['nlp.summarizer'],
      );
      assert.deepEqual(await caller.call('nlp.summarizer', { text: 'xyz123' }), { summary: 'xyz' });
    } finally {
      await replica.stop();
      await rival.stop();
      await stop();
    }
  });
});

test('a mesh of function agents only starts with no LLM provider configured, and serves', async () => {
  const broker = new InProcessBroker();
  const [busA, busB] = [connectInProcess(broker), connectInProcess(broker)];
  // Only LOG_DIRECTORY: no provider key or endpoint anywhere (the environment has none in tests).
  const only = { LOG_DIRECTORY: tempDir('mesh-no-llm'), LLM_PROVIDER_ORDER: 'claude' };
  const provider = new Mesh({ bus: busA, config: only });
  provider.agent(
    { name: 'math.double', description: 'Doubles a number.', input: z.object({ n: z.number() }) },
    async ({ n }) => ({ n: n * 2 }),
  );
  const caller = new Mesh({ bus: busB, config: only });
  caller.agent({ name: 'local.noop', description: 'Keeps the caller a mesh with an agent.' }, () => undefined);
  try {
    await provider.start();
    await caller.start();
    assert.deepEqual(await caller.call('math.double', { n: 21 }), { n: 42 });
  } finally {
    await caller.stop();
    await provider.stop();
    await busA.close();
    await busB.close();
  }
});

test('mode distributed without NATS_URL is refused at start, saying what to set', async () => {
  const mesh = new Mesh({ mode: 'distributed', config: { LOG_DIRECTORY: tempDir('mesh-no-url') } });
  mesh.agent({ name: 'math.one', description: 'Returns one.', output: z.object({ n: z.number() }) }, async () => ({
    n: 1,
  }));
  await assert.rejects(mesh.start(), /Mesh mode "distributed" runs on NATS, and NATS_URL is not set: set it/);
  assert.equal(mesh.started, false);
});

async function waitFor(check: () => Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
