// Prompts that replay: a workflow recorded with AUTOMESH_RECORD replays under AUTOMESH_REPLAY with no provider
// configured, because a dependent step's prompt describes only what its code can use of each dependency
// (status, output, error), once, and nothing that changes from run to run. Real processes; the model is the
// local wire-protocol server, reached through the real OpenAI SDK while recording and not at all on replay.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Envelope } from '../src/index.js';
import { runScript } from './helpers/run-script.js';
import { LlmServer, type ReceivedRequest, type ScriptedReply } from './llm-server/server.js';

const here = dirname(fileURLToPath(import.meta.url));
let server: LlmServer;
let dir: string;

before(async () => {
  server = await LlmServer.start();
  dir = mkdtempSync(join(tmpdir(), 'automesh-replay-'));
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function taskOf(req: ReceivedRequest): string {
  return /Task: (.*)/.exec(req.messages[0]?.content ?? '')?.[1] ?? '';
}

function reply(code: string): ScriptedReply {
  return {
    kind: 'text',
    text: `I'll read the figures from \`context\` and sum them.\n\n\`\`\`typescript\n${code}\n\`\`\`\n\nThe result is in \`result\`.`,
  };
}

/** Like a model: the regional totals work at once; the sum first reads a field that is not there, then repairs. */
function model(req: ReceivedRequest): ScriptedReply {
  const task = taskOf(req);
  if (task.includes('EU') || task.includes('US')) {
    return reply(
      'const orders: number[] = context.orders;\nresult = { region: context.stepId, revenue: orders.reduce((a, b) => a + b, 0) };',
    );
  }
  if (task.includes('Sum the regional totals')) {
    const repairing = req.messages[0]?.content.includes('Your code failed') ?? false;
    return reply(
      repairing
        ? 'const regions = [context.eu.output, context.us.output];\nresult = { revenue: regions.reduce((sum: number, r: { revenue: number }) => sum + r.revenue, 0) };'
        : 'result = { revenue: context.eu.revenue.value + context.us.revenue.value };',
    );
  }
  return { kind: 'error', status: 400, message: `test: no reply for ${JSON.stringify(task)}` };
}

/** Runs the fan-in fixture with only the given settings (no keys or endpoints leak in from this process). */
async function runFixture(env: Record<string, string>): Promise<Envelope[]> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(LLM_|VLLM_|CLAUDE_|ANTHROPIC_|AZURE_|GEMINI_|AUTOMESH_|LOG_DIRECTORY)/.test(k),
    ),
  );
  // In an empty directory: no .env there either.
  const run = await runScript(join(here, 'fixtures', 'fan-in-runner.ts'), { env: { ...clean, ...env }, cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as Envelope[];
}

test('a 3-step fan-in workflow recorded with AUTOMESH_RECORD replays with no provider and gives the same outputs', async (t) => {
  server.respond('vllm', model);
  const recording = join(dir, 'calls.jsonl');
  const recorded = await runFixture({
    LLM_ENDPOINT: server.url,
    LLM_MODEL: 'qwen2.5-coder',
    AUTOMESH_RECORD: recording,
    LOG_DIRECTORY: join(dir, 'recorded'),
  });
  assert.deepEqual(
    recorded.map((e) => [e.stepId, e.status, e.output]),
    [
      ['eu', 'success', { region: 'eu', revenue: 150 }],
      ['us', 'success', { region: 'us', revenue: 125 }],
      ['total', 'success', { revenue: 275 }],
    ],
  );
  assert.equal(recorded[2]?.repairs, 1, 'the dependent step was repaired, so the repair prompt is replayed too');
  assert.equal(readFileSync(recording, 'utf8').trim().split('\n').length, 4);
  const calls = server.requests('vllm').length;

  const replayed = await runFixture({ AUTOMESH_REPLAY: recording, LOG_DIRECTORY: join(dir, 'replayed') });
  assert.equal(server.requests('vllm').length, calls, 'the replay made no network call');
  assert.deepEqual(
    replayed.map((e) => [e.stepId, e.status, e.output, e.error]),
    recorded.map((e) => [e.stepId, e.status, e.output, e.error]),
  );

  // What the dependent step's prompt says of its dependencies: what code can use, once, nothing volatile.
  const prompt = server.requests('vllm').find((r) => taskOf(r).includes('Sum the regional totals'))?.system ?? '';
  assert.doesNotMatch(prompt, /executionTime|resultId|agentId|attempts|durationMs|costUsd|tokens/);
  assert.equal(prompt.match(/revenue: number 150/g)?.length, 1, 'each dependency is described once');
  assert.match(
    prompt,
    /eu: \{\n {4}status: string "success"\n {4}output: \{\n {6}region: string "eu"\n {6}revenue: number 150\n {4}\}\n {4}error: null\n {2}\}/,
  );
  assert.match(
    prompt,
    /`context\.eu` and `context\.us` are the results of the steps this one depends on, also under `context\.previousStepResults`/,
  );

  const leafInput = recorded[0]?.attempts[0]?.tokens.input ?? 0;
  const dependentInput = recorded[2]?.attempts[0]?.tokens.input ?? 0;
  t.diagnostic(`input tokens of the first call: leaf step ${leafInput}, dependent step ${dependentInput}`);
  assert.ok(
    dependentInput < leafInput * 2,
    `the dependent step's prompt (${dependentInput} tokens) stays near a leaf's (${leafInput})`,
  );
});
