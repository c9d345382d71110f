// `automesh check` reads the agents file and reports each agent's providers and models: the built CLI in a
// subprocess, in a temporary project whose agents.ts imports automesh.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LlmServer } from './llm-server/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliPath = join(root, 'dist', 'src', 'cli', 'main.js');
let app: string;

before(() => {
  assert.ok(existsSync(cliPath), `${cliPath} is missing: run npm run build first (npm test does)`);
  app = mkdtempSync(join(tmpdir(), 'automesh-check-agents-'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(root, join(app, 'node_modules', 'automesh'), 'dir');
  writeFileSync(
    join(app, 'agents.ts'),
    [
      "import { AutoAgent, defineAgent } from 'automesh';",
      'export class WriterAgent extends AutoAgent {',
      "  static override role = 'writer';",
      "  static override systemPrompt = 'You write short texts.';",
      "  static override llm = { order: ['claude' as const], models: { claude: 'claude-haiku-4-5' } };",
      '}',
      "const flash = defineAgent({ role: 'flash', systemPrompt: 'You answer fast.', llm: { order: ['vllm', 'gemini'] } });",
      "const calc = defineAgent({ role: 'calc', systemPrompt: 'You are a math expert.' });",
      'export const agents = [WriterAgent, flash, calc];',
    ].join('\n'),
  );
});

after(() => rmSync(app, { recursive: true, force: true }));

function check(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliPath, 'check', ...args],
      {
        cwd: app,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: app,
          LOG_DIRECTORY: join(app, 'logs'),
          CLAUDE_API_KEY: 'sk-ant-check-agents-0123456789',
          LLM_ENDPOINT: 'http://127.0.0.1:9',
          LLM_MODEL: 'qwen2.5-coder-7b',
          ...env,
        },
      },
      (err, stdout) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout }),
    );
  });
}

test("check reports each agent's providers and models and flags a provider that is not configured", async () => {
  const text = await check([], {});
  assert.equal(text.code, 1, text.stdout);
  assert.match(text.stdout, /Agents: providers and models/);
  assert.match(text.stdout, /writer\s+own llm: claude \(claude-haiku-4-5\)/);
  assert.match(
    text.stdout,
    /flash\s+own llm: vllm \(qwen2\.5-coder-7b\) → gemini \(gemini-2\.5-flash, NOT CONFIGURED\)/,
  );
  assert.match(text.stdout, /llm\.order names gemini, which is not configured: set GEMINI_API_KEY/);
  assert.match(text.stdout, /calc\s+chain order: claude \(claude-sonnet-4-6\) → vllm \(qwen2\.5-coder-7b\)/);

  const json = await check(['--json'], {
    GEMINI_API_KEY: 'gemini-check-agents-0123456789',
    MAX_TASK_COST_USD: '0.5',
    LLM_MODEL: 'my-finetune',
  });
  const report = JSON.parse(json.stdout) as {
    agents: { file: string; agents: Array<{ role: string; own: boolean; providers: unknown[]; problems: string[] }> };
  };
  assert.equal(report.agents.file, './agents.ts');
  const [writer, flash, calc] = report.agents.agents;
  assert.deepEqual(writer, {
    role: 'writer',
    source: 'agents[0]',
    own: true,
    problems: [],
    providers: [{ name: 'claude', model: 'claude-haiku-4-5', configured: true, priced: true }],
  });
  assert.deepEqual(flash?.providers, [
    { name: 'vllm', model: 'my-finetune', configured: true, priced: true },
    { name: 'gemini', model: 'gemini-2.5-flash', configured: true, priced: true },
  ]);
  assert.deepEqual(calc?.problems, [], 'a self-hosted vLLM model costs 0: a budget can bound it');
  assert.equal(json.code, 0, json.stdout);

  const unpriced = await check(['--json'], { MAX_TASK_COST_USD: '0.5', CLAUDE_MODEL: 'claude-experimental-9' });
  const agents = (JSON.parse(unpriced.stdout) as typeof report).agents.agents;
  assert.match(
    agents[2]?.problems[0] ?? '',
    /claude model "claude-experimental-9" has no price, so MAX_TASK_COST_USD cannot bound it/,
  );
  assert.deepEqual(agents[0]?.problems, [], 'the writer calls haiku, which has a price');
  assert.equal(unpriced.code, 1);
});

test('check --validate-llm never prints a key the provider echoes back', async () => {
  const server = await LlmServer.start();
  try {
    const key = 'sk-ant-echoed-back-by-the-provider-0123456789';
    server.script('claude', { kind: 'error', status: 401, message: `invalid x-api-key: ${key}` });
    const r = await check(['--validate-llm', '--json'], {
      LLM_PROVIDER_ORDER: 'claude',
      CLAUDE_API_KEY: key,
      CLAUDE_ENDPOINT: server.anthropicBaseUrl,
      LLM_ENDPOINT: '',
    });
    assert.equal(r.code, 1);
    assert.ok(!r.stdout.includes(key), 'the key is not printed');
    const report = JSON.parse(r.stdout) as { validation: Array<{ provider: string; message: string }> };
    assert.equal(report.validation[0]?.message, 'invalid x-api-key: [redacted]');
  } finally {
    await server.close();
  }
});
