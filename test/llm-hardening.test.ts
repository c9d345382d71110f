// Provider-chain edge cases over real HTTP (the official SDKs against test/llm-server): keys a provider echoes
// back, credentials in endpoint URLs, a huge Retry-After, token counts that are not counts, error texts that
// merely say "timed out".
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AutoAgent,
  defineAgent,
  LlmChain,
  LlmChainError,
  loadSettings,
  Mesh,
  PROVIDER_NAMES,
  type ProviderName,
  resetCooldowns,
} from '../src/index.js';
import { useLlmSuite } from './helpers/llm-suite.js';

const KEYS: Record<ProviderName, string> = {
  claude: 'sk-ant-hardening-claude-key-0123456789',
  vllm: 'vllm-hardening-key-0123456789',
  azure: 'azure-hardening-key-0123456789abcdef',
  gemini: 'gemini-hardening-key-0123456789',
};
const PASSWORD = 'hunter2-url-password';

const suite = useLlmSuite('hardening');

function env(order: readonly ProviderName[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    LLM_PROVIDER_ORDER: order.join(','),
    LLM_TIMEOUT: '5',
    LLM_MAX_RETRIES: '0',
    CLAUDE_API_KEY: KEYS.claude,
    CLAUDE_ENDPOINT: suite.server.anthropicBaseUrl,
    CLAUDE_MODEL: 'claude-sonnet-4-6',
    LLM_ENDPOINT: suite.server.url,
    LLM_MODEL: 'qwen2.5-coder-32b',
    LLM_API_KEY: KEYS.vllm,
    AZURE_API_KEY: KEYS.azure,
    AZURE_ENDPOINT: suite.server.azureEndpoint,
    AZURE_DEPLOYMENT: 'gpt-4o',
    GEMINI_API_KEY: KEYS.gemini,
    GEMINI_ENDPOINT: suite.server.geminiBaseUrl,
    GEMINI_MODEL: 'gemini-2.5-flash',
    ...extra,
  };
}

const chainFor = (order: readonly ProviderName[], extra: Record<string, string> = {}) =>
  new LlmChain(loadSettings({ env: env(order, extra), envFile: false }), { backoff: { baseMs: 10 } });

const ask = {
  system: 'You are a math expert. Store the answer in `result`.',
  messages: [{ role: 'user' as const, content: 'Calculate 6 * 7' }],
};
const CODE = 'Here you go:\n\n```js\nresult = 6 * 7;\n```\n\nThat is 42.';

/** Every file under a folder, read as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => readFileSync(path, 'utf8'))
    .join('\n');
}

function assertNoSecret(text: string, where: string): void {
  for (const [provider, key] of Object.entries(KEYS))
    assert.ok(!text.includes(key), `${where} holds the ${provider} key`);
  assert.ok(!text.includes(PASSWORD), `${where} holds the URL password`);
}

describe('secrets a provider echoes back', () => {
  const echo = (provider: ProviderName) => ({
    kind: 'error' as const,
    status: 401,
    message: `Incorrect API key provided: ${KEYS[provider]}. You can find your API key at https://example.com/keys.`,
  });

  test('a key in an error body is redacted from the chain error, for all four providers', async () => {
    for (const p of PROVIDER_NAMES) suite.server.script(p, echo(p));
    const err = await chainFor(PROVIDER_NAMES)
      .complete(ask)
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(err instanceof LlmChainError);
    assertNoSecret(err.message, 'the error message');
    assertNoSecret(JSON.stringify(err.failures), 'the failures');
    assert.equal(err.failures.length, 4);
    for (const f of err.failures) assert.match(f.message, /Incorrect API key provided: \[redacted\]\. You can find/);
  });

  test('a password in an endpoint URL is redacted', async () => {
    const withPassword = suite.server.url.replace('http://', `http://bob:${PASSWORD}@`);
    const err = await chainFor(['vllm'], { LLM_ENDPOINT: withPassword })
      .complete(ask)
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(err instanceof LlmChainError, String(err));
    assertNoSecret(err.message, 'the error message');
    assert.match(err.message, /\[redacted\]@127\.0\.0\.1/);
  });

  test('envelopes, result logs and workflow state hold no key', async () => {
    const mesh = new Mesh({
      config: {
        ...env(PROVIDER_NAMES),
        LOG_DIRECTORY: suite.logDir,
        SANDBOX_WORKERS: 1,
        SANDBOX_MEMORY_MB: 64,
        REGISTRY_REUSE: false,
      },
    });
    mesh.add(defineAgent({ role: 'calc', systemPrompt: 'You are a math expert. Store the answer in `result`.' }));
    await mesh.start();
    try {
      for (const p of PROVIDER_NAMES) suite.server.respond(p, () => echo(p));
      const task = await (mesh.getAgent('calc') as AutoAgent).executeTask({ task: 'Calculate 6 * 7' });
      assert.equal(task.errorCategory, 'llm');
      assert.match(task.error ?? '', /\[redacted\]/);
      assertNoSecret(JSON.stringify(task), 'the envelope');
      resetCooldowns();
      const [step] = await mesh.workflow('echoed-keys', [{ id: 'calc', agent: 'calc', task: 'Calculate 6 * 7' }], {
        fresh: true,
      });
      assert.equal(step?.errorCategory, 'llm');
      assertNoSecret(JSON.stringify(step), 'the workflow envelope');

      // And a reply whose usage block is not counts: the envelope's cost is unknown and its tokens marked.
      for (const p of PROVIDER_NAMES) suite.server.respond(p, null);
      resetCooldowns();
      suite.server.script('claude', {
        kind: 'text',
        text: CODE,
        inputTokens: -5,
        outputTokens: '9' as unknown as number,
      });
      const odd = await (mesh.getAgent('calc') as AutoAgent).executeTask({ task: 'Calculate 6 * 7' });
      assert.equal(odd.output, 42, odd.error ?? '');
      assert.equal(odd.costUsd, null);
      assert.equal(odd.attempts[0]?.tokensEstimated, true);
      assert.ok(odd.tokens.input > 0 && odd.tokens.output > 0);
    } finally {
      await mesh.stop();
    }
    const stored = allText(suite.logDir);
    assert.match(stored, /Incorrect API key provided: \[redacted\]/);
    assertNoSecret(stored, 'the log directory (result logs, workflow state)');
  });
});

describe('provider chain edge cases', () => {
  test('a huge Retry-After cools a provider down for at most 10 x LLM_COOLDOWN', async () => {
    const chain = chainFor(['claude', 'vllm'], { LLM_COOLDOWN: '0.1', LLM_RETRY_MAX_DELAY: '0.5' });
    suite.server.script('claude', { kind: 'error', status: 429, message: 'rate limited', retryAfter: 86_400 });
    suite.server.respond('vllm', () => ({ kind: 'text', text: CODE }));
    assert.equal((await chain.complete(ask)).provider, 'vllm', 'a day-long Retry-After fails over');
    assert.equal((await chain.complete(ask)).provider, 'vllm', 'claude cools down');
    await sleep(1_200);
    suite.server.script('claude', { kind: 'text', text: CODE });
    const back = await chain.complete(ask);
    assert.equal(back.provider, 'claude', 'after 10 x LLM_COOLDOWN (1 s) claude is tried again, not after a day');
  });

  test('token counts that are strings or negative are unknown: estimated, marked, cost null (all four providers)', async () => {
    for (const p of PROVIDER_NAMES) {
      resetCooldowns();
      suite.server.script(p, { kind: 'text', text: CODE, inputTokens: '1200' as unknown as number, outputTokens: -3 });
      const reply = await chainFor([p]).complete(ask);
      assert.equal(reply.provider, p);
      assert.equal(reply.costUsd, null, `${p}: the cost is unknown, not ${String(reply.costUsd)}`);
      assert.equal(reply.tokensEstimated, true, `${p}: the tokens are marked as estimated`);
      for (const n of [reply.tokens.input, reply.tokens.output, reply.tokens.total]) {
        assert.ok(
          Number.isSafeInteger(n) && n > 0,
          `${p}: token counts are positive whole numbers, got ${JSON.stringify(reply.tokens)}`,
        );
      }
      assert.equal(reply.tokens.total, reply.tokens.input + reply.tokens.output);

      suite.server.script(p, { kind: 'text', text: CODE, inputTokens: 30, outputTokens: 2.5 });
      const fractional = await chainFor([p]).complete(ask);
      assert.equal(fractional.costUsd, null, `${p}: a fractional count is not a count`);

      suite.server.script(p, { kind: 'text', text: CODE, inputTokens: 30, outputTokens: 12 });
      const good = await chainFor([p]).complete(ask);
      assert.equal(good.tokensEstimated, false);
      assert.deepEqual(good.tokens, { input: 30, output: 12, total: 42 });
      assert.equal(typeof good.costUsd, 'number');
    }
  });

  test('an error whose text says "timed out" is classified by its status, not its words', async () => {
    for (const p of PROVIDER_NAMES) {
      resetCooldowns();
      suite.server.script(p, { kind: 'error', status: 500, message: 'upstream request timed out' });
      const server500 = (await chainFor([p])
        .complete(ask)
        .then(
          () => null,
          (e: unknown) => e,
        )) as LlmChainError;
      assert.equal(server500.failures[0]?.kind, 'server', p);
      resetCooldowns();
      suite.server.script(p, { kind: 'error', status: 400, message: 'tool call timed out: invalid request' });
      const bad = (await chainFor([p])
        .complete(ask)
        .then(
          () => null,
          (e: unknown) => e,
        )) as LlmChainError;
      assert.equal(bad.failures[0]?.kind, 'bad_request', p);
    }
  });
});
