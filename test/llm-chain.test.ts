// The provider chain over real HTTP: the official SDKs against the local wire-protocol server
// (test/llm-server), with scripted replies and faults.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  createCodeModel,
  LlmAbortError,
  LlmChain,
  LlmChainError,
  loadSettings,
  NoProviderError,
  type ProviderName,
  ReplayMissError,
  resetCooldowns,
  type Settings,
} from '../src/index.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer } from './llm-server/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const KEYS = {
  claude: 'sk-ant-test-claude-key-0123456789',
  vllm: 'vllm-test-key-0123456789',
  azure: 'azure-test-key-0123456789abcdef',
  gemini: 'gemini-test-key-0123456789',
};

let server: LlmServer;

before(async () => {
  server = await LlmServer.start();
});

after(() => server.close());

beforeEach(() => {
  server.reset();
  resetCooldowns();
});

afterEach(() => server.reset());

/** Settings pointing the given providers, in that order, at the local server. */
function settingsFor(order: ProviderName[], extra: Record<string, string> = {}): Settings {
  const env: Record<string, string> = {
    LLM_PROVIDER_ORDER: order.join(','),
    LLM_TIMEOUT: '5',
    LLM_MAX_RETRIES: '2',
    LLM_COOLDOWN: '30',
  };
  if (order.includes('claude')) {
    Object.assign(env, {
      CLAUDE_API_KEY: KEYS.claude,
      CLAUDE_ENDPOINT: server.anthropicBaseUrl,
      CLAUDE_MODEL: 'claude-sonnet-4-6',
    });
  }
  if (order.includes('vllm')) {
    Object.assign(env, { LLM_ENDPOINT: server.url, LLM_MODEL: 'qwen2.5-coder-32b', LLM_API_KEY: KEYS.vllm });
  }
  if (order.includes('azure')) {
    Object.assign(env, { AZURE_API_KEY: KEYS.azure, AZURE_ENDPOINT: server.azureEndpoint, AZURE_DEPLOYMENT: 'gpt-4o' });
  }
  if (order.includes('gemini')) {
    Object.assign(env, {
      GEMINI_API_KEY: KEYS.gemini,
      GEMINI_ENDPOINT: server.geminiBaseUrl,
      GEMINI_MODEL: 'gemini-2.5-flash',
    });
  }
  return loadSettings({ env: { ...env, ...extra }, envFile: false });
}

function chainFor(order: ProviderName[], extra: Record<string, string> = {}): LlmChain {
  return new LlmChain(settingsFor(order, extra), { backoff: { baseMs: 20 } });
}

const SYSTEM = 'You are a math expert. Store the answer in `result`.';
const ask = (content = 'Calculate the factorial of 10') => ({
  system: SYSTEM,
  messages: [{ role: 'user' as const, content }],
});
const CODE_REPLY =
  'Here is the code:\n\n```javascript\nlet f = 1;\nfor (let i = 2; i <= 10; i++) f *= i;\nresult = f;\n```\n\nThis computes 10! = 3628800.';

describe('each provider over its own wire protocol', () => {
  const cases: Array<{ name: ProviderName; model: string; auth: (h: Record<string, string>) => string | undefined }> = [
    // @anthropic-ai/sdk 1.x sends the key as a Bearer token; earlier versions used x-api-key.
    {
      name: 'claude',
      model: 'claude-sonnet-4-6',
      auth: (h) => h['x-api-key'] ?? h.authorization?.replace(/^Bearer /, ''),
    },
    { name: 'vllm', model: 'qwen2.5-coder-32b', auth: (h) => h.authorization?.replace(/^Bearer /, '') },
    { name: 'azure', model: 'gpt-4o', auth: (h) => h['api-key'] },
    { name: 'gemini', model: 'gemini-2.5-flash', auth: (h) => h['x-goog-api-key'] },
  ];
  for (const { name, model, auth } of cases) {
    test(`${name}: success, with what the server received`, async () => {
      server.script(name, { kind: 'text', text: CODE_REPLY, inputTokens: 120, outputTokens: 45 });
      const reply = await chainFor([name]).complete(ask());
      assert.equal(reply.text, CODE_REPLY);
      assert.equal(reply.provider, name);
      assert.equal(reply.finishReason, 'stop');
      assert.deepEqual(reply.tokens, { input: 120, output: 45, total: 165 });
      assert.equal(reply.failures.length, 0);
      assert.ok(reply.durationMs > 0);
      const [received, ...rest] = server.requests(name);
      assert.equal(rest.length, 0, 'exactly one request');
      assert.ok(received);
      assert.equal(received.system, SYSTEM);
      assert.equal(received.model, model);
      assert.equal(received.messages.at(-1)?.content, 'Calculate the factorial of 10');
      assert.equal(auth(received.headers), KEYS[name], "the key went in the provider's own auth header");
    });
  }

  test('vllm: /v1 is added to LLM_ENDPOINT when missing, and kept when present', async () => {
    server.script('vllm', { kind: 'text', text: 'result = 1' }, { kind: 'text', text: 'result = 2' });
    await chainFor(['vllm']).complete(ask());
    await chainFor(['vllm'], { LLM_ENDPOINT: `${server.url}/v1` }).complete(ask());
    assert.deepEqual(
      server.requests('vllm').map((r) => r.path),
      ['/v1/chat/completions', '/v1/chat/completions'],
    );
  });

  test('azure: deployment URL with api-version', async () => {
    server.script('azure', { kind: 'text', text: 'result = 1' });
    await chainFor(['azure'], { AZURE_API_VERSION: '2024-10-21' }).complete(ask());
    const [r] = server.requests('azure');
    assert.equal(r?.path, '/openai/deployments/gpt-4o/chat/completions');
    assert.equal(r?.query['api-version'], '2024-10-21');
  });
});

describe('retries on the same provider', () => {
  test('429 with Retry-After: waits as asked, then succeeds', async () => {
    server.script('claude', { kind: 'error', status: 429, retryAfter: '0.4' }, { kind: 'text', text: CODE_REPLY });
    const reply = await chainFor(['claude']).complete(ask());
    assert.equal(reply.provider, 'claude');
    assert.equal(server.requests('claude').length, 2);
    const [first, second] = server.requests('claude');
    assert.ok((second?.at ?? 0) - (first?.at ?? 0) >= 380, 'waited for Retry-After');
    assert.deepEqual(
      reply.failures.map((f) => [f.kind, f.status]),
      [['rate_limit', 429]],
    );
  });

  test('529 overloaded (Anthropic) is retried', async () => {
    server.script('claude', { kind: 'error', status: 529 }, { kind: 'text', text: CODE_REPLY });
    const reply = await chainFor(['claude']).complete(ask());
    assert.equal(reply.failures[0]?.kind, 'overloaded');
    assert.equal(server.requests('claude').length, 2);
  });

  test('500 is retried', async () => {
    server.script(
      'vllm',
      { kind: 'error', status: 500 },
      { kind: 'error', status: 502 },
      { kind: 'text', text: CODE_REPLY },
    );
    const reply = await chainFor(['vllm']).complete(ask());
    assert.equal(reply.provider, 'vllm');
    assert.equal(server.requests('vllm').length, 3);
  });

  test('Gemini RetryInfo is honoured', async () => {
    server.script('gemini', { kind: 'error', status: 429, retryDelay: '0.3s' }, { kind: 'text', text: CODE_REPLY });
    const reply = await chainFor(['gemini']).complete(ask());
    assert.equal(reply.provider, 'gemini');
    const [first, second] = server.requests('gemini');
    assert.ok((second?.at ?? 0) - (first?.at ?? 0) >= 280, 'waited for RetryInfo');
  });

  test('retries never multiply: LLM_MAX_RETRIES=2 means exactly 3 tries, SDK retries off', async () => {
    server.respond('claude', () => ({ kind: 'error', status: 500 }));
    await assert.rejects(chainFor(['claude']).complete(ask()), LlmChainError);
    assert.equal(server.requests('claude').length, 3);
  });

  test('a Retry-After beyond LLM_RETRY_MAX_DELAY fails over instead of waiting', async () => {
    server.script('claude', { kind: 'error', status: 429, retryAfter: '120' });
    server.script('vllm', { kind: 'text', text: CODE_REPLY });
    const started = Date.now();
    const reply = await chainFor(['claude', 'vllm'], { LLM_RETRY_MAX_DELAY: '5' }).complete(ask());
    assert.equal(reply.provider, 'vllm');
    assert.ok(Date.now() - started < 2000);
    assert.equal(server.requests('claude').length, 1);
  });
});

describe('failover', () => {
  test('401 fails over at once', async () => {
    server.script('claude', { kind: 'error', status: 401, message: 'invalid x-api-key' });
    server.script('vllm', { kind: 'text', text: CODE_REPLY });
    const reply = await chainFor(['claude', 'vllm']).complete(ask());
    assert.equal(reply.provider, 'vllm');
    assert.equal(server.requests('claude').length, 1, 'no retry of an auth failure');
    assert.deepEqual(
      reply.failures.map((f) => [f.provider, f.kind, f.status]),
      [['claude', 'auth', 401]],
    );
    assert.match(reply.failures[0]?.message ?? '', /invalid x-api-key/);
  });

  test('an unknown model (404) and a 400 fail over at once', async () => {
    server.script('azure', {
      kind: 'error',
      status: 404,
      message: 'The API deployment for this resource does not exist.',
    });
    server.script('gemini', { kind: 'error', status: 400, message: 'Invalid argument' });
    server.script('vllm', { kind: 'text', text: CODE_REPLY });
    const reply = await chainFor(['azure', 'gemini', 'vllm']).complete(ask());
    assert.equal(reply.provider, 'vllm');
    assert.deepEqual(
      reply.failures.map((f) => f.kind),
      ['model', 'bad_request'],
    );
    assert.equal(server.requests('azure').length + server.requests('gemini').length, 2);
  });

  test('a hang hits LLM_TIMEOUT, then the next provider answers', async () => {
    server.script('claude', { kind: 'hang' });
    server.script('vllm', { kind: 'text', text: CODE_REPLY });
    const started = Date.now();
    const reply = await chainFor(['claude', 'vllm'], { LLM_TIMEOUT: '0.5', LLM_MAX_RETRIES: '0' }).complete(ask());
    const took = Date.now() - started;
    assert.equal(reply.provider, 'vllm');
    assert.equal(reply.failures[0]?.kind, 'timeout');
    assert.match(reply.failures[0]?.message ?? '', /LLM_TIMEOUT/);
    assert.ok(took >= 480 && took < 2500, `took ${took} ms`);
  });

  test('a malformed body is a failure of that provider', async () => {
    server.script('vllm', { kind: 'malformed' });
    server.script('gemini', { kind: 'text', text: CODE_REPLY });
    const reply = await chainFor(['vllm', 'gemini']).complete(ask());
    assert.equal(reply.provider, 'gemini');
    assert.equal(reply.failures[0]?.kind, 'malformed');
  });

  test('an empty reply is a failure, not empty code', async () => {
    server.script('claude', { kind: 'empty' });
    server.script('azure', { kind: 'text', text: CODE_REPLY });
    const reply = await chainFor(['claude', 'azure']).complete(ask());
    assert.equal(reply.provider, 'azure');
    assert.equal(reply.failures[0]?.kind, 'empty');
  });

  test('a truncated reply (max tokens) is a failure, not half a program', async () => {
    server.script('gemini', { kind: 'text', text: '```js\nconst rows = [', finish: 'length' });
    server.script('claude', { kind: 'text', text: CODE_REPLY });
    const reply = await chainFor(['gemini', 'claude']).complete(ask());
    assert.equal(reply.provider, 'claude');
    assert.equal(reply.failures[0]?.kind, 'truncated');
    assert.match(reply.failures[0]?.message ?? '', /LLM_MAX_TOKENS/);
  });

  test('fails over through all four in order', async () => {
    server.respond('claude', () => ({ kind: 'error', status: 503 }));
    server.script('vllm', { kind: 'error', status: 401 });
    server.script('azure', { kind: 'error', status: 404 });
    server.script('gemini', { kind: 'text', text: CODE_REPLY });
    const reply = await chainFor(['claude', 'vllm', 'azure', 'gemini']).complete(ask());
    assert.equal(reply.provider, 'gemini');
    const order = server
      .requests()
      .sort((a, b) => a.at - b.at)
      .map((r) => r.provider);
    assert.deepEqual(order, ['claude', 'claude', 'claude', 'vllm', 'azure', 'gemini']);
    assert.deepEqual(
      reply.failures.map((f) => f.provider),
      ['claude', 'claude', 'claude', 'vllm', 'azure'],
    );
  });

  test('LLM_PROVIDER_ORDER changes the order', async () => {
    server.script('gemini', { kind: 'text', text: CODE_REPLY });
    const chain = chainFor(['gemini', 'claude']);
    assert.deepEqual(chain.order, ['gemini', 'claude']);
    assert.equal((await chain.complete(ask())).provider, 'gemini');
    assert.equal(server.requests('claude').length, 0);
  });

  test('all failed: one error naming every provider tried and its last error, with no key in it', async () => {
    server.script('claude', { kind: 'error', status: 401, message: 'invalid x-api-key' });
    server.respond('vllm', () => ({ kind: 'error', status: 500, message: 'CUDA out of memory' }));
    const err = await chainFor(['claude', 'vllm'])
      .complete(ask())
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(err instanceof LlmChainError);
    assert.match(err.message, /claude \(claude-sonnet-4-6\): auth 401: invalid x-api-key \(check the API key\)/);
    assert.match(err.message, /vllm \(qwen2\.5-coder-32b\): server 500: CUDA out of memory/);
    for (const key of Object.values(KEYS)) assert.ok(!err.message.includes(key));
  });

  test('a refused connection fails over at once', async () => {
    server.script('gemini', { kind: 'text', text: CODE_REPLY });
    const started = Date.now();
    const reply = await chainFor(['vllm', 'gemini'], { LLM_ENDPOINT: 'http://127.0.0.1:45999' }).complete(ask());
    assert.equal(reply.provider, 'gemini');
    assert.equal(reply.failures[0]?.kind, 'unreachable');
    assert.ok(Date.now() - started < 1000);
  });
});

describe('cooldown', () => {
  test('a dead provider is skipped on the next call, by every chain in the process', async () => {
    server.respond('claude', () => ({ kind: 'error', status: 401 }));
    server.respond('vllm', () => ({ kind: 'text', text: CODE_REPLY }));
    await chainFor(['claude', 'vllm']).complete(ask());
    assert.equal(server.requests('claude').length, 1);
    const second = await chainFor(['claude', 'vllm']).complete(ask('another task'));
    assert.equal(second.provider, 'vllm');
    assert.equal(second.failures.length, 0);
    assert.equal(server.requests('claude').length, 1, 'claude was not called again');
  });

  test('when every provider is cooling down, they are tried anyway', async () => {
    server.script('claude', { kind: 'error', status: 401 }, { kind: 'text', text: CODE_REPLY });
    await assert.rejects(chainFor(['claude']).complete(ask()), LlmChainError);
    const reply = await chainFor(['claude']).complete(ask());
    assert.equal(reply.provider, 'claude');
  });
});

describe('time', () => {
  test('an AbortSignal cancels a call in flight, with no retry and no failover', async () => {
    server.script('claude', { kind: 'hang' });
    server.script('vllm', { kind: 'text', text: CODE_REPLY });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 150);
    await assert.rejects(
      chainFor(['claude', 'vllm']).complete({ ...ask(), signal: controller.signal }),
      (err: unknown) => err instanceof LlmAbortError,
    );
    assert.ok(Date.now() - started < 1000);
    assert.equal(server.requests('vllm').length, 0);
  });

  test('an abort during a backoff wait stops it', async () => {
    server.script('claude', { kind: 'error', status: 429, retryAfter: '3' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    await assert.rejects(chainFor(['claude']).complete({ ...ask(), signal: controller.signal }), LlmAbortError);
    assert.ok(Date.now() - started < 1500);
  });

  test('no timer keeps the process alive after the work is done', async () => {
    server.script('vllm', { kind: 'hang' });
    server.script('claude', { kind: 'text', text: CODE_REPLY });
    const script = [
      "import { LlmChain, loadSettings } from './src/index.js';",
      `const settings = loadSettings({ envFile: false, env: { LLM_PROVIDER_ORDER: 'vllm,claude', LLM_TIMEOUT: '0.3', LLM_MAX_RETRIES: '0',`,
      `  LLM_ENDPOINT: '${server.url}', CLAUDE_API_KEY: 'k', CLAUDE_ENDPOINT: '${server.anthropicBaseUrl}' } });`,
      "const reply = await new LlmChain(settings).complete({ system: 's', messages: [{ role: 'user', content: 'x' }] });",
      'console.log(reply.provider, performance.now() | 0);',
    ].join('\n');
    const started = Date.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: root,
        timeout: 20_000,
      },
    );
    assert.match(stdout, /^claude /);
    // The process exits right after its work: no LLM_TIMEOUT timer (0.3 s) or cooldown is left holding it.
    const ranFor = Number(stdout.trim().split(' ')[1]);
    assert.ok(Date.now() - started - ranFor < 1500, 'process lingered after the call');
  });
});

describe('usage and cost', () => {
  test('tokens and cost from the price table', async () => {
    server.script('claude', { kind: 'text', text: CODE_REPLY, inputTokens: 1000, outputTokens: 500 });
    const reply = await chainFor(['claude']).complete(ask());
    // claude-sonnet-4-6: $3 / $15 per million tokens.
    assert.equal(reply.costUsd, (1000 * 3 + 500 * 15) / 1e6);
    assert.equal(reply.unpriced, false);
  });

  test('a dated model id finds its price', async () => {
    server.script('azure', {
      kind: 'text',
      text: CODE_REPLY,
      inputTokens: 2000,
      outputTokens: 100,
      model: 'gpt-4o-2024-08-06',
    });
    const reply = await chainFor(['azure']).complete(ask());
    assert.equal(reply.model, 'gpt-4o-2024-08-06');
    assert.equal(reply.costUsd, (2000 * 2.5 + 100 * 10) / 1e6);
  });

  test('a model with no price gives costUsd null and unpriced, never a guess', async () => {
    server.script('gemini', { kind: 'text', text: CODE_REPLY, model: 'gemini-9-ultra' });
    const reply = await chainFor(['gemini'], { GEMINI_MODEL: 'gemini-9-ultra' }).complete(ask());
    assert.equal(reply.costUsd, null);
    assert.equal(reply.unpriced, true);
  });

  test('vLLM costs 0 unless priced', async () => {
    server.script('vllm', { kind: 'text', text: CODE_REPLY, inputTokens: 5000, outputTokens: 5000 });
    const reply = await chainFor(['vllm']).complete(ask());
    assert.equal(reply.costUsd, 0);
    assert.equal(reply.unpriced, false);
  });
});

describe('record and replay', () => {
  test('record, then replay with the server stopped and no provider configured', async () => {
    const dir = tempDir('replay');
    const file = join(dir, 'calls.jsonl');
    server.script('claude', { kind: 'text', text: CODE_REPLY, inputTokens: 10, outputTokens: 20 });
    server.script('claude', { kind: 'text', text: 'result = 2 + 2', inputTokens: 5, outputTokens: 6 });
    const recording = createCodeModel(settingsFor(['claude'], { AUTOMESH_RECORD: file }));
    const first = await recording.complete(ask());
    const second = await recording.complete(ask('Calculate 2 + 2'));
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 2);
    for (const key of Object.values(KEYS)) assert.ok(!lines.join('').includes(key), 'no key recorded');
    assert.ok(!/x-api-key|authorization/i.test(lines.join('')), 'no header recorded');

    const offline = await LlmServer.start();
    await offline.close();
    const replaying = createCodeModel(loadSettings({ envFile: false, env: { AUTOMESH_REPLAY: file } }));
    assert.equal(replaying.models.length, 0);
    const again = await replaying.complete(ask('Calculate 2 + 2'));
    assert.equal(again.text, second.text);
    assert.equal(again.replayed, true);
    assert.deepEqual(again.tokens, second.tokens);
    const firstAgain = await replaying.complete(ask());
    assert.equal(firstAgain.text, first.text);
    assert.equal(firstAgain.costUsd, first.costUsd);
  });

  test('a replay miss is a loud error showing the closest recorded request', async () => {
    const dir = tempDir('replay');
    const file = join(dir, 'calls.jsonl');
    server.script('vllm', { kind: 'text', text: CODE_REPLY });
    await createCodeModel(settingsFor(['vllm'], { AUTOMESH_RECORD: file })).complete(
      ask('Calculate the factorial of 10'),
    );
    const replaying = createCodeModel(loadSettings({ envFile: false, env: { AUTOMESH_REPLAY: file } }));
    const err = await replaying.complete(ask('Calculate the factorial of 12')).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ReplayMissError);
    assert.match(err.message, /has no recorded reply for this request/);
    assert.match(err.message, /Closest recorded request/);
    assert.match(err.message, /message 1 differs at character 28: recorded "[^"]*factorial of 10"/);
  });

  test('a missing replay file says how to make one', () => {
    assert.throws(
      () => createCodeModel(loadSettings({ envFile: false, env: { AUTOMESH_REPLAY: '/nonexistent/calls.jsonl' } })),
      /no such file\. Record one first with AUTOMESH_RECORD/,
    );
  });
});

describe('settings', () => {
  test('no provider configured: the error lists the variables of each provider', () => {
    assert.throws(
      () => new LlmChain(loadSettings({ envFile: false, env: {} })),
      (err: unknown) => {
        assert.ok(err instanceof NoProviderError);
        for (const name of ['CLAUDE_API_KEY', 'LLM_ENDPOINT', 'AZURE_API_KEY', 'AZURE_ENDPOINT', 'GEMINI_API_KEY']) {
          assert.match(err.message, new RegExp(name));
        }
        return true;
      },
    );
  });

  test('a half-configured Azure is an error saying what is missing', () => {
    assert.throws(
      () => new LlmChain(loadSettings({ envFile: false, env: { AZURE_API_KEY: 'k' } })),
      /AZURE_API_KEY is set but AZURE_ENDPOINT is not/,
    );
  });

  test('precedence: default < .env < environment < explicit config', async () => {
    const { writeFileSync } = await import('node:fs');
    const dir = tempDir('settings');
    const envFile = join(dir, '.env');
    writeFileSync(envFile, 'LLM_TIMEOUT=11\nLLM_MAX_RETRIES=4\nLLM_TEMPERATURE=0.7\nCLAUDE_MODEL=from-dotenv\n');
    const s = loadSettings({
      envFile,
      env: { LLM_MAX_RETRIES: '5', LLM_TEMPERATURE: '0.9' },
      config: { LLM_TEMPERATURE: 0.1 },
    });
    assert.equal(s.LLM_TIMEOUT, 11);
    assert.equal(s.LLM_MAX_RETRIES, 5);
    assert.equal(s.LLM_TEMPERATURE, 0.1);
    assert.equal(s.CLAUDE_MODEL, 'from-dotenv');
    assert.equal(s.LLM_COOLDOWN, 30);
  });

  test('aliases: ANTHROPIC_API_KEY, VLLM_ENDPOINT, AZURE_OPENAI_KEY, AZURE_OPENAI_ENDPOINT', () => {
    const s = loadSettings({
      envFile: false,
      env: {
        ANTHROPIC_API_KEY: 'a',
        VLLM_ENDPOINT: 'http://localhost:8000',
        AZURE_OPENAI_KEY: 'z',
        AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com',
      },
    });
    assert.equal(s.CLAUDE_API_KEY, 'a');
    assert.equal(s.LLM_ENDPOINT, 'http://localhost:8000');
    assert.equal(s.AZURE_API_KEY, 'z');
    assert.equal(s.AZURE_ENDPOINT, 'https://x.openai.azure.com');
  });

  test('provider aliases in LLM_PROVIDER_ORDER: openai is the OpenAI-compatible provider (vllm), anthropic, google', () => {
    const s = loadSettings({ envFile: false, env: { LLM_PROVIDER_ORDER: 'openai, Anthropic,google,vllm' } });
    assert.deepEqual(s.LLM_PROVIDER_ORDER, ['vllm', 'claude', 'gemini']);
  });

  test('bad values fail with messages naming each setting, secrets hidden', () => {
    assert.throws(
      () =>
        loadSettings({
          envFile: false,
          env: {
            LLM_TIMEOUT: 'soon',
            LLM_PROVIDER_ORDER: 'claude,mistral',
            REGISTRY_REUSE: 'maybe',
            LLM_ENDPOINT: 'localhost:8000',
            CLAUDE_API_KEY: ' ',
          },
        }),
      (err: unknown) => {
        const message = (err as Error).message;
        assert.match(message, /LLM_TIMEOUT="soon": LLM_TIMEOUT must be a number/);
        assert.match(
          message,
          /LLM_PROVIDER_ORDER names unknown provider\(s\) mistral; use some of claude, vllm, azure, gemini \(or .*\bopenai for vllm, /,
        );
        assert.match(message, /REGISTRY_REUSE="maybe": REGISTRY_REUSE must be true or false/);
        assert.match(message, /LLM_ENDPOINT must be an http\(s\) URL/);
        assert.match(message, /CLAUDE_API_KEY=\(hidden\): CLAUDE_API_KEY must not be empty/);
        return true;
      },
    );
  });

  test('an unknown name in explicit config is an error', () => {
    assert.throws(
      () => loadSettings({ envFile: false, env: {}, config: { LLM_TIMOUT: 3 } as never }),
      /unknown setting LLM_TIMOUT in config \(did you mean LLM_TIMEOUT\?/,
    );
  });
});
