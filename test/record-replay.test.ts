// Record and replay as model middleware: where they sit among a mesh's own model middleware, and that a replay
// never reaches the model behind it. The chain-level record/replay cases are in llm-chain.test.ts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  type AutoAgent,
  defineAgent,
  type LlmReply,
  Mesh,
  type ModelMiddleware,
  type SettingsInput,
} from '../src/index.js';
import { useLlmSuite } from './helpers/llm-suite.js';
import { tempDir } from './helpers/temp.js';

const suite = useLlmSuite('record-replay');
const TASK = 'Calculate the factorial of 5';
const REPLY =
  'Here is an iterative version:\n\n```typescript\nlet f: number = 1;\nfor (let i = 2; i <= 5; i++) f *= i;\nresult = f;\n```\n\nIt gives 120.';

/** Runs TASK on a fresh mesh with `config` and `middleware`; the replies its model middleware saw. */
async function runOnce(
  config: SettingsInput,
  middleware: ModelMiddleware[] = [],
): Promise<{ output: unknown; seen: LlmReply[] }> {
  const seen: LlmReply[] = [];
  const observe: ModelMiddleware = {
    wrapGenerate: async ({ doGenerate }) => {
      const reply = await doGenerate();
      seen.push(reply);
      return reply;
    },
  };
  const mesh = new Mesh({
    config: { LOG_DIRECTORY: tempDir('record-replay-logs'), REGISTRY_REUSE: false, ...config },
    middleware: { model: [observe, ...middleware] },
  });
  mesh.add(defineAgent({ role: 'calculator', systemPrompt: 'You are a math expert. Store the answer in `result`.' }));
  await mesh.start();
  try {
    const envelope = await (mesh.getAgent('calculator') as AutoAgent).executeTask({ task: TASK });
    assert.equal(envelope.status, 'success', envelope.error ?? '');
    return { output: envelope.output, seen };
  } finally {
    await mesh.stop();
  }
}

const live = (): SettingsInput => ({
  LLM_PROVIDER_ORDER: 'vllm',
  LLM_ENDPOINT: suite.server.url,
  LLM_MODEL: 'qwen2.5-coder',
  LLM_MAX_RETRIES: 0,
});

test("record sits inside the mesh's middleware: it records the request as the provider got it, and a replay answers it with no provider", async () => {
  const file = join(tempDir('record-replay'), 'calls.jsonl');
  const terse: ModelMiddleware = {
    wrapGenerate: ({ request, doGenerate }) => doGenerate({ ...request, system: `${request.system}\nAnswer tersely.` }),
  };
  suite.server.script('vllm', { kind: 'text', text: REPLY });
  const recorded = await runOnce({ ...live(), AUTOMESH_RECORD: file }, [terse]);
  assert.equal(recorded.output, 120);
  assert.equal(recorded.seen[0]?.replayed, false);
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { request: { system: string } });
  assert.equal(lines.length, 1);
  assert.match(
    lines[0]?.request.system ?? '',
    /\nAnswer tersely\.$/,
    'the recording holds the request the provider received',
  );
  assert.equal(suite.server.requests('vllm')[0]?.system, lines[0]?.request.system);

  const requestsBefore = suite.server.requests('vllm').length;
  const replayed = await runOnce({ AUTOMESH_REPLAY: file }, [terse]);
  assert.equal(replayed.output, 120);
  assert.equal(replayed.seen[0]?.replayed, true, "the mesh's middleware sees the replayed reply");
  assert.equal(replayed.seen[0]?.text, REPLY);
  assert.equal(suite.server.requests('vllm').length, requestsBefore, 'no request reached the server');
});

test('with AUTOMESH_REPLAY and AUTOMESH_RECORD both set, the replay answers and nothing is recorded', async () => {
  const dir = tempDir('record-replay');
  const source = join(dir, 'source.jsonl');
  const again = join(dir, 'again.jsonl');
  suite.server.script('vllm', { kind: 'text', text: REPLY });
  await runOnce({ ...live(), AUTOMESH_RECORD: source });
  const requestsBefore = suite.server.requests('vllm').length;
  const both = await runOnce({ ...live(), AUTOMESH_REPLAY: source, AUTOMESH_RECORD: again });
  assert.equal(both.output, 120);
  assert.equal(both.seen[0]?.replayed, true);
  assert.equal(suite.server.requests('vllm').length, requestsBefore, 'the provider behind the replay was not called');
  assert.ok(!existsSync(again) || readFileSync(again, 'utf8') === '', 'a replayed call is not recorded again');
});
