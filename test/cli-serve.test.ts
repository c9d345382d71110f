// `automesh serve` as a user runs it: the built CLI (dist/) in its own process, an agents file in a project folder,
// the model the local wire-protocol server. It refuses an exposed address without SERVE_TOKEN before loading
// anything; with the token, requests need it (401 without), a task runs over real HTTP, and SIGTERM stops the
// server and the mesh (exit 0).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { agentsProject } from './helpers/agents-project.js';
import { waitFor } from './helpers/mesh-processes.js';
import { startScript } from './helpers/run-script.js';
import { LlmServer, type ReceivedRequest } from './llm-server/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliPath = join(root, 'dist', 'src', 'cli', 'main.js');
const TOKEN = 'cli-serve-token-0123456789';
let llm: LlmServer;
let app: string;

function taskOf(req: ReceivedRequest): string {
  return /Task: (.*)/.exec(req.messages[0]?.content ?? '')?.[1] ?? '';
}

before(async () => {
  assert.ok(existsSync(cliPath), `${cliPath} is missing: run npm run build first (npm test does)`);
  llm = await LlmServer.start();
  llm.respond('vllm', (req) =>
    taskOf(req).includes('2**10')
      ? { kind: 'text', text: '```javascript\nresult = 2 ** 10;\n```' }
      : { kind: 'error', status: 400, message: 'no scripted answer' },
  );
  app = agentsProject('cli-serve', [
    "import { AutoAgent, CustomAgent } from 'automesh';",
    'export class CalculatorAgent extends AutoAgent {',
    "  static override role = 'calculator';",
    "  static override capabilities = ['math'];",
    "  static override systemPrompt = 'You are a math expert. Store the answer in `result`.';",
    '}',
    'export class Greeter extends CustomAgent {',
    "  static override role = 'greeter';",
    "  static override description = 'Greets.';",
    '  override async onPeerRequest(message: unknown) {',
    '    return `hello, ${(message as { context: { name: string } }).context.name}`;',
    '  }',
    '}',
  ]);
});

after(() => llm?.close());

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: llm.url,
    LLM_MODEL: 'qwen2.5-coder-32b-instruct',
    LLM_MAX_RETRIES: '0',
    SANDBOX_WORKERS: '1',
    LOG_DIRECTORY: join(app, 'logs'),
    ...extra,
  };
}

test('an exposed address without SERVE_TOKEN is refused at once, saying what to do', async () => {
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [cliPath, 'serve', '--host', '0.0.0.0'], { cwd: app, env: env() }, (err, _out, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
  assert.equal(code, 1);
  assert.match(stderr, /error: Refusing to listen on 0\.0\.0\.0 without SERVE_TOKEN/);
  assert.match(stderr, /hint: e\.g\. SERVE_TOKEN=\$\(openssl rand -hex 32\) automesh serve --host 0\.0\.0\.0/);
});

test('automesh serve: a task over HTTP with the token (401 without), then SIGTERM stops it', async () => {
  const { child, out, err, exited } = startScript(cliPath, { cwd: app, env: env({ SERVE_TOKEN: TOKEN }) }, [
    'serve',
    '--agents',
    './agents.ts',
    '--port',
    '0',
  ]);
  try {
    const printed = /automesh serve: (http:\/\/127\.0\.0\.1:\d+) \(\.\/agents\.ts: calculator, greeter\)/;
    await waitFor(async () => printed.test(out()) || child.exitCode !== null, 'the URL', 30_000);
    const url = (printed.exec(out()) ?? assert.fail(`no URL printed: ${out()}${err()}`))[1] as string;
    assert.equal((await fetch(`${url}/health`)).status, 401);
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const response = await fetch(`${url}/agents/calculator/tasks`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ task: 'Calculate 2**10' }),
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    assert.equal((JSON.parse(text) as { output: number }).output, 1024);
    assert.ok(!text.includes(TOKEN));
    // A CustomAgent of the file is served too.
    const greeted = await fetch(`${url}/agents/greeter/tasks`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ task: 'greet', context: { name: 'Ada' } }),
    });
    assert.equal(((await greeted.json()) as { output: string }).output, 'hello, Ada');
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err());
    assert.match(out(), /automesh serve stopped\./);
    assert.ok(!`${out()}${err()}`.includes(TOKEN), 'the token was printed');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
