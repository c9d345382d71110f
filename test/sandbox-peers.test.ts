// Peers inside generated code (sandbox-peers.ts), end to end: an AutoAgent allowing ['analyst', 'nlp.*'] gets a model
// reply (the real OpenAI SDK over HTTP against the scripted local LLM server) whose code calls a CustomAgent peer and
// a function agent through the sandbox's tool bridge, with the session of the request travelling along; the prompt
// describes exactly the allowed peers on the mesh; a peer it may not use is refused with the allowed list; a peer's
// failure is a catchable Error with the MeshError's code; registered code is reused only while the allowed peers'
// contracts stay the same. In one process, and across two meshes on a real nats-server.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { z } from 'zod';
import { AutoAgent, CustomAgent, type Envelope, Mesh, type PeerContext } from '../src/index.js';
import { NATS_MISSING, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import { connectInProcess, InProcessBroker } from '../src/transport/index.js';
import { frontAgent, running } from './helpers/front-agent.js';
import { waitFor } from './helpers/mesh-processes.js';
import { scriptedLlm } from './helpers/scripted-llm.js';

const llm = scriptedLlm();
const config = (extra: Record<string, string | number> = {}) =>
  llm.config('sandbox-peers', { LLM_MAX_RETRIES: 0, MAX_REPAIR_ATTEMPTS: 0, EXECUTION_TIMEOUT: 5, ...extra });

/** Every message each CustomAgent received, with the session it came in. */
const received: Array<{ role: string; message: unknown; session: unknown }> = [];

class Analyst extends CustomAgent {
  static override role = 'analyst';
  static override capabilities = ['analysis'];
  static override description = 'Analyses a question.';
  override async onPeerRequest(message: unknown, ctx: PeerContext) {
    received.push({ role: this.role, message, session: ctx.session });
    return { answer: 42, session: ctx.session };
  }
}

class Billing extends CustomAgent {
  static override role = 'billing';
  static override description = 'Bills customers (not for the planner).';
  override async onPeerRequest(message: unknown, ctx: PeerContext) {
    received.push({ role: this.role, message, session: ctx.session });
    return { billed: true };
  }
}

const Front = frontAgent('front', 'Asks the planner with a session.');

/** Allows every peer: all but itself. */
class Roamer extends AutoAgent {
  static override role = 'roamer';
  static override systemPrompt = 'You roam. Store the answer in `result`.';
  static override peers = ['*'];
}

class Planner extends AutoAgent {
  static override role = 'planner';
  static override systemPrompt = 'You plan. Store the answer in `result`.';
  static override peers = ['analyst', 'nlp.*'];
}

/** The function agents: one with schemas, one that fails. */
function addFunctionAgents(mesh: Mesh): Mesh {
  mesh.agent(
    {
      name: 'nlp.words',
      description: 'Counts the words of a text.',
      input: z.object({ text: z.string() }),
      output: z.object({ count: z.number().int() }),
    },
    async ({ text }) => ({ count: text.split(/\s+/).filter(Boolean).length }),
  );
  mesh.agent({ name: 'nlp.fail', description: 'Always fails.', input: z.object({}) }, async () => {
    throw new Error('nlp.fail failed on purpose');
  });
  return mesh;
}

const reply = (code: string) => `Here is the program:\n\n\`\`\`javascript\n${code}\n\`\`\``;

const COMPOSE = `
const analysis = await peers.ask('analyst', { question: context.question });
const words = await peers.ask('nlp.words', { text: context.question });
const listed = await peers.list();
result = { analysis, words, listed: listed.map((p) => p.role).sort() };
`;

/** The planner's code composed the analyst's answer (in the session it was asked in) and the word count. */
function assertComposed(envelope: Envelope, count: number): void {
  assert.equal(envelope.status, 'success', envelope.error ?? '');
  assert.deepEqual(envelope.output, {
    analysis: { answer: 42, session: { id: 'sess-7', metadata: { user: 'ada' } } },
    words: { count },
    listed: ['analyst', 'nlp.fail', 'nlp.words'],
  });
}

/** Asks the planner as a peer would (served request, with a session), from the Front CustomAgent. */
async function askPlanner(task: string, context: Record<string, unknown> = {}, role = 'planner'): Promise<Envelope> {
  return (await running(Front).peers.ask(
    role,
    { task, context },
    { session: { id: 'sess-7', metadata: { user: 'ada' } } },
  )) as Envelope;
}

describe('in one process', () => {
  const broker = new InProcessBroker();
  const options = () => ({ bus: connectInProcess(broker), config: config() });
  let mesh: Mesh;

  before(async () => {
    mesh = addFunctionAgents(new Mesh(options()).add(Planner).add(Roamer).add(Analyst).add(Billing).add(Front));
    await mesh.start();
  });
  after(() => mesh.stop());
  beforeEach(() => {
    llm.server.reset();
    received.length = 0;
  });

  test('generated code asks a CustomAgent and a function agent; the session of the request travels with both calls', async () => {
    llm.server.script('vllm', { kind: 'text', text: reply(COMPOSE) });
    assertComposed(
      await askPlanner('Analyse the question and count its words', { question: 'why is the sky blue' }),
      5,
    );
    assert.deepEqual(received, [
      {
        role: 'analyst',
        message: { question: 'why is the sky blue' },
        session: { id: 'sess-7', metadata: { user: 'ada' } },
      },
    ]);
  });

  test('the prompt describes exactly the allowed peers on the mesh, with what each takes and returns', async () => {
    llm.server.script('vllm', { kind: 'text', text: reply('result = 1;') });
    const envelope = await askPlanner('Return one');
    assert.equal(envelope.status, 'success', envelope.error ?? '');
    const system = llm.server.requests('vllm')[0]?.system ?? '';
    assert.match(system, /Peers: other agents on the mesh your code may ask/);
    assert.match(system, /- await peers\.ask\(role: string, message: /);
    assert.match(system, /- analyst: Analyses a question\.\n {2}Capabilities: analysis\.\n {2}Takes: any JSON data\./);
    assert.match(
      system,
      /- nlp\.words: Counts the words of a text\.\n {2}Takes: \{ text: string \}\.\n {2}Returns: \{ count: number \}\./,
    );
    assert.match(system, /- nlp\.fail: Always fails\./);
    // Agents it may not ask are not described, nor is the agent itself.
    assert.doesNotMatch(system, /billing|Bills customers|- front:|- planner:/);
    // No user tools: no "None. Do not call any function" contradicting the peers.
    assert.doesNotMatch(system, /None\. Do not call any function/);
  });

  test('a peer the agent may not use is refused with the allowed list, and never asked', async () => {
    llm.server.script('vllm', {
      kind: 'text',
      text: reply(`
try {
  await peers.ask('billing', { amount: 5 });
  result = 'asked';
} catch (e) {
  result = { name: e.name, code: e.code, message: e.message };
}`),
    });
    const envelope = await askPlanner('Bill the customer');
    assert.equal(envelope.status, 'success', envelope.error ?? '');
    const refused = envelope.output as { name: string; code: string; message: string };
    assert.equal(refused.code, 'not_allowed');
    assert.equal(refused.name, 'ToolError');
    assert.match(
      refused.message,
      /Agent "planner" may not ask peer "billing": the peers it may ask are analyst, nlp\.\*/,
    );
    assert.deepEqual(received, []);

    llm.server.script('vllm', { kind: 'text', text: reply(`result = await peers.ask('billing', {});`) });
    const uncaught = await askPlanner('Bill the customer without catching');
    assert.equal(uncaught.status, 'failure');
    assert.equal(uncaught.errorCategory, 'tool');
    assert.match(uncaught.error ?? '', /may not ask peer "billing": the peers it may ask are analyst, nlp\.\*/);

    // '*' allows every peer, but not the agent itself (a task inside its own task).
    llm.server.script('vllm', {
      kind: 'text',
      text: reply(`
const roles = (await peers.list()).map((p) => p.role).sort();
try { await peers.ask('roamer', { task: 'again' }); } catch (e) { result = { roles, code: e.code, message: e.message }; }`),
    });
    const roaming = await askPlanner('Ask yourself', {}, 'roamer');
    assert.equal(roaming.status, 'success', roaming.error ?? '');
    const self = roaming.output as { roles: string[]; code: string; message: string };
    assert.deepEqual(self.roles, ['analyst', 'billing', 'front', 'nlp.fail', 'nlp.words', 'planner']);
    assert.equal(self.code, 'not_allowed');
    assert.match(self.message, /may not ask peer "roamer": an agent is not its own peer/);
  });

  test("a peer's failure is a catchable Error carrying the MeshError code: bad input, a throwing handler, nobody serving", async () => {
    llm.server.script('vllm', {
      kind: 'text',
      text: reply(`
const caught = [];
for (const [role, message] of [['nlp.words', { words: 1 }], ['nlp.fail', {}], ['nlp.gone', {}]]) {
  try {
    await peers.ask(role, message);
  } catch (e) {
    caught.push({ role, isError: e instanceof Error, code: e.code, message: e.message });
  }
}
result = caught;`),
    });
    const envelope = await askPlanner('Try the failing peers');
    assert.equal(envelope.status, 'success', envelope.error ?? '');
    const caught = envelope.output as Array<{ role: string; isError: boolean; code: string; message: string }>;
    assert.deepEqual(
      caught.map(({ role, isError, code }) => [role, isError, code]),
      [
        ['nlp.words', true, 'invalid_input'],
        ['nlp.fail', true, 'handler_error'],
        ['nlp.gone', true, 'not_found'],
      ],
    );
    assert.match(caught[1]?.message ?? '', /nlp\.fail failed on purpose/);
    assert.match(
      caught[2]?.message ?? '',
      /No peer "nlp\.gone" is on the mesh now .*there: analyst, nlp\.fail, nlp\.words/,
    );
  });

  test('registered code is reused while the allowed peers stay; an allowed peer joining makes the code new, another agent joining does not', async () => {
    const task = 'Count the words of the question';
    const code = `result = (await peers.ask('nlp.words', { text: context.question })).count;`;
    llm.server.script('vllm', { kind: 'text', text: reply(code) });
    const first = await askPlanner(task, { question: 'a b c' });
    assert.equal(first.status, 'success', first.error ?? '');
    assert.equal(first.cached, false);
    const again = await askPlanner(task, { question: 'a b c d' });
    assert.deepEqual([again.cached, again.output], [true, 4]);

    const unrelated = new Mesh(options()).add(
      class extends CustomAgent {
        static override role = 'weather';
        static override description = 'Not a peer of the planner.';
      },
    );
    const allowed = addLanguagePeer(new Mesh(options()));
    await unrelated.start();
    try {
      await waitFor(async () => Front.self?.peers.list().some((p) => p.role === 'weather') ?? false, 'weather');
      const stillCached = await askPlanner(task, { question: 'x' });
      assert.deepEqual([stillCached.cached, stillCached.output], [true, 1]);
      await allowed.start();
      await waitFor(async () => Front.self?.peers.list().some((p) => p.role === 'nlp.lang') ?? false, 'nlp.lang');
      llm.server.script('vllm', { kind: 'text', text: reply(code) });
      const regenerated = await askPlanner(task, { question: 'x y' });
      assert.deepEqual([regenerated.cached, regenerated.output], [false, 2]);
      assert.match(llm.server.requests('vllm').at(-1)?.system ?? '', /- nlp\.lang: Tells the language of a text\./);
    } finally {
      await allowed.stop();
      await unrelated.stop();
    }
    // Gone again: the peers are those the first code was written for, and it is found again.
    await waitFor(async () => !(Front.self?.peers.list().some((p) => p.role === 'nlp.lang') ?? true), 'nlp.lang gone');
    const back = await askPlanner(task, { question: 'p q r' });
    assert.deepEqual([back.cached, back.output], [true, 3]);
  });
});

function addLanguagePeer(mesh: Mesh): Mesh {
  return mesh.agent(
    {
      name: 'nlp.lang',
      description: 'Tells the language of a text.',
      input: z.object({ text: z.string() }),
      output: z.object({ language: z.string() }),
    },
    async () => ({ language: 'en' }),
  );
}

describe('across two meshes on NATS', { skip: natsServerAvailable() ? false : NATS_MISSING }, () => {
  test("the planner's code asks peers served by another process's mesh, the session travelling along", async () => {
    llm.server.reset();
    received.length = 0;
    const nats = await startNatsServer();
    const peersMesh = addFunctionAgents(new Mesh({ config: config({ NATS_URL: nats.url }) }).add(Analyst));
    const plannerMesh = new Mesh({ config: config({ NATS_URL: nats.url }) }).add(Planner).add(Front);
    try {
      await peersMesh.start();
      await plannerMesh.start();
      await waitFor(async () => (Front.self?.peers.list().length ?? 0) === 4, 'the catalog over NATS');
      llm.server.script('vllm', { kind: 'text', text: reply(COMPOSE) });
      assertComposed(await askPlanner('Analyse over NATS', { question: 'one two' }), 2);
    } finally {
      await plannerMesh.stop();
      await peersMesh.stop();
      await nats.stop();
    }
  });
});
