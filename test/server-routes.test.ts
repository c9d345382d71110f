// The HTTP service over real HTTP (fetch against a listening server, serveMesh): tasks for an AutoAgent (by role
// and by capability) and a CustomAgent, workflows started, read back and followed live as server-sent events,
// /health, and bad input: unknown agent (404 naming the agents), an agent that takes no tasks, bodies that do not
// fit (400 with the issues and an example), not JSON (400, 415), too large (413, declared or streamed), a wrong
// method (405). A provider key is set throughout, and no response may show it.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { z } from 'zod';
import {
  AutoAgent,
  CustomAgent,
  connectInProcess,
  InProcessBroker,
  Mesh,
  type MeshServer,
  type PeerContext,
  serveMesh,
} from '../src/index.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer, type ReceivedRequest } from './llm-server/server.js';

const API_KEY = 'sk-serve-test-0123456789abcdefSECRET';

class CalculatorAgent extends AutoAgent {
  static override role = 'calculator';
  static override capabilities = ['math', 'calculations'];
  static override systemPrompt = 'You are a math expert. Store the answer in `result`.';
}

class Greeter extends CustomAgent {
  static override role = 'greeter';
  static override capabilities = ['greetings'];
  static override description = 'Greets whom the context names; fails on "leak".';
  override async onPeerRequest(message: unknown, ctx: PeerContext) {
    const { task, context } = message as { task: string; context: { name?: string } };
    // A handler whose error quotes a secret it should not have: the service must not pass it on.
    if (task === 'leak') throw new Error(`upstream refused key ${API_KEY}`);
    if (task === 'who') return ctx.session;
    return `Hello, ${context.name ?? 'you'}: ${task}`;
  }
}

let llm: LlmServer;
let broker: InProcessBroker;
let mesh: Mesh;
let server: MeshServer;
/** What the service logged. */
const logged: string[] = [];

function taskOf(req: ReceivedRequest): string {
  return /Task: (.*)/.exec(req.messages[0]?.content ?? '')?.[1] ?? '';
}

/** The scripted model: a program per task text. */
function scriptModel(): void {
  const programs: Record<string, string> = {
    'factorial of 10': 'let f = 1;\nfor (let i = 2; i <= 10; i++) f *= i;\nresult = f;',
    'Sum the digits': 'result = String(context.fact.output).split("").reduce((a, d) => a + Number(d), 0);',
  };
  llm.respond('vllm', (req) => {
    const task = taskOf(req);
    const hit = Object.entries(programs).find(([key]) => task.includes(key));
    if (hit) return { kind: 'text', text: `Here it is.\n\n\`\`\`javascript\n${hit[1]}\n\`\`\`` };
    // A provider that quotes the key it was sent in its error, as some do.
    return { kind: 'error', status: 400, message: `bad request for key ${API_KEY}` };
  });
}

before(async () => {
  llm = await LlmServer.start();
  broker = new InProcessBroker();
  mesh = new Mesh({
    bus: connectInProcess(broker),
    config: {
      LLM_PROVIDER_ORDER: 'vllm',
      LLM_ENDPOINT: llm.url,
      LLM_MODEL: 'qwen2.5-coder-32b-instruct',
      LLM_API_KEY: API_KEY,
      LLM_MAX_RETRIES: 0,
      MAX_REPAIR_ATTEMPTS: 0,
      SANDBOX_WORKERS: 1,
      LOG_DIRECTORY: tempDir('serve-routes'),
    },
  });
  mesh.add(CalculatorAgent).add(Greeter);
  mesh.agent(
    { name: 'nlp.upper', description: 'Upper-cases text.', input: z.object({ text: z.string() }) },
    async ({ text }) => text.toUpperCase(),
  );
  server = await serveMesh(mesh, { port: 0, maxBodyBytes: 64 * 1024, log: (line) => logged.push(line) });
});

after(async () => {
  await server?.close();
  await llm?.close();
});

beforeEach(() => scriptModel());

/** Every response text is checked for the key before it is parsed. */
async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${server.url}${path}`, init);
  const text = await response.text();
  assert.ok(!text.includes(API_KEY), `${method} ${path} answered with the provider key: ${text}`);
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, headers: response.headers };
}

describe('tasks', () => {
  test('an AutoAgent by role answers with its envelope; by capability too', async () => {
    const byRole = await call('POST', '/agents/calculator/tasks', { task: 'Calculate the factorial of 10' });
    assert.equal(byRole.status, 200, JSON.stringify(byRole.body));
    assert.equal(byRole.body.status, 'success');
    assert.equal(byRole.body.output, 3628800);
    assert.equal(byRole.body.role, 'calculator');
    const byCapability = await call('POST', '/agents/math/tasks', {
      task: 'Calculate the factorial of 10',
      context: { why: 'again' },
    });
    assert.equal(byCapability.body.output, 3628800);
  });

  test('GET /metrics counts the tasks answered, in the Prometheus text format', async () => {
    await call('POST', '/agents/calculator/tasks', { task: 'Calculate the factorial of 10' });
    const response = await fetch(`${server.url}/metrics`);
    const text = await response.text();
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    assert.ok(!text.includes(API_KEY));
    const tasks = text
      .split('\n')
      .filter((line) => line.startsWith('automesh_tasks_total{') && line.includes('agent="calculator"'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    assert.ok(tasks >= 1, `tasks counted for calculator:\n${text.slice(0, 2000)}`);
  });

  test('a CustomAgent runs the task as a step does and answers with an envelope', async () => {
    const { status, body } = await call('POST', '/agents/greeter/tasks', { task: 'welcome', context: { name: 'Ada' } });
    assert.equal(status, 200);
    assert.equal(body.status, 'success');
    assert.equal(body.output, 'Hello, Ada: welcome');
    assert.equal(body.stepId, undefined);
  });

  test('a session given with the task reaches the agent as ctx.session', async () => {
    const { body } = await call('POST', '/agents/greeter/tasks', {
      task: 'who',
      session: { id: 'user-7', metadata: { plan: 'pro' } },
    });
    assert.deepEqual(body.output, { id: 'user-7', metadata: { plan: 'pro' } });
    const bad = await call('POST', '/agents/greeter/tasks', { task: 'who', session: { id: '' } });
    assert.match(String(bad.body.message), /session\.id: session\.id must not be empty/);
  });

  test('a provider error and a handler error that quote the key reach the client redacted', async () => {
    const model = await call('POST', '/agents/calculator/tasks', { task: 'Something the model refuses' });
    assert.equal(model.body.status, 'failure');
    const custom = await call('POST', '/agents/greeter/tasks', { task: 'leak' });
    assert.equal(custom.body.status, 'failure');
    assert.match(String(custom.body.error), /upstream refused key \[redacted\]/);
  });

  test('an unknown agent is 404 naming the agents that take tasks; a function agent is refused', async () => {
    const unknown = await call('POST', '/agents/painter/tasks', { task: 'Paint' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'not_found');
    assert.match(String(unknown.body.message), /No agent "painter".*calculator \(math, calculations\).*greeter/);
    const fn = await call('POST', '/agents/nlp.upper/tasks', { task: 'Shout' });
    assert.equal(fn.status, 400);
    assert.equal(fn.body.error, 'not_a_task_agent');
    assert.match(String(fn.body.message), /"nlp\.upper" takes no tasks \(it is a function agent/);
  });

  test('a body that does not fit is 400 with each issue at its path and an example', async () => {
    const missing = await call('POST', '/agents/calculator/tasks', { context: [], extra: 1 });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_request');
    const issues = missing.body.issues as Array<{ path: string; message: string }>;
    assert.deepEqual(issues.map((i) => i.path).sort(), ['', 'context', 'task']);
    assert.match(String(missing.body.message), /task: task must be a string/);
    assert.match(String(missing.body.message), /unknown field\(s\) "extra"/);
    assert.deepEqual(Object.keys(missing.body.example as object), ['task', 'context']);
    const blank = await call('POST', '/agents/calculator/tasks', { task: '   ' });
    assert.match(String(blank.body.message), /task: task must say what the agent should do/);
  });

  test('not JSON is 400, another content type 415, no body 400', async () => {
    const broken = await call('POST', '/agents/calculator/tasks', '{"task": ');
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error, 'invalid_json');
    const text = await call('POST', '/agents/calculator/tasks', 'task=x', { 'content-type': 'text/plain' });
    assert.equal(text.status, 415);
    assert.match(String(text.body.message), /Content-Type: application\/json.*got "text\/plain"/);
    const empty = await call('POST', '/agents/calculator/tasks', '', { 'content-type': 'application/json' });
    assert.equal(empty.status, 400);
    assert.match(String(empty.body.message), /no body/);
  });

  test('a body over the limit is 413, by its declared length or as it streams; the connection still answers', async () => {
    const big = JSON.stringify({ task: 'x'.repeat(100 * 1024) });
    const declared = await call('POST', '/agents/calculator/tasks', big);
    assert.equal(declared.status, 413);
    assert.equal(declared.body.error, 'payload_too_large');
    assert.equal(declared.body.limitBytes, 64 * 1024);
    assert.match(
      String(declared.body.message),
      new RegExp(`The request body is ${Buffer.byteLength(big)} bytes, over`),
    );
    // No Content-Length: the body comes chunked, and is refused once the bytes read pass the limit.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(8 * 1024)));
        controller.close();
      },
    });
    const streamed = await fetch(`${server.url}/agents/calculator/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
    assert.equal(((await streamed.json()) as { error: string }).error, 'payload_too_large');
    assert.equal((await call('GET', '/health')).status, 200);
  });

  test("a wrong method is 405 with Allow; a path that is not the service's is 404", async () => {
    const wrong = await call('GET', '/agents/calculator/tasks');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
    assert.equal((await call('GET', '/nowhere')).status, 404);
  });
});

/** Reads a server-sent event stream to its end: each event's id, name and data. */
interface StreamedEvent {
  id: number;
  event: string;
  data: { stepId?: string; envelope?: { output: unknown } };
}

async function readEvents(response: Response): Promise<StreamedEvent[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.includes('event: '))
    .map((block) => {
      const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(block)?.[1] ?? '';
      return {
        id: Number(field('id')),
        event: field('event'),
        data: JSON.parse(field('data')) as StreamedEvent['data'],
      };
    });
}

describe('workflows', () => {
  const steps = [
    { id: 'fact', agent: 'calculator', task: 'Calculate the factorial of 10' },
    { id: 'digits', agent: 'math', task: 'Sum the digits of the factorial', dependsOn: ['fact'] },
  ];

  test('POST starts one (202); its events stream live to the end; GET shows each step and the summary', async () => {
    // The model answers the second step only once the client follows the stream: the events are seen live.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const programs = llm;
    programs.respond('vllm', async (req) => {
      if (taskOf(req).includes('Sum the digits')) await held;
      return {
        kind: 'text',
        text: taskOf(req).includes('Sum the digits')
          ? '```javascript\nresult = String(context.fact.output).split("").reduce((a, d) => a + Number(d), 0);\n```'
          : '```javascript\nlet f = 1;\nfor (let i = 2; i <= 10; i++) f *= i;\nresult = f;\n```',
      };
    });
    const started = await call('POST', '/workflows', { id: 'calc-http', steps, fresh: true });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.deepEqual(started.body, {
      id: 'calc-http',
      status: 'running',
      links: { self: '/workflows/calc-http', events: '/workflows/calc-http/events' },
    });
    assert.equal(started.headers.get('location'), '/workflows/calc-http');
    const stream = await fetch(`${server.url}/workflows/calc-http/events`);
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    const running = await call('GET', '/workflows/calc-http');
    assert.equal(running.body.status, 'running');
    const again = await call('POST', '/workflows', { id: 'calc-http', steps });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'workflow_running');
    release();
    const events = await readEvents(stream);
    const names = events.map((e) => `${e.event}${e.data.stepId ? ` ${e.data.stepId}` : ''}`);
    assert.deepEqual(names, [
      'workflow:started',
      'step:started fact',
      'step:finished fact',
      'step:started digits',
      'step:finished digits',
      'workflow:finished',
    ]);
    assert.deepEqual(
      events.map((e) => e.id),
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal(events[4]?.data.envelope?.output, 27);
    const done = await call('GET', '/workflows/calc-http');
    assert.equal(done.body.status, 'finished');
    const shown = done.body.steps as Array<{ id: string; status: string; envelope: { output: unknown } }>;
    assert.deepEqual(
      shown.map((s) => [s.id, s.status, s.envelope.output]),
      [
        ['fact', 'success', 3628800],
        ['digits', 'success', 27],
      ],
    );
    assert.equal((done.body.summary as { succeeded: number }).succeeded, 2);
    // A client that reconnects with Last-Event-ID gets only what came after.
    const resumed = await readEvents(
      await fetch(`${server.url}/workflows/calc-http/events`, { headers: { 'last-event-id': '4' } }),
    );
    assert.deepEqual(
      resumed.map((e) => e.event),
      ['step:finished', 'workflow:finished'],
    );
  });

  test('wait: true answers when it ended, with its state; a step that fails makes it "failed"', async () => {
    const { status, body } = await call('POST', '/workflows', {
      steps: [{ agent: 'greeter', task: 'leak' }],
      wait: true,
    });
    assert.equal(status, 200);
    assert.match(String(body.id), /^wf-/);
    assert.equal(body.status, 'failed');
    const [step] = body.steps as Array<{ status: string; envelope: { error: string } }>;
    assert.equal(step?.status, 'failure');
    assert.match(step?.envelope.error ?? '', /\[redacted\]/);
  });

  test('invalid workflows are 400 with every problem; unknown ids 404; a bad id 400', async () => {
    const invalid = await call('POST', '/workflows', {
      steps: [
        { id: 'a', agent: 'painter', task: 'Paint' },
        { id: 'b', agent: 'calculator', task: 'Add', dependsOn: ['zzz'] },
      ],
    });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error, 'invalid_workflow');
    assert.equal((invalid.body.problems as string[]).length, 2);
    assert.deepEqual(invalid.body.notFound, ['painter']);
    const shape = await call('POST', '/workflows', { steps: [] });
    assert.match(String(shape.body.message), /steps: steps must have at least one step/);
    assert.ok(shape.body.example);
    assert.equal((await call('GET', '/workflows/never-ran')).status, 404);
    assert.equal((await call('GET', '/workflows/never-ran/events')).status, 404);
    assert.equal((await call('GET', '/workflows/..bad')).status, 400);
  });
});

test('the studio is served under /studio/: its page, and a workflow run through the service in its API', async () => {
  const run = await call('POST', '/workflows', {
    id: 'studio-seen',
    steps: [{ id: 'fact', agent: 'calculator', task: 'Calculate the factorial of 10' }],
    wait: true,
  });
  assert.equal(run.body.status, 'finished', JSON.stringify(run.body));
  const page = await fetch(`${server.url}/studio/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await page.text(), /<script/);
  const bare = await fetch(`${server.url}/studio`, { redirect: 'manual' });
  assert.equal(bare.status, 308);
  assert.equal(bare.headers.get('location'), '/studio/');
  const graph = await fetch(`${server.url}/studio/api/workflows/studio-seen`);
  const text = await graph.text();
  assert.equal(graph.status, 200, text);
  assert.ok(!text.includes(API_KEY));
  assert.match(text, /"fact"/);
  assert.match(text, /"calculator"/);
  const listed = await (await fetch(`${server.url}/studio/api/workflows`)).text();
  assert.match(listed, /studio-seen/);
});

test('GET /health: node, transport, connection, peers and the last errors, with no secret in them', async () => {
  const { status, body } = await call('GET', '/health');
  assert.equal(status, 200);
  assert.equal(body.status, 'ok');
  assert.equal((body.transport as { kind: string }).kind, 'in-process');
  assert.equal((body.connection as { state: string }).state, 'connected');
  assert.ok((body.node as { instanceId: string }).instanceId.length > 0);
  assert.deepEqual((body.peers as Array<{ name: string }>).map((p) => p.name).sort(), [
    'calculator',
    'greeter',
    'nlp.upper',
  ]);
  assert.ok(Array.isArray(body.lastErrors));
  // A problem the mesh survives is kept for /health and logged as it happens, the key in it redacted in both.
  mesh.emit('warning', { kind: 'mesh', message: `the catalog entry of x quoted ${API_KEY}` });
  const after = await call('GET', '/health');
  const last = (after.body.lastErrors as Array<{ at: string; message: string }>).at(-1);
  assert.equal(last?.message, 'the catalog entry of x quoted [redacted]');
  assert.match(logged.at(-1) ?? '', /^automesh serve: the catalog entry of x quoted \[redacted\]$/);
});
