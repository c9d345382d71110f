// The peers as a model's tools (peer-tools.ts, `peers.asTools()` / `peers.runTool()` / `peers.cognitiveContext()`):
// each provider's exact tool shape, built from the live catalog and the contracts; running the calls a model makes
// (ask_peer on a CustomAgent and on a function agent, broadcast, list_peers, OpenAI's JSON-text arguments); bad
// input; and a peer that joins or leaves after the first call shows up or disappears.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { z } from 'zod';
import { peerTools } from '../src/agent/peer-tools.js';
import { CustomAgent, isMeshError, Mesh } from '../src/index.js';
import { connectInProcess, InProcessBroker } from '../src/transport/index.js';
import { frontAgent, running } from './helpers/front-agent.js';
import { waitFor } from './helpers/mesh-processes.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer } from './llm-server/server.js';

const Front = frontAgent('front', 'The agent whose model gets the tools.');

class Echo extends CustomAgent {
  static override role = 'echo';
  static override capabilities = ['text'];
  static override description = 'Answers with what it was sent.';
  override async onPeerRequest(message: unknown) {
    return { echoed: message };
  }
}

class Late extends CustomAgent {
  static override role = 'late';
  static override capabilities = ['late-comer'];
  static override description = 'Joins after the first call.';
}

const broker = new InProcessBroker();
const options = () => ({ bus: connectInProcess(broker), config: { LOG_DIRECTORY: tempDir('peer-tools') } });
let mesh: Mesh;

const front = () => running(Front);

before(async () => {
  mesh = new Mesh(options()).add(Front).add(Echo);
  mesh.agent(
    {
      name: 'nlp.words',
      description: 'Counts the words of a text.',
      tags: ['text', 'nlp'],
      input: z.object({ text: z.string() }),
      output: z.object({ count: z.number().int() }),
    },
    async ({ text }) => ({ count: text.split(/\s+/).filter(Boolean).length }),
  );
  await mesh.start();
});
after(() => mesh.stop());

describe('tool definitions', () => {
  test("anthropic: { name, description, input_schema }, the roles as an enum, each peer's input type in the description", async () => {
    const tools = await front().peers.asTools({ format: 'anthropic' });
    assert.deepEqual(
      tools.map((tool) => Object.keys(tool)),
      [
        ['name', 'description', 'input_schema'],
        ['name', 'description', 'input_schema'],
        ['name', 'description', 'input_schema'],
      ],
    );
    const [ask, broadcast, list] = tools;
    assert.deepEqual([ask?.name, broadcast?.name, list?.name], ['ask_peer', 'broadcast', 'list_peers']);
    assert.deepEqual(ask?.input_schema, {
      type: 'object',
      properties: {
        role: { type: 'string', enum: ['echo', 'nlp.words'], description: 'The peer to ask.' },
        message: { description: 'The message: JSON data of the type the peer takes (see the list of peers).' },
      },
      required: ['role'],
      additionalProperties: false,
    });
    assert.match(
      ask?.description ?? '',
      /- nlp\.words: Counts the words of a text\.\n {2}Capabilities: text, nlp\.\n {2}Takes: \{ text: string \}\.\n {2}Returns: \{ count: number \}\./,
    );
    assert.match(
      ask?.description ?? '',
      /- echo: Answers with what it was sent\.\n {2}Capabilities: text\.\n {2}Takes: any JSON data\./,
    );
    assert.deepEqual(broadcast?.input_schema.properties?.capability, {
      type: 'string',
      enum: ['nlp', 'text'],
      description: 'Only the peers with this capability.',
    });
  });

  test("openai: { type: 'function', function: { name, description, parameters } } with the same schemas", async () => {
    const anthropic = await front().peers.asTools({ format: 'anthropic' });
    const openai = await front().peers.asTools({ format: 'openai' });
    assert.deepEqual(
      openai.map((tool) => [tool.type, Object.keys(tool.function)]),
      anthropic.map(() => ['function', ['name', 'description', 'parameters']]),
    );
    assert.deepEqual(
      openai.map((tool) => [tool.function.name, tool.function.description, tool.function.parameters]),
      anthropic.map((tool) => [tool.name, tool.description, tool.input_schema]),
    );
  });

  test('the real SDKs send them as they are, typed as their own tool types', async () => {
    const server = await LlmServer.start();
    try {
      server.script('claude', { kind: 'text', text: 'ok' });
      server.script('vllm', { kind: 'text', text: 'ok' });
      const anthropicTools: Anthropic.Tool[] = await front().peers.asTools({ format: 'anthropic' });
      await new Anthropic({ baseURL: server.anthropicBaseUrl, apiKey: 'k', maxRetries: 0 }).messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 16,
        tools: anthropicTools,
        messages: [{ role: 'user', content: 'count the words of "a b"' }],
      });
      const openaiTools: OpenAI.Chat.Completions.ChatCompletionTool[] = await front().peers.asTools({
        format: 'openai',
      });
      await new OpenAI({ baseURL: server.openaiBaseUrl, apiKey: 'k', maxRetries: 0 }).chat.completions.create({
        model: 'qwen2.5-coder-32b-instruct',
        tools: openaiTools,
        messages: [{ role: 'user', content: 'count the words of "a b"' }],
      });
      const sent = (provider: 'claude' | 'vllm') =>
        (server.requests(provider)[0]?.body as { tools?: unknown } | undefined)?.tools;
      assert.deepEqual(sent('claude'), anthropicTools);
      assert.deepEqual(sent('vllm'), openaiTools);
    } finally {
      await server.close();
    }
  });

  test('nobody there: no empty enum (providers refuse one), and the description says so', () => {
    const [ask] = peerTools([], 'anthropic', 'front');
    assert.deepEqual(ask?.input_schema.properties?.role, {
      type: 'string',
      description: 'The peer to ask (none is on the mesh right now).',
    });
    assert.match(ask?.description ?? '', /No other agent is on the mesh right now\./);
  });

  test('bad input: an unknown format names the formats', async () => {
    const bad = await front()
      .peers.asTools({ format: 'gemini' as never })
      .catch((err: unknown) => err);
    assert.ok(isMeshError(bad, 'invalid_input'), String(bad));
    assert.match(bad.message, /unknown format "gemini"; use 'anthropic' or 'openai'/);
  });
});

describe('running tool calls', () => {
  test('ask_peer on a function agent (its schema checked) and on a CustomAgent; arguments as an object or JSON text', async () => {
    const peers = front().peers;
    assert.deepEqual(await peers.runTool('ask_peer', { role: 'nlp.words', message: { text: 'one two three' } }), {
      count: 3,
    });
    assert.deepEqual(await peers.runTool('ask_peer', '{"role":"echo","message":[1,2]}'), { echoed: [1, 2] });
    const invalid = await peers
      .runTool('ask_peer', { role: 'nlp.words', message: { words: 1 } })
      .catch((err: unknown) => err);
    assert.ok(isMeshError(invalid, 'invalid_input'), String(invalid));
  });

  test('broadcast gives { role, reply } per answer; list_peers gives the contracts', async () => {
    const peers = front().peers;
    const answers = (await peers.runTool('broadcast', { message: { text: 'a b' }, capability: 'text' })) as Array<{
      role: string;
    }>;
    assert.deepEqual(
      answers.sort((a, b) => a.role.localeCompare(b.role)),
      [
        { role: 'echo', reply: { echoed: { text: 'a b' } } },
        { role: 'nlp.words', reply: { count: 2 } },
      ],
    );
    const listed = (await peers.runTool('list_peers', { capability: 'nlp' })) as Array<Record<string, unknown>>;
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.role, 'nlp.words');
    assert.deepEqual(listed[0]?.inputSchema, {
      type: 'object',
      properties: { text: { type: 'string' } },
      required: ['text'],
    });
  });

  test('bad input: an unknown tool names the tools; arguments that are not an object or not JSON; no role; an unknown role names the peers', async () => {
    const peers = front().peers;
    const cases: Array<[string, unknown, RegExp]> = [
      ['send_email', {}, /Unknown peer tool "send_email": the peer tools are ask_peer, broadcast, list_peers\./],
      ['ask_peer', '{not json', /Bad arguments for peer tool ask_peer: the arguments are not JSON/],
      ['ask_peer', [1], /the arguments must be an object/],
      ['ask_peer', { message: 1 }, /role must be the name of a peer/],
      ['list_peers', { capability: 3 }, /capability must be a string/],
      ['ask_peer', { role: 'nobody' }, /No peer 'nobody' on the mesh; the peers there are: echo, nlp\.words/],
    ];
    for (const [name, input, message] of cases) {
      const err = await peers.runTool(name, input).catch((e: unknown) => e);
      assert.ok(isMeshError(err), `${name} ${JSON.stringify(input)}: ${String(err)}`);
      assert.match(err.message, message);
    }
  });
});

test('a peer that joins after the first call shows up in the tools and the context, and disappears when it stops', async () => {
  const peers = front().peers;
  const roles = async () => {
    const [ask] = await peers.asTools({ format: 'openai' });
    return (ask?.function.parameters.properties?.role?.enum ?? []) as string[];
  };
  assert.deepEqual(await roles(), ['echo', 'nlp.words']);
  assert.doesNotMatch(await peers.cognitiveContext(), /late/);
  const other = new Mesh(options()).add(Late);
  await other.start();
  try {
    await waitFor(async () => (await roles()).includes('late'), 'the late peer in the tools');
    assert.match(
      await peers.cognitiveContext(),
      /- late: Joins after the first call\.\n {2}Capabilities: late-comer\./,
    );
    assert.match(await peers.cognitiveContext(), /on the mesh now \(3\)/);
  } finally {
    await other.stop();
  }
  await waitFor(async () => !(await roles()).includes('late'), 'the late peer gone from the tools');
  assert.doesNotMatch(await peers.cognitiveContext(), /late/);
});
