// Distributed mode on both transports (an in-process broker of the test's own, and a real nats-server): workflow
// steps dispatched through the work queue to whichever mesh serves their agent, with their dependencies' outputs;
// a node that stops mid-step hands the step to a node that joined meanwhile; cancellation reaches the node; an
// agent nobody serves is refused up front; a function agent is a step too; a CustomAgent's step goes through the
// work queue as an AutoAgent's does (handed to another node when its node stops mid-step).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { z } from 'zod';
import { AutoAgent, CustomAgent, Mesh, type PeerContext, WorkflowValidationError } from '../src/index.js';
import { databasePath, openSqliteStorage } from '../src/storage/index.js';
import { type MeshTransport, meshTransports } from './helpers/mesh-transports.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer, type ReceivedRequest } from './llm-server/server.js';

let server: LlmServer;

class Researcher extends AutoAgent {
  static override role = 'researcher';
  static override capabilities = ['research'];
  static override systemPrompt = 'You research a topic. Store your findings in `result`.';
}

class Writer extends AutoAgent {
  static override role = 'writer';
  static override capabilities = ['writing'];
  static override systemPrompt = 'You write from research. Store the text in `result`.';
}

/** A CustomAgent step: its first run waits until its node stops it; every other run edits the draft at once. */
class Editor extends CustomAgent {
  static override role = 'editor';
  static override capabilities = ['editing'];
  static override description = 'Edits a draft.';
  static runs = 0;
  override async onPeerRequest(message: unknown, ctx: PeerContext) {
    Editor.runs += 1;
    if (Editor.runs === 1) {
      await new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }),
      );
    }
    const { context } = message as { context: { draft: string } };
    return { edited: context.draft.toUpperCase(), by: this.agentId };
  }
}

function config(extra: Record<string, string | number> = {}) {
  return {
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: server.url,
    LLM_MODEL: 'qwen2.5-coder-32b-instruct',
    LLM_MAX_RETRIES: 0,
    EXECUTION_TIMEOUT: 2,
    SANDBOX_WORKERS: 1,
    STEP_ACK_WAIT: 1,
    LOG_DIRECTORY: tempDir('mesh-distributed'),
    ...extra,
  };
}

const taskOf = (req: ReceivedRequest): string =>
  /Task: (.*)/.exec(req.messages.map((m) => m.content).join('\n'))?.[1] ?? '';

function reply(code: string, delayMs = 0) {
  return {
    kind: 'text' as const,
    delayMs,
    text: `Here is the program.\n\n\`\`\`typescript\n${code}\n\`\`\`\n\nIt stores the answer in \`result\`.`,
  };
}

before(async () => {
  server = await LlmServer.start();
});
after(() => server.close());
beforeEach(() => server.reset());

let transport: MeshTransport;

interface Node {
  mesh: Mesh;
  /** Whether this node's result log holds that result. */
  logged(resultId: string): Promise<boolean>;
}

/** A distributed mesh with the default storage (its own database; registry and workflows on the bus), started. */
async function node(setup: (mesh: Mesh) => void, extra: Record<string, string | number> = {}): Promise<Node> {
  const options = transport.meshOptions();
  const config = { ...options.config, ...extra };
  const mesh = new Mesh({ ...options, config, mode: 'distributed' });
  setup(mesh);
  await mesh.start();
  return {
    mesh,
    async logged(resultId) {
      const storage = openSqliteStorage(databasePath(config.LOG_DIRECTORY));
      try {
        return (await storage.results.get(resultId)) !== null;
      } finally {
        await storage.close();
      }
    },
  };
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const { name, skip, setUp } of meshTransports(config)) {
  describe(`distributed mode on the ${name} transport`, { skip }, () => {
    beforeEach(async () => {
      transport = await setUp();
    });

    test("steps run on the nodes that serve their agents, with their dependencies' outputs; the orchestrator keeps each result", async () => {
      server.respond('vllm', (req) => {
        const task = taskOf(req);
        if (task.startsWith('Research')) return reply(`const result: string = 'facts on ${task.split(' ')[1]}';`);
        return reply("const result: string = [context.r1.output, context.r2.output].join(' + ');");
      });
      const researchers = await node((m) => m.add(Researcher));
      const writers = await node((m) => m.add(Writer));
      const orchestrator = await node(() => undefined);
      try {
        const results = await orchestrator.mesh.workflow('report', [
          { id: 'r1', agent: 'research', task: 'Research tides' },
          { id: 'r2', agent: 'researcher', task: 'Research winds' },
          { id: 'w', agent: 'writer', task: 'Write the report', dependsOn: ['r1', 'r2'] },
        ]);
        assert.deepEqual(
          results.map((r) => [r.stepId, r.status, r.output]),
          [
            ['r1', 'success', 'facts on tides'],
            ['r2', 'success', 'facts on winds'],
            ['w', 'success', 'facts on tides + facts on winds'],
          ],
        );
        // Each ran where its agent is, and the orchestrator holds a copy of every result (`logs show` finds it).
        for (const r of results) assert.ok(await orchestrator.logged(r.resultId), r.stepId);
        assert.ok(await researchers.logged(results[0]?.resultId ?? ''));
        assert.ok(await writers.logged(results[2]?.resultId ?? ''));
        assert.equal(await researchers.logged(results[2]?.resultId ?? ''), false);
      } finally {
        await orchestrator.mesh.stop();
        await writers.mesh.stop();
        await researchers.mesh.stop();
        await transport.close();
      }
    });

    test('a node that stops mid-step hands it back; a node that joined meanwhile runs it', async () => {
      let calls = 0;
      server.respond('vllm', () => {
        calls++;
        // The first node's model call outlasts its stop; the second node's answers at once.
        return reply("const result: string = 'done';", calls === 1 ? 5_000 : 0);
      });
      const first = await node((m) => m.add(Researcher), { MESH_STOP_MODE: 'cancel' });
      const orchestrator = await node(() => undefined);
      let second: Node | null = null;
      try {
        const run = orchestrator.mesh.workflow('handover', [{ id: 'r', agent: 'researcher', task: 'Research tides' }]);
        await waitFor(() => calls === 1, 'the first node to start the step');
        second = await node((m) => m.add(Researcher));
        await first.mesh.stop();
        const [step] = await run;
        assert.equal(step?.status, 'success', step?.error ?? '');
        assert.equal(calls, 2);
        assert.ok(await second.logged(step?.resultId ?? ''), 'the second node ran it');
      } finally {
        await orchestrator.mesh.stop();
        await second?.mesh.stop();
        await first.mesh.stop();
        await transport.close();
      }
    });

    test('a CustomAgent step goes through the work queue: a node that stops mid-step hands it to a node that joined; the orchestrator keeps its result', async () => {
      Editor.runs = 0;
      const first = await node((m) => m.add(Editor), { MESH_STOP_MODE: 'cancel' });
      const orchestrator = await node(() => undefined);
      let second: Node | null = null;
      try {
        const run = orchestrator.mesh.workflow('edit', [
          { id: 'e', agent: 'editing', task: 'Edit the draft', context: { draft: 'tides rise' } },
        ]);
        await waitFor(() => Editor.runs === 1, 'the first node to start the step');
        second = await node((m) => m.add(Editor));
        await first.mesh.stop();
        const [step] = await run;
        assert.ok(step);
        assert.equal(step.status, 'success', step.error ?? '');
        const output = step.output as { edited: string; by: string };
        assert.equal(output.edited, 'TIDES RISE');
        assert.equal(Editor.runs, 2);
        assert.equal(step.agentId, output.by, 'the envelope names the agent that ran it');
        assert.ok(await orchestrator.logged(step.resultId), 'the orchestrator keeps a copy of the result');
      } finally {
        await orchestrator.mesh.stop();
        await second?.mesh.stop();
        await first.mesh.stop();
        await transport.close();
      }
    });

    test('cancelling the workflow cancels the step on the node running it; an agent nobody serves is refused up front', async () => {
      server.respond('vllm', () => reply("const result: string = 'late';", 10_000));
      const researchers = await node((m) => m.add(Researcher));
      const orchestrator = await node(() => undefined);
      try {
        const refused = await orchestrator.mesh
          .workflow('nobody', [{ agent: 'astronomer', task: 'Map the stars' }])
          .catch((err: unknown) => err);
        assert.ok(refused instanceof WorkflowValidationError, String(refused));
        assert.deepEqual(refused.notFound, ['astronomer']);
        const controller = new AbortController();
        const started = Date.now();
        const run = orchestrator.mesh.workflow(
          'cancelled',
          [{ id: 'r', agent: 'researcher', task: 'Research tides' }],
          {
            signal: controller.signal,
          },
        );
        await waitFor(() => server.requests('vllm').length === 1, 'the step to reach the model');
        controller.abort();
        const [step] = await run;
        assert.equal(step?.status, 'failure');
        assert.equal(step?.errorCategory, 'cancelled');
        assert.ok(Date.now() - started < 5_000, 'the node stopped the step, not the model reply');
      } finally {
        await orchestrator.mesh.stop();
        await researchers.mesh.stop();
        await transport.close();
      }
    });

    test('code verified on one node runs on another for the same task with no model call (one registry for the mesh)', async () => {
      server.respond('vllm', () => reply('const result: number = [1, 2, 3].reduce((a, b) => a + b, 0);'));
      const orchestrator = await node(() => undefined);
      const first = await node((m) => m.add(Researcher));
      let second: Node | null = null;
      try {
        const [a] = await orchestrator.mesh.workflow('sum-1', [
          { id: 's', agent: 'researcher', task: 'Sum 1, 2 and 3' },
        ]);
        assert.equal(a?.status, 'success', a?.error ?? '');
        assert.equal(a?.cached, false);
        await first.mesh.stop();
        second = await node((m) => m.add(Researcher));
        const [b] = await orchestrator.mesh.workflow('sum-2', [
          { id: 's', agent: 'researcher', task: 'Sum 1, 2 and 3' },
        ]);
        assert.equal(b?.status, 'success', b?.error ?? '');
        assert.equal(b?.output, 6);
        assert.equal(b?.cached, true, "the second node reused the first node's code");
        assert.equal(b?.functionId, a?.functionId);
        assert.equal(server.requests('vllm').length, 1, 'one model call in all');
        assert.ok(await second.logged(b?.resultId ?? ''), 'the second node ran it');
      } finally {
        await orchestrator.mesh.stop();
        await second?.mesh.stop();
        await first.mesh.stop();
        await transport.close();
      }
    });

    test("a step refused by the workflow's budget on its node stops the workflow from starting more steps", async () => {
      server.respond('vllm', () => reply("const result: string = 'paid';"));
      // A model with a price: the node's budget check can bound it.
      const researchers = await node((m) => m.add(Researcher), { LLM_MODEL: 'gpt-4o' });
      const orchestrator = await node(() => undefined);
      try {
        const results = await orchestrator.mesh.workflow(
          'budgeted',
          [
            { id: 'a', agent: 'researcher', task: 'Research tides' },
            { id: 'b', agent: 'researcher', task: 'Research winds' },
          ],
          { budgetUsd: 0.000001, concurrency: 1 },
        );
        assert.deepEqual(
          results.map((r) => [r.stepId, r.status, r.errorCategory]),
          [
            ['a', 'failure', 'budget'],
            ['b', 'skipped', 'budget'],
          ],
        );
        assert.equal(server.requests('vllm').length, 0, 'no model call was made');
      } finally {
        await orchestrator.mesh.stop();
        await researchers.mesh.stop();
        await transport.close();
      }
    });

    test('twenty steps in flight at once on one workflow: no listener-leak warning, every step done', async () => {
      const warnings: string[] = [];
      const onWarning = (warning: Error): void => {
        warnings.push(`${warning.name}: ${warning.message}`);
      };
      process.on('warning', onWarning);
      const quick = await node(
        (m) =>
          m.agent(
            {
              name: 'quick.double',
              description: 'Doubles the number in its task after a moment.',
              input: z.object({ task: z.string() }),
              output: z.object({ doubled: z.number() }),
            },
            async ({ task }) => {
              await new Promise((r) => setTimeout(r, 100));
              return { doubled: Number(task) * 2 };
            },
          ),
        { WORKER_CONCURRENCY: 20 },
      );
      const orchestrator = await node(() => undefined, { WORKER_CONCURRENCY: 20 });
      try {
        const steps = Array.from({ length: 20 }, (_, i) => ({ id: `n${i}`, agent: 'quick.double', task: String(i) }));
        const results = await orchestrator.mesh.workflow('wide', steps);
        assert.deepEqual(
          results.map((r) => (r.output as { doubled: number } | null)?.doubled),
          steps.map((_, i) => i * 2),
        );
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(
          warnings.filter((w) => w.includes('MaxListeners')),
          [],
          'a workflow signal followed by many steps warns of no leak',
        );
      } finally {
        process.off('warning', onWarning);
        await orchestrator.mesh.stop();
        await quick.mesh.stop();
        await transport.close();
      }
    });

    test("a function agent is a step: it gets the step's task and its dependencies' envelopes, its answer is the output", async () => {
      server.respond('vllm', () => reply("const result: string = 'facts';"));
      const researchers = await node((m) => m.add(Researcher));
      const tools = await node((m) =>
        m.agent(
          {
            name: 'text.shout',
            description: 'Upper-cases the research it is given.',
            input: z.object({ task: z.string(), r: z.object({ output: z.string() }) }),
            output: z.object({ text: z.string() }),
          },
          async ({ task, r }) => ({ text: `${task}: ${r.output.toUpperCase()}` }),
        ),
      );
      const orchestrator = await node(() => undefined);
      try {
        const [, shout] = await orchestrator.mesh.workflow('shout', [
          { id: 'r', agent: 'researcher', task: 'Research tides' },
          { id: 's', agent: 'text.shout', task: 'Shout it', dependsOn: ['r'] },
        ]);
        assert.equal(shout?.status, 'success', shout?.error ?? '');
        assert.deepEqual(shout?.output, { text: 'Shout it: FACTS' });
      } finally {
        await orchestrator.mesh.stop();
        await tools.mesh.stop();
        await researchers.mesh.stop();
        await transport.close();
      }
    });
  });
}
