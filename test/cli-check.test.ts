// `automesh check` and `automesh smoketest`, driven as a user runs them: the built CLI (dist/, after
// `npm run build`) in a subprocess with a scrubbed environment and a temporary working directory, talking over
// HTTP to the local wire-protocol server standing in for the providers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { maskSecret } from '../src/config/settings.js';
import { databasePath, openSqliteStorage, type Storage } from '../src/storage/index.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer, type ScriptedReply } from './llm-server/server.js';

/** Reads what a run stored in the database under `logDir`. */
async function withStored(logDir: string, read: (storage: Storage) => Promise<void>): Promise<void> {
  const storage = openSqliteStorage(databasePath(logDir));
  try {
    await read(storage);
  } finally {
    await storage.close();
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliPath = join(root, 'dist', 'src', 'cli', 'main.js');

const KEYS = {
  claude: 'sk-ant-check-test-key-0123456789abcdef',
  vllm: 'vllm-check-test-key-0123456789abcdef',
  azure: 'azure-check-test-key-0123456789abcdef',
  gemini: 'gemini-check-test-key-0123456789abcdef',
};

let server: LlmServer;

before(async () => {
  assert.ok(existsSync(cliPath), `${cliPath} is missing: run npm run build first (npm test does)`);
  server = await LlmServer.start();
});

after(() => server.close());

beforeEach(() => server.reset());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together. */
  all: string;
}

/** Runs the built CLI with only PATH, HOME and `env`, in `cwd` (a fresh temp dir by default). */
function cli(args: string[], env: Record<string, string> = {}, cwd = tempDir('cli-check')): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      {
        cwd,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
        resolve({ code, stdout, stderr, all: `${stdout}\n${stderr}` });
      },
    );
  });
}

const claudeEnv = (): Record<string, string> => ({
  LLM_PROVIDER_ORDER: 'claude',
  CLAUDE_API_KEY: KEYS.claude,
  CLAUDE_ENDPOINT: server.anthropicBaseUrl,
  LLM_TIMEOUT: '5',
});

const allFour = (): Record<string, string> => ({
  CLAUDE_API_KEY: KEYS.claude,
  CLAUDE_ENDPOINT: server.anthropicBaseUrl,
  LLM_ENDPOINT: server.url,
  LLM_MODEL: 'qwen2.5-coder-32b-instruct',
  LLM_API_KEY: KEYS.vllm,
  AZURE_API_KEY: KEYS.azure,
  AZURE_ENDPOINT: server.azureEndpoint,
  GEMINI_API_KEY: KEYS.gemini,
  GEMINI_ENDPOINT: server.geminiBaseUrl,
  LLM_TIMEOUT: '5',
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function assertNoKeys(output: string): void {
  for (const [name, key] of Object.entries(KEYS))
    assert.ok(!output.includes(key), `the ${name} key appears in the output`);
}

/** A reply the way a model writes one: prose, a fenced block, a closing remark. */
function modelReply(code: string, lang = 'javascript'): ScriptedReply {
  return {
    kind: 'text',
    inputTokens: 412,
    outputTokens: 48,
    text: `Sure! Here's a short program for that:\n\n\`\`\`${lang}\n${code}\n\`\`\`\n\nThe answer is stored in \`result\`.`,
  };
}

describe('automesh check', () => {
  test('no provider: exit 1, the message lists the variables; the sandbox self-test passes', async () => {
    const r = await cli(['check']);
    assert.equal(r.code, 1, r.all);
    assert.match(r.stdout, /no LLM provider is configured/);
    for (const name of [
      'CLAUDE_API_KEY',
      'ANTHROPIC_API_KEY',
      'LLM_ENDPOINT',
      'AZURE_API_KEY',
      'AZURE_ENDPOINT',
      'GEMINI_API_KEY',
    ]) {
      assert.ok(r.stdout.includes(name), `${name} is named`);
    }
    assert.match(r.stdout, /ok\s+Node\.js \d+\.\d+\.\d+/);
    assert.match(r.stdout, /ok\s+isolated-vm runs code: result = 6 \* 7 → 42/);
    assert.match(r.stdout, /ok\s+memory limit enforced: .*memoryMb 16 → memory/);
    assert.match(r.stdout, /ok\s+time limit enforced: while \(true\) \{\} with timeoutMs 300 → timeout/);
    // Both confinements are available on the Linux machines this suite runs on (test/hostile-confinement.test.ts).
    assert.match(r.stdout, /ok\s+worker confinement, permissions: Node\.js permission model/);
    assert.match(r.stdout, /ok\s+worker confinement, network: own network namespace/);
    assert.match(r.stdout, /no \.env in /);
    assert.match(r.stdout, /Summary: 1 problem/);
    assert.match(r.stdout, /Next steps:\n\s+1\. .*CLAUDE_API_KEY/);
    assert.ok(!r.stdout.includes('\x1b['), 'no colours when stdout is not a TTY');
  });

  test('one provider: exit 0, key masked, the others not configured, next steps point at --validate-llm', async () => {
    const r = await cli(['check'], claudeEnv());
    assert.equal(r.code, 0, r.all);
    assert.match(
      r.stdout,
      new RegExp(
        `ok\\s+claude\\s+configured: model claude-sonnet-4-6, key ${escapeRegExp(maskSecret(KEYS.claude))} \\(from environment\\)`,
      ),
    );
    assert.match(r.stdout, /vllm\s+not configured, and not in LLM_PROVIDER_ORDER/);
    assert.match(r.stdout, /Summary: everything works/);
    assert.match(r.stdout, /automesh check --validate-llm/);
    assert.match(r.stdout, /automesh smoketest/);
    assertNoKeys(r.all);
  });

  test('all four with --verbose: each configured, every key masked, settings shown with their source', async () => {
    const r = await cli(['check', '--verbose'], allFour());
    assert.equal(r.code, 0, r.all);
    for (const name of ['claude', 'vllm', 'azure', 'gemini'] as const) {
      assert.match(r.stdout, new RegExp(`ok\\s+${name}\\s+configured: `));
      assert.ok(r.stdout.includes(maskSecret(KEYS[name])), `${name}'s masked key is shown`);
    }
    assert.match(r.stdout, /in use: claude → vllm → azure → gemini/);
    assert.ok(r.stdout.includes(`CLAUDE_API_KEY=${maskSecret(KEYS.claude)}  (environment)`));
    assert.match(r.stdout, /EXECUTION_TIMEOUT=300 {2}\(default\)/);
    assert.match(r.stdout, /message: Execution exceeded the memory limit of 16 MB/);
    assertNoKeys(r.all);
  });

  test('--verbose masks the NATS password and token and the credentials in NATS_URL', async () => {
    const secrets = { NATS_PASSWORD: 'nats-password-0123456789', NATS_TOKEN: 'nats-token-0123456789abc' };
    const r = await cli(['check', '--verbose'], {
      ...allFour(),
      ...secrets,
      NATS_USER: 'mesh',
      NATS_URL: 'nats://mesh:url-secret-0123@broker.example:4222',
    });
    assert.equal(r.code, 0, r.all);
    assert.ok(r.stdout.includes(`NATS_PASSWORD=${maskSecret(secrets.NATS_PASSWORD)}`), r.stdout);
    assert.ok(r.stdout.includes(`NATS_TOKEN=${maskSecret(secrets.NATS_TOKEN)}`));
    assert.match(r.stdout, /NATS_URL=nats:\/\/\[redacted\]@broker\.example:4222/);
    for (const secret of [...Object.values(secrets), 'url-secret-0123']) assert.ok(!r.all.includes(secret), secret);
  });

  test('--json prints one object with every check', async () => {
    const r = await cli(['check', '--json'], allFour());
    assert.equal(r.code, 0, r.all);
    const report = JSON.parse(r.stdout) as Record<string, unknown> & {
      checks: Array<{ section: string; id: string; status: string; message: string }>;
      providers: Array<{ name: string; configured: boolean; inOrder: boolean; key: string; model: string }>;
      sandbox: { ok: boolean; probes: Array<{ name: string; ok: boolean }> };
      nextSteps: string[];
    };
    assert.equal(report.ok, true);
    assert.deepEqual(report.problems, []);
    assert.equal((report.node as { ok: boolean }).ok, true);
    assert.deepEqual(
      report.sandbox.probes.map((p) => [p.name, p.ok]),
      [
        ['start', true],
        ['run', true],
        ['memory', true],
        ['timeout', true],
        ['recover', true],
      ],
    );
    assert.deepEqual(
      report.providers.map((p) => [p.name, p.configured, p.inOrder]),
      [
        ['claude', true, true],
        ['vllm', true, true],
        ['azure', true, true],
        ['gemini', true, true],
      ],
    );
    assert.equal(report.providers[0]?.key, maskSecret(KEYS.claude));
    assert.equal(report.validation, null);
    assert.ok(report.checks.length >= 10);
    for (const c of report.checks) {
      assert.ok(['node', 'settings', 'sandbox', 'providers', 'llm', 'storage'].includes(c.section), c.section);
      assert.ok(['ok', 'warn', 'fail', 'info', 'skip'].includes(c.status), c.status);
      assert.equal(typeof c.message, 'string');
    }
    assert.ok(report.checks.some((c) => c.id === 'storage' && c.status === 'ok'));
    assert.ok(report.nextSteps.some((s) => s.includes('smoketest')));
    assertNoKeys(r.all);
  });

  test('--validate-llm with one provider unreachable and one refusing the key: exit 1, reasons shown, the others OK', async () => {
    const port = await closedPort();
    server.script('claude', { kind: 'text', text: 'OK', inputTokens: 18, outputTokens: 1 });
    server.script('azure', {
      kind: 'error',
      status: 401,
      message: 'Access denied due to invalid subscription key or wrong API endpoint.',
    });
    server.script('gemini', { kind: 'text', text: 'OK', inputTokens: 12, outputTokens: 1 });
    const r = await cli(['check', '--validate-llm'], { ...allFour(), LLM_ENDPOINT: `http://127.0.0.1:${port}` });
    assert.equal(r.code, 1, r.all);
    assert.match(r.stdout, /ok\s+claude\s+claude-sonnet-4-6 answered in [\d.]+ m?s, 19 tokens: "OK"/);
    assert.match(r.stdout, /FAIL\s+vllm\s+qwen2\.5-coder-32b-instruct failed after .*: unreachable/);
    assert.match(r.stdout, /→ nothing answers at http:\/\/127\.0\.0\.1:\d+\/v1: check LLM_ENDPOINT/);
    assert.match(r.stdout, /FAIL\s+azure\s+gpt-4o failed after .*: auth \(HTTP 401\): Access denied/);
    assert.match(r.stdout, /→ the key was refused: check AZURE_API_KEY/);
    assert.match(r.stdout, /ok\s+gemini\s+gemini-2\.5-flash answered in/);
    assert.match(r.stdout, /Summary: 2 problems/);
    // In chain order, one tiny request each.
    const requests = server.requests();
    assert.deepEqual(
      requests.map((q) => q.provider),
      ['claude', 'azure', 'gemini'],
    );
    assert.ok(requests[0], 'the live check made no request');
    assert.equal((requests[0].body as { max_tokens?: number }).max_tokens, 16);
    assertNoKeys(r.all);

    server.reset();
    server.script('claude', { kind: 'text', text: 'OK' });
    server.script('azure', { kind: 'error', status: 401 });
    server.script('gemini', { kind: 'text', text: 'OK' });
    const j = await cli(['check', '--validate-llm', '--json'], {
      ...allFour(),
      LLM_ENDPOINT: `http://127.0.0.1:${port}`,
    });
    assert.equal(j.code, 1, j.all);
    const report = JSON.parse(j.stdout) as {
      ok: boolean;
      validation: Array<{ provider: string; ok: boolean; reason: string | null; latencyMs: number; model: string }>;
    };
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.validation.map((v) => [v.provider, v.ok, v.reason]),
      [
        ['claude', true, null],
        ['vllm', false, 'unreachable'],
        ['azure', false, 'auth'],
        ['gemini', true, null],
      ],
    );
    assert.ok(report.validation.every((v) => typeof v.latencyMs === 'number' && v.model.length > 0));
  });

  test('--validate-llm hints: an endpoint ending in /v1 and Gemini\'s 400 "API key not valid" are not "check the model"', async () => {
    server.script('gemini', { kind: 'error', status: 400, message: 'API key not valid. Please pass a valid API key.' });
    const r = await cli(['check', '--validate-llm'], {
      LLM_PROVIDER_ORDER: 'claude,gemini',
      CLAUDE_API_KEY: KEYS.claude,
      CLAUDE_ENDPOINT: `${server.anthropicBaseUrl}/v1`,
      GEMINI_API_KEY: KEYS.gemini,
      GEMINI_ENDPOINT: server.geminiBaseUrl,
      LLM_TIMEOUT: '5',
    });
    assert.equal(r.code, 1, r.all);
    assert.match(r.stdout, /FAIL\s+claude\s+claude-sonnet-4-6 failed after .*\(HTTP 404\)/);
    assert.match(
      r.stdout,
      /→ CLAUDE_ENDPOINT ends in \/v1, and the SDK adds \/v1\/messages itself: set it to the base URL without \/v1/,
    );
    assert.match(r.stdout, /FAIL\s+gemini\s+gemini-2\.5-flash failed after .*: auth \(HTTP 400\): API key not valid/);
    assert.match(r.stdout, /→ the key was refused: check GEMINI_API_KEY/);
    assert.doesNotMatch(r.stdout, /check (CLAUDE|GEMINI)_MODEL/);
    assertNoKeys(r.all);
  });

  test('.env names that look like a setting get "did you mean"; LLM_PROVIDER_ORDER=openai is the OpenAI-compatible provider', async () => {
    const dir = tempDir('cli-check');
    writeFileSync(
      join(dir, '.env'),
      `LLM_PROVIDER_ORDER=openai\nLLM_ENDPOINT=${server.url}\nLLM_TIMOUT=30\nCLAUDE_KEY=${KEYS.claude}\nMY_APP_PORT=8080\n`,
    );
    const r = await cli(['check'], {}, dir);
    assert.equal(r.code, 0, r.all);
    assert.match(
      r.stdout,
      /warn\s+\.env sets LLM_TIMOUT, which is not an automesh setting, so it is ignored: did you mean LLM_TIMEOUT\?/,
    );
    assert.match(
      r.stdout,
      /warn\s+\.env sets CLAUDE_KEY, which is not an automesh setting, so it is ignored: did you mean CLAUDE_API_KEY\?/,
    );
    assert.doesNotMatch(r.stdout, /MY_APP_PORT, which/);
    assert.match(r.stdout, /ok\s+vllm\s+configured: /);
    assert.match(r.stdout, /chain order \(LLM_PROVIDER_ORDER\): vllm; in use: vllm/);
    assertNoKeys(r.all);
    const j = await cli(['check', '--json'], {}, dir);
    const report = JSON.parse(j.stdout) as {
      envFile: { misnamed: Array<{ name: string; suggestion: string }> };
      providerOrder: string[];
    };
    assert.deepEqual(report.envFile.misnamed, [
      { name: 'LLM_TIMOUT', suggestion: 'LLM_TIMEOUT' },
      { name: 'CLAUDE_KEY', suggestion: 'CLAUDE_API_KEY' },
    ]);
    assert.deepEqual(report.providerOrder, ['vllm']);
  });

  test('a masked key does not reveal its length', async () => {
    assert.equal(maskSecret(KEYS.claude), maskSecret(`${KEYS.claude}-and-more`));
    assert.equal(maskSecret('short-key'), maskSecret('other'));
    const r = await cli(['check', '--verbose'], claudeEnv());
    assert.equal(r.code, 0, r.all);
    assert.ok(r.stdout.includes(`CLAUDE_API_KEY=${maskSecret(KEYS.claude)}  (environment)`));
    assert.doesNotMatch(r.stdout, /\d+ chars/);
  });

  test('.env in the working directory is found and loaded; the environment is empty', async () => {
    const dir = tempDir('cli-check');
    writeFileSync(
      join(dir, '.env'),
      `# my settings\nCLAUDE_API_KEY=${KEYS.claude}\nCLAUDE_ENDPOINT=${server.anthropicBaseUrl}\nLLM_PROVIDER_ORDER=claude\nMY_APP_PORT=8080\n`,
    );
    server.script('claude', { kind: 'text', text: 'OK' });
    const r = await cli(['check', '--validate-llm'], {}, dir);
    assert.equal(r.code, 0, r.all);
    assert.match(
      r.stdout,
      /ok\s+\.env found and loaded: .*\.env \(3 automesh settings; 1 other name ignored: MY_APP_PORT/,
    );
    assert.match(r.stdout, /claude\s+configured: .* \(from \.env\)/);
    assert.match(r.stdout, /ok\s+claude\s+claude-sonnet-4-6 answered/);
    assertNoKeys(r.all);
  });
});

describe('automesh smoketest', () => {
  test('passes: every stage printed with its time, a registry entry and a result file afterwards, the model really called', async () => {
    const dir = tempDir('cli-check');
    server.script('claude', modelReply('const a: number = 2;\nconst b: number = 2;\nresult = a + b;', 'typescript'));
    const r = await cli(['smoketest'], { ...claudeEnv(), LOG_DIRECTORY: 'smoke-logs' }, dir);
    assert.equal(r.code, 0, r.all);
    for (const stage of [
      'settings',
      'provider chain',
      'sandbox start',
      'code generation',
      'execution',
      'registry',
      'result log',
    ]) {
      assert.match(r.stdout, new RegExp(`ok\\s+${stage}\\s+[\\d.]+ m?s {2}`), `stage ${stage}`);
    }
    assert.match(r.stdout, /REGISTRY_REUSE is off for this task, so the model is really called/);
    assert.match(r.stdout, /code generation .*1 LLM call: claude \/ claude-sonnet-4-6, 460 tokens \(412 in, 48 out\)/);
    assert.match(r.stdout, /execution .*1 run: output 4/);
    assert.match(r.stdout, /registry .*registered (fn_[0-9a-f]{16}) .*found again by lookup/);
    assert.match(r.stdout, /PASS: the calculator agent computed 2 \+ 2 = 4/);
    assertNoKeys(r.all);

    const resultId = /automesh logs show (\S+):/.exec(r.stdout)?.[1] ?? '';
    const fnId = /registered (fn_[0-9a-f]{16})/.exec(r.stdout)?.[1] ?? '';
    assert.match(r.stdout, new RegExp(`result ${resultId} written to smoke-logs/automesh\\.db`));
    await withStored(join(dir, 'smoke-logs'), async ({ results, registry }) => {
      const stored = await results.get(resultId, 'calculator');
      assert.equal(stored?.task, 'Calculate 2 + 2');
      assert.equal(stored?.envelope.output, 4);
      assert.equal(stored?.envelope.functionId, fnId);
      assert.ok(await registry.get(fnId), 'registry entry written');
    });
    assert.equal(server.requests('claude').length, 1);

    // Again with REGISTRY_REUSE on in the settings: the smoketest still asks the model (JSON this time).
    server.reset();
    server.script('claude', modelReply('result = 2 + 2;'));
    const j = await cli(
      ['smoketest', '--json'],
      { ...claudeEnv(), LOG_DIRECTORY: 'smoke-logs', REGISTRY_REUSE: 'true' },
      dir,
    );
    assert.equal(j.code, 0, j.all);
    assert.equal(server.requests('claude').length, 1, 'the model was called despite a registered answer');
    const report = JSON.parse(j.stdout) as {
      ok: boolean;
      output: unknown;
      registryReuse: boolean;
      resultId: string;
      functionId: string;
      resultFile: string;
      failedStage: string | null;
      stages: Array<{ name: string; status: string; durationMs: number | null }>;
      llmCalls: Array<{ provider: string; model: string; tokens: { total: number } }>;
    };
    assert.equal(report.ok, true);
    assert.equal(report.output, 4);
    assert.equal(report.registryReuse, false);
    assert.equal(report.failedStage, null);
    assert.deepEqual(
      report.stages.map((s) => [s.name, s.status]),
      [
        ['settings', 'ok'],
        ['provider chain', 'ok'],
        ['sandbox start', 'ok'],
        ['code generation', 'ok'],
        ['execution', 'ok'],
        ['registry', 'ok'],
        ['result log', 'ok'],
      ],
    );
    assert.ok(report.stages.every((s) => typeof s.durationMs === 'number'));
    const registryStage = report.stages.find((s) => s.name === 'registry') as { data?: { registerMs?: unknown } };
    assert.ok(
      typeof registryStage.data?.registerMs === 'number' && registryStage.data.registerMs > 0,
      'the registration itself was timed',
    );
    assert.equal(report.llmCalls[0]?.provider, 'claude');
    assert.equal(report.llmCalls[0]?.tokens.total, 460);
    assert.equal(report.resultFile, join(dir, 'smoke-logs', 'automesh.db'), 'the database that holds the result');
    await withStored(join(dir, 'smoke-logs'), async ({ results, registry }) => {
      assert.ok(await results.get(report.resultId));
      assert.equal((await registry.list()).entries.length, 2, 'different code, two entries');
    });
  });

  test("fails usefully when the model's code is wrong four times: the code-generation stage, the last error, exit 1", async () => {
    const dir = tempDir('cli-check');
    server.script(
      'claude',
      modelReply('const [a, b] = context.numbers;\nresult = a + b;'),
      {
        kind: 'text',
        text: "You're right, `context.numbers` is missing. Here is a fix:\n\n```js\nresult = numbers.reduce((s, n) => s + n, 0);\n```",
      },
      {
        kind: 'text',
        text: 'Apologies for that. This version defines everything it uses:\n\n```javascript\nconst total = sum(2, 2);\nresult = total;\n```',
      },
      {
        kind: 'text',
        text: 'Let me try once more:\n\n```javascript\nresult = add(2, 2);\n```\n\nThis should work now.',
      },
    );
    const r = await cli(['smoketest'], { ...claudeEnv(), LOG_DIRECTORY: 'logs' }, dir);
    assert.equal(r.code, 1, r.all);
    assert.match(
      r.stdout,
      /FAIL\s+code generation .*4 LLM calls: claude \/ claude-sonnet-4-6.*the model's code failed 4 times/,
    );
    assert.match(
      r.stdout,
      /FAIL at stage "code generation": the model's code failed 4 times \(1 try \+ 3 repairs, MAX_REPAIR_ATTEMPTS=3\)\. Last error \(runtime\): ReferenceError: add is not defined/,
    );
    assert.match(r.stdout, /The last code the model wrote:\n\s+result = add\(2, 2\);/);
    assert.match(r.stdout, /try a stronger model \(set CLAUDE_MODEL/);
    const resultId = /automesh logs show (\S+):/.exec(r.stdout)?.[1] ?? '';
    assert.match(r.stdout, /skip\s+registry\s+nothing registered/);
    await withStored(join(dir, 'logs'), async ({ results, registry }) => {
      assert.equal((await results.get(resultId))?.envelope.status, 'failure', 'the failure is in the result log');
      assert.deepEqual((await registry.list()).entries, []);
    });
    assert.equal(server.requests('claude').length, 4);
    assertNoKeys(r.all);
  });

  test('no provider: fails at the provider-chain stage and says which variables to set', async () => {
    const r = await cli(['smoketest']);
    assert.equal(r.code, 1, r.all);
    assert.match(r.stdout, /FAIL\s+provider chain\s+[\d.]+ m?s {2}no LLM provider is configured/);
    assert.match(r.stdout, /skip\s+sandbox start/);
    assert.match(r.stdout, /CLAUDE_API_KEY \(or ANTHROPIC_API_KEY\)/);
    assert.match(r.stdout, /automesh check/);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
