// OpenTelemetry spans through @opentelemetry/api, recorded by the real SDK (sdk-trace-base, an in-memory exporter)
// with no context manager registered: workflow → step → task → attempt → LLM call and execution, GenAI attributes,
// content only when OTEL_RECORD_CONTENT is on (never a key), and one trace across two meshes on a real nats-server.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';
import { CustomAgent, createMemoryStorage, defineAgent, defineTool, Mesh, TRACEPARENT } from '../src/index.js';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import { useLlmSuite } from './helpers/llm-suite.js';
import { tempDir } from './helpers/temp.js';

const suite = useLlmSuite('telemetry-traces');
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);

const API_KEY = 'sk-test-0123456789abcdef-secret';

function reply(code: string): string {
  return `Here is the program:\n\n\`\`\`javascript\n${code}\n\`\`\`\n`;
}

function config(extra: Record<string, string | number | boolean> = {}) {
  return {
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: suite.server.url,
    LLM_MODEL: 'qwen2.5-coder',
    LLM_API_KEY: API_KEY,
    LLM_MAX_RETRIES: 0,
    LOG_DIRECTORY: suite.logDir,
    SANDBOX_WORKERS: 1,
    REGISTRY_REUSE: false,
    ...extra,
  };
}

const adder = defineAgent({ role: 'adder', capabilities: ['math'], systemPrompt: 'You write JavaScript.' });

function named(prefix: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name.startsWith(prefix));
}

function one(prefix: string): ReadableSpan {
  const found = named(prefix);
  assert.equal(found.length, 1, `one span ${prefix}, got ${found.map((s) => s.name).join(', ')}`);
  return found[0] as ReadableSpan;
}

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** The span's parent, its parent's parent, and so on up to the root. */
function ancestorsOf(span: ReadableSpan): ReadableSpan[] {
  const byId = new Map(exporter.getFinishedSpans().map((s) => [s.spanContext().spanId, s]));
  const chain: ReadableSpan[] = [];
  for (let at = byId.get(parentOf(span) ?? ''); at; at = byId.get(parentOf(at) ?? '')) chain.push(at);
  return chain;
}

/** Every attribute value of every span, as text. */
function allAttributeText(): string {
  return JSON.stringify(exporter.getFinishedSpans().map((s) => [s.attributes, s.events.map((e) => e.attributes)]));
}

beforeEach(() => exporter.reset());
after(() => provider.shutdown());

describe('in one process', () => {
  test('workflow → step → task → attempts → chat and execution, with GenAI and automesh attributes', async () => {
    const mesh = new Mesh({ config: config(), storage: createMemoryStorage() });
    mesh.add(adder);
    await mesh.start();
    try {
      suite.server.script(
        'vllm',
        { kind: 'text', text: reply('result = missing + 1;'), inputTokens: 120, outputTokens: 30 },
        { kind: 'text', text: reply('result = 2 + 2;'), inputTokens: 200, outputTokens: 20 },
      );
      const result = await mesh.workflow('traced', [{ id: 'sum', agent: 'adder', task: 'Add two and two' }]);
      assert.equal(result[0]?.status, 'success');
      assert.equal(result[0]?.repairs, 1);
    } finally {
      await mesh.stop();
    }
    const workflow = one('automesh.workflow');
    const step = one('automesh.step');
    const task = one('invoke_agent adder');
    const attempts = named('automesh.attempt');
    const chats = named('chat ');
    const executions = named('automesh.execute');
    assert.equal(parentOf(workflow), undefined, 'the workflow span is the root');
    assert.equal(parentOf(step), workflow.spanContext().spanId);
    assert.equal(parentOf(task), step.spanContext().spanId);
    assert.equal(attempts.length, 2);
    assert.equal(chats.length, 2);
    assert.equal(executions.length, 2);
    const traceId = workflow.spanContext().traceId;
    for (const span of exporter.getFinishedSpans()) assert.equal(span.spanContext().traceId, traceId, span.name);
    const number = (span: ReadableSpan): number => Number(span.attributes['automesh.attempt.number']);
    const [first, repair] = [...attempts].sort((a, b) => number(a) - number(b));
    assert.deepEqual(
      [first, repair].map((a) => a?.attributes['automesh.attempt.kind']),
      ['generate', 'repair'],
      'the first attempt generates, the second repairs',
    );
    for (const attempt of attempts) assert.equal(parentOf(attempt), task.spanContext().spanId);
    const attemptIds = new Set(attempts.map((a) => a.spanContext().spanId));
    for (const span of [...chats, ...executions]) assert.ok(attemptIds.has(parentOf(span) ?? ''), span.name);
    assert.equal(first?.attributes['automesh.error_category'], 'runtime');
    assert.equal(repair?.attributes['automesh.error_category'], undefined);

    const chat = chats.find((c) => c.attributes['gen_ai.usage.input_tokens'] === 120) as ReadableSpan;
    assert.ok(chat, 'the first call reports its own tokens');
    assert.equal(chat.name, 'chat qwen2.5-coder');
    assert.equal(chat.attributes['gen_ai.operation.name'], 'chat');
    assert.equal(chat.attributes['gen_ai.system'], 'vllm');
    assert.equal(chat.attributes['gen_ai.request.model'], 'qwen2.5-coder');
    assert.equal(chat.attributes['gen_ai.response.model'], 'qwen2.5-coder');
    assert.equal(chat.attributes['gen_ai.usage.output_tokens'], 30);

    assert.equal(task.attributes['gen_ai.operation.name'], 'invoke_agent');
    assert.equal(task.attributes['gen_ai.agent.name'], 'adder');
    assert.equal(task.attributes['automesh.repairs'], 1);
    assert.equal(task.attributes['automesh.cached'], false);
    assert.equal(task.attributes['automesh.status'], 'success');
    assert.equal(task.attributes['gen_ai.usage.input_tokens'], 320);
    assert.equal(workflow.attributes['automesh.workflow.succeeded'], 1);

    const text = allAttributeText();
    assert.doesNotMatch(text, /Add two and two/, 'no task text without OTEL_RECORD_CONTENT');
    assert.doesNotMatch(text, /missing \+ 1/, 'no code without OTEL_RECORD_CONTENT');
    assert.doesNotMatch(text, /sk-test/, 'never a key');
  });

  test('a registry hit is an attempt of kind registry with no chat span; a failed task carries its category', async () => {
    const mesh = new Mesh({ config: config({ REGISTRY_REUSE: true, MAX_REPAIR_ATTEMPTS: 0 }) });
    mesh.add(adder);
    await mesh.start();
    try {
      const agent = mesh.getAgent('adder');
      assert.ok(agent);
      suite.server.script('vllm', { kind: 'text', text: reply('result = 40 + 2;') });
      assert.equal((await agent.executeTask({ task: 'Forty plus two, registry test' })).status, 'success');
      exporter.reset();
      const hit = await agent.executeTask({ task: 'Forty plus two, registry test' });
      assert.equal(hit.cached, true);
      assert.equal(one('invoke_agent adder').attributes['automesh.cached'], true);
      assert.equal(one('automesh.attempt').attributes['automesh.attempt.kind'], 'registry');
      assert.equal(named('chat ').length, 0);
      assert.equal(named('automesh.execute').length, 1);

      exporter.reset();
      suite.server.script('vllm', { kind: 'text', text: reply('throw new Error("no");') });
      const failed = await agent.executeTask({ task: 'A task that fails' });
      assert.equal(failed.status, 'failure');
      const task = one('invoke_agent adder');
      assert.equal(task.attributes['automesh.error_category'], 'runtime');
      assert.equal(task.status.code, 2, 'an error status');
    } finally {
      await mesh.stop();
    }
  });

  test('OTEL_RECORD_CONTENT puts task, prompt, reply and code on spans, with the key taken out', async () => {
    const mesh = new Mesh({ config: config({ OTEL_RECORD_CONTENT: true }), storage: createMemoryStorage() });
    mesh.add(adder);
    await mesh.start();
    try {
      suite.server.script('vllm', { kind: 'text', text: reply('result = 5;') });
      const task = `Return five (the key ${API_KEY} must not be shown)`;
      assert.equal((await mesh.getAgent('adder')?.executeTask({ task }))?.status, 'success');
    } finally {
      await mesh.stop();
    }
    const taskSpan = one('invoke_agent adder');
    assert.match(String(taskSpan.attributes['automesh.task']), /^Return five \(the key \[redacted\] must not/);
    const chat = one('chat ');
    assert.match(String(chat.attributes['gen_ai.input.messages']), /Return five/);
    assert.match(String(chat.attributes['gen_ai.system_instructions']), /You write JavaScript/);
    assert.match(String(chat.attributes['gen_ai.output.messages']), /result = 5;/);
    assert.equal(one('automesh.execute').attributes['automesh.code'], 'result = 5;');
    assert.doesNotMatch(allAttributeText(), /sk-test/, 'never a key');
  });

  test("a tool's own mesh call is part of the task's trace, a child of the execution", async () => {
    const mesh = new Mesh({ config: config(), storage: createMemoryStorage() });
    const double = defineTool({
      name: 'remote.double',
      description: 'Doubles a number through a mesh call',
      input: z.tuple([z.number()]),
      run: async (n) => mesh.call('double', { n }),
    });
    mesh.add(adder, { tools: [double] });
    mesh.agent(
      { name: 'double', description: 'Doubles n', input: z.object({ n: z.number() }), output: z.number() },
      async ({ n }) => n * 2,
    );
    await mesh.start();
    try {
      suite.server.script('vllm', { kind: 'text', text: reply('result = await remote.double(21);') });
      const envelope = await mesh.getAgent('adder')?.executeTask({ task: 'Double 21 remotely' });
      assert.equal(envelope?.output, 42, envelope?.error ?? '');
    } finally {
      await mesh.stop();
    }
    const execute = one('automesh.execute');
    const call = one('mesh.call double');
    assert.equal(call.spanContext().traceId, execute.spanContext().traceId);
    assert.equal(parentOf(call), execute.spanContext().spanId);
    assert.equal(parentOf(one('mesh.serve double')), call.spanContext().spanId);
  });

  test('a CustomAgent step has its task span under the step, and its peer calls under the task', async () => {
    class Lookup extends CustomAgent {
      static override role = 'lookup';
      override async onPeerRequest(message: unknown): Promise<unknown> {
        return { found: (message as { id: number }).id };
      }
    }
    class Desk extends CustomAgent {
      static override role = 'desk';
      override async onPeerRequest(message: unknown): Promise<unknown> {
        const { task } = message as { task: string };
        if (task === 'fail') throw new Error('the desk is closed');
        return this.peers.ask('lookup', { id: 7 });
      }
    }
    const mesh = new Mesh({ config: config(), storage: createMemoryStorage() });
    mesh.add(Lookup);
    mesh.add(Desk);
    await mesh.start();
    try {
      const result = await mesh.workflow('custom-traced', [
        { id: 'ask', agent: 'desk', task: 'Find seven' },
        { id: 'broken', agent: 'desk', task: 'fail' },
      ]);
      assert.deepEqual(
        result.map((r) => r.status),
        ['success', 'failure'],
      );
    } finally {
      await mesh.stop();
    }
    const tasks = named('invoke_agent desk');
    assert.equal(tasks.length, 2, 'one task span per CustomAgent step');
    const asked = tasks.find((t) => t.attributes['automesh.step_id'] === 'ask') as ReadableSpan;
    const broken = tasks.find((t) => t.attributes['automesh.step_id'] === 'broken') as ReadableSpan;
    // A CustomAgent step is served through the mesh (step → mesh.call → mesh.serve → task), here as on NATS.
    for (const task of [asked, broken]) {
      assert.deepEqual(
        ancestorsOf(task).map((s) => s.name),
        ['mesh.serve desk', 'mesh.call desk', 'automesh.step', 'automesh.workflow'],
      );
    }
    assert.equal(asked.attributes['gen_ai.agent.name'], 'desk');
    assert.equal(asked.attributes['automesh.status'], 'success');
    assert.equal(broken.attributes['automesh.error_category'], 'runtime');
    const call = named('mesh.call lookup').find((c) => c.spanContext().traceId === asked.spanContext().traceId);
    assert.ok(call, "the peer call is in the step's trace");
    assert.equal(parentOf(call), asked.spanContext().spanId, 'the peer call is a child of the task span');
    assert.doesNotMatch(allAttributeText(), /Find seven/, 'no task text without OTEL_RECORD_CONTENT');
  });

  test('telemetry: false records no span at all', async () => {
    const mesh = new Mesh({ config: config(), storage: createMemoryStorage(), telemetry: false });
    mesh.add(adder);
    await mesh.start();
    try {
      suite.server.script('vllm', { kind: 'text', text: reply('result = 1;') });
      assert.equal((await mesh.getAgent('adder')?.executeTask({ task: 'One' }))?.status, 'success');
    } finally {
      await mesh.stop();
    }
    assert.deepEqual(
      exporter.getFinishedSpans().map((s) => s.name),
      [],
    );
  });
});

describe('across two meshes on NATS', { skip: natsServerAvailable() ? false : NATS_MISSING }, () => {
  let nats: NatsServer;
  before(async () => {
    nats = await startNatsServer();
  });
  after(() => nats?.stop());

  test('a remote step and a mesh call continue the caller trace through the traceparent header', async () => {
    // Two meshes, two NATS connections: the server mesh serves the AutoAgent and a function agent, the other calls.
    const server = new Mesh({ config: config({ NATS_URL: nats.url }), storage: createMemoryStorage() });
    server.add(adder);
    server.agent(
      { name: 'echo-trace', description: 'Answers with the traceparent header it was called with', output: z.string() },
      async (ctx) => ctx.headers[TRACEPARENT] ?? 'none',
    );
    server.agent(
      { name: 'relay', description: 'Calls echo-trace and answers with what it saw', output: z.string() },
      async () => String(await server.call('echo-trace')),
    );
    server.agent({ name: 'refuses', description: 'Always fails', output: z.string() }, async () => {
      throw new Error('refused on purpose');
    });
    const caller = new Mesh({ config: config({ NATS_URL: nats.url }), storage: createMemoryStorage() });
    await server.start();
    await caller.start();
    try {
      suite.server.script('vllm', { kind: 'text', text: reply('result = 6 * 7;') });
      const result = await caller.workflow('remote', [{ id: 'mul', agent: 'adder', task: 'Six times seven' }]);
      assert.equal(result[0]?.status, 'success', result[0]?.error ?? '');

      const workflow = one('automesh.workflow');
      const step = one('automesh.step');
      const call = one('mesh.call adder');
      const serve = one('mesh.serve adder');
      const task = one('invoke_agent adder');
      const traceId = workflow.spanContext().traceId;
      for (const span of [step, call, serve, task, ...named('automesh.attempt'), ...named('chat ')])
        assert.equal(span.spanContext().traceId, traceId, `${span.name} is in the workflow's trace`);
      assert.equal(parentOf(call), step.spanContext().spanId);
      assert.equal(parentOf(serve), call.spanContext().spanId, 'the served request is a child of the call');
      assert.equal(serve.parentSpanContext?.isRemote, true, 'its parent came over the wire');
      assert.equal(parentOf(task), serve.spanContext().spanId);

      // The header itself, as a function agent of the other mesh received it: the call span's ids.
      const seen = String(await caller.call('echo-trace'));
      const callSpan = one('mesh.call echo-trace');
      assert.equal(seen, `00-${callSpan.spanContext().traceId}-${callSpan.spanContext().spanId}-01`);
      assert.equal(parentOf(one('mesh.serve echo-trace')), callSpan.spanContext().spanId);

      // A request answered with an error fails both sides' spans, with the mesh's error code.
      await assert.rejects(caller.call('refuses'), /refused on purpose/);
      const refusedServe = one('mesh.serve refuses');
      assert.equal(refusedServe.status.code, 2);
      assert.equal(refusedServe.attributes['error.type'], 'handler_error');
      assert.match(refusedServe.status.message ?? '', /^handler_error: .*refused on purpose/);
      assert.equal(one('mesh.call refuses').status.code, 2);

      // A caller's unsampled trace (flags 00) records nothing here, and still travels on to the next call.
      exporter.reset();
      const unsampled = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-00`;
      const relayed = String(await caller.call('relay', undefined, { headers: { [TRACEPARENT]: unsampled } }));
      assert.match(relayed, new RegExp(`^00-${'ab'.repeat(16)}-[0-9a-f]{16}-00$`), relayed);
      assert.deepEqual(
        exporter.getFinishedSpans().map((span) => span.name),
        ['mesh.call relay'],
        'only the test caller span (a root: its header was replaced by the explicit one) is recorded',
      );
    } finally {
      await caller.stop();
      await server.stop();
    }
  });

  test('distributed mode: a step taken from the work queue by another node continues the step span', async () => {
    const distributed = (extra: Record<string, string | number> = {}) =>
      config({ NATS_URL: nats.url, LOG_DIRECTORY: tempDir('telemetry-distributed'), STEP_ACK_WAIT: 1, ...extra });
    const worker = new Mesh({ mode: 'distributed', config: distributed() });
    worker.add(adder);
    const orchestrator = new Mesh({ mode: 'distributed', config: distributed() });
    await worker.start();
    await orchestrator.start();
    try {
      suite.server.script('vllm', { kind: 'text', text: reply('result = 8 * 8;') });
      const result = await orchestrator.workflow('dispatched', [{ id: 'sq', agent: 'adder', task: 'Eight squared' }]);
      assert.equal(result[0]?.status, 'success', result[0]?.error ?? '');
      const step = one('automesh.step');
      const task = one('invoke_agent adder');
      assert.equal(named('mesh.call').length, 0, 'the step went through the work queue, not a mesh call');
      assert.equal(task.spanContext().traceId, step.spanContext().traceId);
      assert.equal(parentOf(task), step.spanContext().spanId, 'the task is a child of the orchestrator step');
      assert.equal(task.parentSpanContext?.isRemote, true, 'its parent came in the step job');
      assert.equal(parentOf(step), one('automesh.workflow').spanContext().spanId);
    } finally {
      await orchestrator.stop();
      await worker.stop();
    }
  });
});
